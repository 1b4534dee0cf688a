"""Whitelisted booking endpoints (desk forms today; the telesecretariat page and the portal call the same
service). Every call runs with the caller's own permissions."""

import frappe
from frappe import _
from frappe.utils import add_days, cint, get_datetime, getdate, now_datetime

from cpts_snp.api import endpoint
from cpts_snp.services.booking import book_slot, close_to_rebook, move_booking, patient_details


@frappe.whitelist(methods=["POST"])
@endpoint
def book(
	slot: str,
	patient_last_name: str,
	patient_first_name: str,
	patient_date_of_birth: str,
	patient_phone: str | None = None,
	patient_email: str | None = None,
	reason: str | None = None,
	channel: str = "Telesecretariat",
) -> dict:
	"""Book a free slot for a patient; refused with a clear message when the slot was taken meanwhile."""
	patient = patient_details(
		patient_last_name, patient_first_name, patient_date_of_birth, patient_phone, patient_email
	)
	booking = book_slot(slot, patient, reason=reason, channel=channel)
	return {"name": booking.name, "slot": booking.slot, "status": booking.status}


@frappe.whitelist(methods=["POST"])
@endpoint
def cancel(booking: str, reason: str, by_doctor: int = 0) -> dict:
	"""Cancel a booking with a reason; the slot is offered again when it is still to come. `by_doctor`: the
	doctor asked for it (the patient is told and the booking goes on the « à replacer » list)."""
	doc = frappe.get_doc("SNP Booking", booking)
	doc.status = "Cancelled"
	doc.cancellation_reason = reason
	if cint(by_doctor):
		doc.flags.cancelled_by = "Doctor"
	doc.save()
	return {"name": doc.name, "status": doc.status}


@frappe.whitelist(methods=["POST"])
@endpoint
def record_outcome(booking: str, status: str) -> dict:
	"""Mark a booking honoured or no-show once the consultation time has come."""
	if status not in ("Honoured", "No-show"):
		frappe.throw(_("Unknown outcome: {0}").format(status))
	doc = frappe.get_doc("SNP Booking", booking)
	doc.status = status
	doc.save()
	return {"name": doc.name, "status": doc.status}


@frappe.whitelist(methods=["POST"])
@endpoint
def move(booking: str, slot: str, reason: str | None = None) -> dict:
	"""Move a booking to another free slot (or rebook a booking its doctor cancelled): see
	services.booking.move_booking. Staff with the write right on bookings."""
	doc = move_booking(booking, slot, reason)
	return {"name": doc.name, "slot": doc.slot, "slot_start": doc.slot_start, "status": doc.status}


@frappe.whitelist(methods=["POST"])
@endpoint
def patient_informed(booking: str, note: str | None = None) -> dict:
	"""« Patient prévenu, pas de nouveau RDV »: the booking leaves the « à replacer » list."""
	doc = close_to_rebook(booking, note)
	return {"name": doc.name, "status": doc.status, "to_rebook": doc.to_rebook}


@frappe.whitelist()
@endpoint
def free_slots_for_move(
	booking: str, sector: str | None = None, from_date: str | None = None, to_date: str | None = None
) -> list[dict]:
	"""The free slots a booking can move to: of `sector` (not given: the booking's; empty: any), from
	`from_date` (default today) to `to_date` (default two days after the booking's day), soonest first; the
	caller's read rights apply."""
	doc = frappe.get_doc("SNP Booking", booking)
	doc.check_permission("write")
	start = max(get_datetime(getdate(from_date)) if from_date else now_datetime(), now_datetime())
	last = getdate(to_date) if to_date else add_days(max(getdate(doc.slot_start), getdate()), 2)
	filters = [
		["status", "=", "Available"],
		["starts_at", ">", start],
		["starts_at", "<", add_days(last, 1)],
		["name", "!=", doc.slot],
	]
	sector = doc.sector if sector is None else sector  # empty: every sector
	if sector:
		filters.append(["sector", "=", sector])
	return frappe.get_list(
		"SNP Slot",
		filters=filters,
		fields=["name", "starts_at", "ends_at", "professional_name", "modality", "location", "sector"],
		order_by="starts_at asc",
		limit_page_length=200,
	)
