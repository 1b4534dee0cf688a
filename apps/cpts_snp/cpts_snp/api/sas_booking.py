"""The SAS booking link's endpoint (/api/method/cpts_snp.api.sas_booking.book), posted by the form of the page
/sas/agenda/<professional> (www/sas/agenda): a session with Frappe's CSRF token, POST only. The rules are in
cpts_snp.services.sas_booking."""

import frappe

from cpts_snp.api import endpoint
from cpts_snp.services import sas_booking


@frappe.whitelist(methods=["POST"])
@endpoint
def book(
	professional: str,
	slot: str,
	patient_last_name: str,
	patient_first_name: str,
	patient_date_of_birth: str,
	origin: str | None = None,
	patient_phone: str | None = None,
	reason: str | None = None,
) -> dict:
	"""Book `slot` of `professional`'s agenda as a regulator coming from the SAS (`origin=sas`): the answer
	names the booking and the address of its confirmation."""
	return sas_booking.book_from_form(
		professional,
		slot,
		origin,
		patient_last_name,
		patient_first_name,
		patient_date_of_birth,
		patient_phone,
		reason,
	)
