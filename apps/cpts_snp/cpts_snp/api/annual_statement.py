"""The annual statement of any doctor (PDF), for the coordination and the finance of the CPTS (the button
« Relevé annuel » of the SNP Professional form); anyone else gets a 403. Doctors download their own from the
portal (cpts_snp.api.portal.annual_statement)."""

import frappe
from frappe import _

from cpts_snp.api import endpoint
from cpts_snp.services import annual_statement as statements


@frappe.whitelist(methods=["GET"])
@endpoint
def download_pdf(professional: str, year: int | str) -> None:
	if not statements.may_read_any():
		frappe.throw(
			_("The annual statements of the doctors are for the coordination and the finance of the CPTS"),
			frappe.PermissionError,
		)
	year = statements.check_year(year)
	if not frappe.db.exists("SNP Professional", professional):
		frappe.throw(_("Professional {0} not found").format(professional), frappe.DoesNotExistError)
	frappe.local.response.filename = statements.filename(professional, year)
	frappe.local.response.filecontent = statements.pdf(professional, year)
	frappe.local.response.type = "download"


@frappe.whitelist(methods=["GET"])
@endpoint
def years(professional: str) -> list[int]:
	"""The years in which `professional` was paid indemnities (the form's button offers them)."""
	if not statements.may_read_any():
		frappe.throw(
			_("The annual statements of the doctors are for the coordination and the finance of the CPTS"),
			frappe.PermissionError,
		)
	return statements.years_paid(professional)
