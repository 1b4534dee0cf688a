"""Partner API (/api/method/cpts_snp.api.partners.*): free slots, booking, cancelling and the partner's own bookings, for
users of a partner (session or `Authorization: token key:secret`) and staff. Rate-limited per user (the
partner's limit per minute), logged in SNP Partner Access Log. Every call runs with the caller's own
permissions; booking goes through cpts_snp.services.booking.book_slot."""

import frappe
from frappe.utils import add_to_date, cint, get_datetime, now_datetime

from cpts_snp.api import endpoint
from cpts_snp.services import partners
from cpts_snp.services.booking import book_slot, patient_details


def _log(partner, action: str, resource: str, parameters: dict, count: int) -> None:
	if partner:
		partners.log_access(action, resource, parameters, count, partner.name)
		frappe.local.flags.commit = True  # a GET is rolled back otherwise


@frappe.whitelist()
@endpoint
def free_slots(start: str | None = None, end: str | None = None) -> list[dict]:
	"""Free slots starting between `start` (default now) and `end` (default: the booking horizon)."""
	partner = partners.api_caller()
	start_from = get_datetime(start) if start else now_datetime()
	start_to = get_datetime(end) if end else start_from + partners.default_search_horizon()
	slots = partners.free_slots(None, start_from, start_to)
	_log(partner, "Search slots", "SNP Slot", {"start": start, "end": end}, len(slots))
	return slots


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
	patient_of_doctor: int | None = None,
	regulated: int | None = None,
) -> dict:
	"""Book a free slot for a patient: the booking records the partner and its channel (SAS, emergency
	department…); refused when the partner has view-only access or the slot was taken meanwhile. The two
	questions of the SNP supplement: `patient_of_doctor` (the patient is followed by this doctor, default no) and
	`regulated` (a regulated request; default and only possible value from the partner's type, see
	services.partners.apply_partner)."""
	partners.api_caller()
	patient = patient_details(
		patient_last_name, patient_first_name, patient_date_of_birth, patient_phone, patient_email
	)
	request = {
		field: cint(value)
		for field, value in (("patient_of_doctor", patient_of_doctor), ("regulated", regulated))
		if value not in (None, "")
	}
	booking = book_slot(slot, patient, reason=reason, channel="Other", request=request)
	return {
		"name": booking.name,
		"slot": booking.slot,
		"status": booking.status,
		"partner": booking.partner,
		"channel": booking.channel,
		"professional_name": booking.professional_name,
		"slot_start": booking.slot_start,
		"patient_of_doctor": booking.patient_of_doctor,
		"regulated": booking.regulated,
		"supplement_eligible": booking.supplement_eligible,
	}


@frappe.whitelist(methods=["POST"])
@endpoint
def cancel(booking: str, reason: str) -> dict:
	"""Cancel one of the partner's bookings, with the reason (the patient will not come): the slot is offered
	again. Staff cancel any booking their role allows."""
	partner = partners.api_caller()
	doc = partners.cancel_booking(booking, reason, partner)
	_log(partner, "Booking cancelled", f"SNP Booking/{doc.name}", {"reason": reason}, 1)
	return {"name": doc.name, "status": doc.status, "slot": doc.slot}


@frappe.whitelist()
@endpoint
def my_bookings(days: int = 30) -> list[dict]:
	"""The bookings of the caller's partner whose appointment is in the last or next `days` days."""
	partner = partners.api_caller()
	days = min(max(int(days), 1), 366)
	rows = partners.bookings(
		start_from=add_to_date(now_datetime(), days=-days), start_to=add_to_date(now_datetime(), days=days)
	)
	_log(partner, "Read bookings", "SNP Booking", {"days": days}, len(rows))
	return rows
