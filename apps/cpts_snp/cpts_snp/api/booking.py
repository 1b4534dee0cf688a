"""Whitelisted booking endpoints (desk forms today; the telesecretariat page and the portal call the same
service). Every call runs with the caller's own permissions."""

import frappe
from frappe import _

from cpts_snp.api import endpoint
from cpts_snp.services.booking import book_slot, patient_details


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
def cancel(booking: str, reason: str) -> dict:
	"""Cancel a booking with a reason; the slot is offered again when it is still to come."""
	doc = frappe.get_doc("SNP Booking", booking)
	doc.status = "Cancelled"
	doc.cancellation_reason = reason
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
