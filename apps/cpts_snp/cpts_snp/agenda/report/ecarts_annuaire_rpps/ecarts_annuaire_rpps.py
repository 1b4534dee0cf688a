"""Écarts avec l'annuaire RPPS: the CPTS's professionals whose RPPS number is absent from the imported national
directory, or whose name or profession differs from it (cpts_snp.services.directory), with what the directory
says. Reads the check stored on each professional, and the current directory's entries in one query."""

import frappe
from frappe import _

from cpts_snp.rules.directory import directory_name
from cpts_snp.services.directory import FLAGGED, NOT_CHECKED, current_import, entries_of

STATUSES = (*FLAGGED, NOT_CHECKED)


def execute(filters=None):
	filters = frappe._dict(filters or {})
	statuses = [filters.status] if filters.status in (*STATUSES, "Match") else list(FLAGGED)
	professionals = frappe.get_list(
		"SNP Professional",
		filters={"directory_status": ["in", statuses]},
		fields=[
			"name",
			"full_name",
			"rpps",
			"profession",
			"status",
			"directory_status",
			"directory_mismatch",
			"directory_checked_on",
		],
		order_by="full_name asc",
	)
	entries = entries_of(p.rpps for p in professionals)
	data = []
	for professional in professionals:
		entry = entries.get(professional.rpps) or {}
		data.append(
			{
				"professional": professional.name,
				"full_name": professional.full_name,
				"rpps": professional.rpps,
				"profession": _(professional.profession) if professional.profession else "",
				"status": _(professional.status) if professional.status else "",
				"directory_status": _(professional.directory_status),
				"directory_mismatch": professional.directory_mismatch,
				"directory_name": " ".join(
					filter(
						None,
						(directory_name(entry.get("first_name")), directory_name(entry.get("last_name"))),
					)
				),
				"directory_profession": entry.get("profession_label"),
				"directory_specialty": entry.get("specialty_label"),
				"directory_city": directory_name(entry.get("city")),
				"directory_checked_on": professional.directory_checked_on,
			}
		)
	return get_columns(), data, _message()


def _message() -> str | None:
	if not current_import():
		return _("The RPPS directory has not been imported yet")
	return None


def get_columns() -> list[dict]:
	return [
		{
			"fieldname": "professional",
			"label": _("Professional"),
			"fieldtype": "Link",
			"options": "SNP Professional",
			"width": 110,
		},
		{"fieldname": "full_name", "label": _("Full name"), "fieldtype": "Data", "width": 180},
		{"fieldname": "rpps", "label": _("RPPS number"), "fieldtype": "Data", "width": 120},
		{"fieldname": "profession", "label": _("Profession"), "fieldtype": "Data", "width": 150},
		{"fieldname": "status", "label": _("Onboarding status"), "fieldtype": "Data", "width": 110},
		{
			"fieldname": "directory_status",
			"label": _("RPPS directory check"),
			"fieldtype": "Data",
			"width": 130,
		},
		{
			"fieldname": "directory_mismatch",
			"label": _("Differences with the directory"),
			"fieldtype": "Data",
			"width": 300,
		},
		{
			"fieldname": "directory_name",
			"label": _("Name in the directory"),
			"fieldtype": "Data",
			"width": 180,
		},
		{
			"fieldname": "directory_profession",
			"label": _("Profession in the directory"),
			"fieldtype": "Data",
			"width": 150,
		},
		{"fieldname": "directory_specialty", "label": _("Specialty"), "fieldtype": "Data", "width": 150},
		{"fieldname": "directory_city", "label": _("City"), "fieldtype": "Data", "width": 120},
		{
			"fieldname": "directory_checked_on",
			"label": _("Checked against the directory on"),
			"fieldtype": "Datetime",
			"width": 150,
		},
	]
