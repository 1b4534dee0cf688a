"""The coordination's answers to a person's requests about his data (RGPD): the buttons of the form « Demande
RGPD » (SNP Data Subject Request). Each method checks the coordination's role first (the télésecrétariat, finance,
doctors and partners are refused and nothing is written) and runs in one transaction (cpts_snp.services.privacy)."""

import frappe
from frappe import _
from frappe.utils import cint

from cpts_snp.api import endpoint
from cpts_snp.exceptions import DataRequestError
from cpts_snp.services import privacy


@frappe.whitelist(methods=["POST"])
@endpoint
def search(request: str) -> dict:
	"""« Rechercher les données »: list the person's records on the request; {doctype: count}."""
	privacy.ensure_coordination()
	return privacy.search(request)


@frappe.whitelist(methods=["POST"])
@endpoint
def export_json(request: str) -> str:
	"""« Exporter (JSON) »: the person's data as a JSON file attached (private) to the request; its URL."""
	privacy.ensure_coordination()
	return privacy.export(request, "json")


@frappe.whitelist(methods=["POST"])
@endpoint
def export_pdf(request: str) -> str:
	"""« Exporter (PDF) »: the same as a PDF file attached (private) to the request; its URL."""
	privacy.ensure_coordination()
	return privacy.export(request, "pdf")


@frappe.whitelist(methods=["POST"])
@endpoint
def erase(request: str, confirm=None) -> dict:
	"""« Effacer les données » (after a confirmation: `confirm` = 1): anonymise and delete the person's data;
	{doctype: count} of the records erased."""
	privacy.ensure_coordination()
	if not cint(confirm):
		frappe.throw(_("Confirm the erasure of the data: it cannot be undone"), DataRequestError)
	return privacy.erase(request)
