"""Data Import of the CPTS's records (professionals, sectors, places of practice, availability templates,
partners) through Frappe's Data Import: the coordination imports (fixtures/custom_docperm.json gives it Data
Import), each doctype only with its « import » permission.

Frappe's Data Import checks the create permission of each row only; `check_import_permission` (validate of
every Data Import, hooks.py) also asks the import permission of the doctype. Imported rows go through the
controllers: server-owned fields, the onboarding workflow (a new professional starts « Candidate ») and each
validation (a bad RPPS or IBAN fails its row with its French message, the others are imported)."""

import frappe
from frappe import _

from cpts_snp.api import endpoint

# The doctypes the CPTS imports, and the columns of their French import template (parent fields, then
# child-table fields by table field)
TEMPLATES = {
	"SNP Professional": {
		"SNP Professional": [
			"last_name",
			"first_name",
			"rpps",
			"adeli",
			"profession",
			"is_supervisor",
			"email",
			"phone",
			"sector",
			"place",
			"iban",
			"bic",
		],
		"sectors": ["sector"],
	},
	"SNP Sector": {
		"SNP Sector": ["sector_name", "insee_code", "postal_code", "communes"],
		"neighbours": ["sector"],
	},
	"SNP Place": {
		"SNP Place": [
			"place_name",
			"address_line",
			"postal_code",
			"city",
			"phone",
			"sector",
			"active",
			"finess",
			"siret",
		],
	},
	"SNP Availability Template": {
		"SNP Availability Template": [
			"professional",
			"enabled",
			"monday",
			"tuesday",
			"wednesday",
			"thursday",
			"friday",
			"saturday",
			"sunday",
			"start_time",
			"number_of_slots",
			"slot_duration",
			"modality",
			"place",
			"valid_from",
			"valid_to",
		],
	},
	"SNP Partner": {
		"SNP Partner": [
			"partner_name",
			"partner_type",
			"access_level",
			"finess",
			"siret",
			"active_from",
			"active_to",
			"contact_name",
			"contact_email",
			"contact_phone",
		],
		"users": ["user", "rpps"],
	},
}


def check_import_permission(doc, method=None) -> None:
	"""validate of Data Import: the user may import this doctype (its « import » permission)."""
	if doc.reference_doctype and not frappe.permissions.can_import(doc.reference_doctype):
		frappe.throw(
			_("You are not allowed to import {0}").format(_(doc.reference_doctype)), frappe.PermissionError
		)


def template_fields(doctype: str, with_name: bool = False) -> dict:
	"""The export_fields of the French import template of `doctype` (Frappe's exporter), with the ID columns
	when the template is to update existing records."""
	fields = TEMPLATES[doctype]
	if not with_name:
		return {key: list(columns) for key, columns in fields.items()}
	return {key: ["name", *columns] for key, columns in fields.items()}


@frappe.whitelist()
@endpoint
def download_template(doctype: str, with_records: int = 0, file_type: str = "CSV") -> None:
	"""The French import template of an importable doctype (column labels in the user's language), empty or
	with the existing records (to update them)."""
	from frappe.core.doctype.data_import.data_import import download_template as frappe_download_template

	if doctype not in TEMPLATES:
		frappe.throw(_("No import template for {0}").format(_(doctype)))
	frappe.permissions.can_import(doctype, raise_exception=True)
	with_records = frappe.utils.cint(with_records)
	frappe_download_template(
		doctype,
		export_fields=template_fields(doctype, with_name=bool(with_records)),
		export_records="all" if with_records else "blank_template",
		file_type="Excel" if file_type == "Excel" else "CSV",
	)
