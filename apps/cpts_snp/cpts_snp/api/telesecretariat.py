"""Endpoints of the telesecretariat desk page. Every call runs with the caller's own permissions."""

import frappe

from cpts_snp.api import endpoint, json_argument
from cpts_snp.services import access_audit, callbacks, patients
from cpts_snp.services.booking import PATIENT_FIELDS
from cpts_snp.services.telesecretariat import book_and_log_call, find_free_slots, log_call


def _as_dict(value) -> dict:
	return json_argument(value, dict, "call")


def _check(value) -> int | None:
	return None if value in (None, "") else frappe.utils.cint(value)


@frappe.whitelist()
@endpoint
def search_slots(query: str | None = None) -> dict:
	"""Next free slots within the booking horizon, for a commune, postal code or sector typed by the caller."""
	return find_free_slots(query)


@frappe.whitelist(methods=["POST"])
@endpoint
def book(
	slot: str,
	patient,
	call=None,
	reason: str | None = None,
	regulated=None,
	patient_of_doctor=None,
	callback: str | None = None,
) -> dict:
	"""Book a slot and log the call in one action, with the two questions of the supplement; `callback`: the
	call-back request this booking serves."""
	patient = {k: v for k, v in json_argument(patient, dict, "patient").items() if k in PATIENT_FIELDS}
	if callback:
		frappe.get_doc("SNP Callback", callback).check_permission("write")
	booking, call_doc = book_and_log_call(
		slot,
		patient,
		_as_dict(call),
		reason=reason,
		regulated=_check(regulated),
		patient_of_doctor=_check(patient_of_doctor),
		callback=callback,
	)
	return {
		"booking": booking.name,
		"call": call_doc.name,
		"patient": booking.patient,
		"supplement_note": booking.supplement_note,
		"supplement_eligible": booking.supplement_eligible,
		"professional_name": booking.professional_name,
		"slot_start": booking.slot_start,
	}


@frappe.whitelist(methods=["POST"])
@endpoint
def log_call_without_booking(call, outcome: str) -> str:
	"""Log a call that ended with advice, a referral or no slot."""
	return log_call(_as_dict(call), outcome).name


@frappe.whitelist()
@endpoint
def find_patient(phone=None, last_name=None, first_name=None, date_of_birth=None) -> list:
	"""The patients with this phone, or this name and date of birth, with their SNP bookings and calls of the last
	12 months (staff who may read patients: télésecrétariat, coordination)."""
	frappe.has_permission("SNP Patient", "read", throw=True)
	found = patients.find_patients(
		phone=phone, last_name=last_name, first_name=first_name, date_of_birth=date_of_birth
	)
	access_audit.note_records("SNP Patient", [p.name for p in found], access_audit.SEARCH)
	access_audit.note_records("SNP Booking", [b.name for p in found for b in p.bookings], access_audit.SEARCH)
	access_audit.note_records("SNP Call", [c.name for p in found for c in p.calls], access_audit.SEARCH)
	return found


@frappe.whitelist(methods=["POST"])
@endpoint
def merge_patients(kept: str, duplicate: str) -> dict:
	"""Coordination only: merge the duplicate patient record into the kept one."""
	frappe.has_permission("SNP Patient", "write", throw=True)
	return patients.merge(kept, duplicate)


@frappe.whitelist(methods=["POST"])
@endpoint
def put_on_callback_list(callback, call=None) -> str:
	"""« Aucun créneau »: log the call and put the caller on the call-back list."""
	values = json_argument(callback, dict, "callback")
	return callbacks.put_on_list(values, _as_dict(call) if call else None).name


@frappe.whitelist()
@endpoint
def waiting_callbacks() -> list:
	"""The « Rappels en attente » panel: requests on the list, those a free slot matches first."""
	frappe.has_permission("SNP Callback", "read", throw=True)
	panel = callbacks.desk_panel()
	access_audit.note_records("SNP Callback", [c.name for c in panel])
	return panel


@frappe.whitelist(methods=["POST"])
@endpoint
def drop_callback(callback: str) -> None:
	frappe.get_doc("SNP Callback", callback).check_permission("write")
	callbacks.drop(callback)
