"""The SAS booking link: a regulator coming from the national SAS platform opens a doctor's agenda page of the
CPTS (the URL every FHIR Slot carries in `Slot.comment`, guide ans.fhir.fr.sas, FAQ « Quelle URL doit être
transmise dans l'élément comment ? »: the doctor's agenda, not the slot) and books one of his slots in two steps.
"""

from urllib.parse import quote

import frappe
from frappe.utils import get_url

AGENDA_PATH = "/sas/agenda/"


def booking_base_url() -> str:
	"""SNP Settings `booking_base_url` (the public address of the booking pages), or the site's URL."""
	base = ""
	if frappe.get_meta("SNP Settings").has_field("booking_base_url"):
		base = (frappe.db.get_single_value("SNP Settings", "booking_base_url") or "").strip()
	return (base or get_url()).rstrip("/")


def agenda_url(professional: str) -> str:
	"""The address of `professional`'s agenda page (an SNP Professional name), for `Slot.comment`: the SAS
	platform adds `origin=sas` (and maybe other parameters) when it sends a regulator there."""
	return f"{booking_base_url()}{AGENDA_PATH}{quote(professional, safe='')}"
