"""Endpoints of the telesecretariat desk page. Every call runs with the caller's own permissions."""

import frappe

from cpts_snp.api import endpoint, json_argument
from cpts_snp.services.booking import PATIENT_FIELDS
from cpts_snp.services.telesecretariat import book_and_log_call, find_free_slots, log_call


def _as_dict(value) -> dict:
	return json_argument(value, dict, "call")


@frappe.whitelist()
@endpoint
def search_slots(query: str | None = None) -> dict:
	"""Next free slots within the booking horizon, for a commune, postal code or sector typed by the caller."""
	return find_free_slots(query)


@frappe.whitelist(methods=["POST"])
@endpoint
def book(slot: str, patient, call=None, reason: str | None = None, regulated=None) -> dict:
	"""Book a slot and log the call in one action."""
	patient = {k: v for k, v in json_argument(patient, dict, "patient").items() if k in PATIENT_FIELDS}
	if regulated is not None:
		regulated = frappe.utils.cint(regulated)
	booking, call_doc = book_and_log_call(slot, patient, _as_dict(call), reason=reason, regulated=regulated)
	return {
		"booking": booking.name,
		"call": call_doc.name,
		"supplement_note": booking.supplement_note,
		"professional_name": booking.professional_name,
		"slot_start": booking.slot_start,
	}


@frappe.whitelist(methods=["POST"])
@endpoint
def log_call_without_booking(call, outcome: str) -> str:
	"""Log a call that ended with advice, a referral or no slot."""
	return log_call(_as_dict(call), outcome).name
