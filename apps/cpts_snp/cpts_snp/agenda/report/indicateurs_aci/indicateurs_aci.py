"""Indicateurs ACI: the figures of the access-to-care mission the CPTS reports to the CPAM for one year, each with
its unit, the rule used and the ACI text it answers. The definitions and the computation live in
cpts_snp.services.aci; the PDF is cpts_snp.api.aci.download_pdf."""

import frappe
from frappe import _
from frappe.utils import cint, escape_html, getdate

from cpts_snp.services import aci


def execute(filters=None):
	filters = frappe._dict(filters or {})
	year = cint(filters.year) or getdate().year - 1
	return get_columns(), aci.rows(year), None, None, get_summary(year)


def get_columns() -> list[dict]:
	return [
		{"fieldname": "mission", "label": _("Mission"), "fieldtype": "Data", "width": 220},
		{"fieldname": "indicator", "label": _("Indicator"), "fieldtype": "Data", "width": 300},
		{"fieldname": "value", "label": _("Value"), "fieldtype": "Data", "width": 120},
		{"fieldname": "unit", "label": _("Unit"), "fieldtype": "Data", "width": 110},
		{"fieldname": "definition", "label": _("Definition"), "fieldtype": "Data", "width": 420},
		{"fieldname": "source", "label": _("Source (ACI text)"), "fieldtype": "Data", "width": 320},
	]


def get_summary(year: int) -> list[dict]:
	return [
		{"label": _("CPTS"), "value": escape_html(aci.cpts_name()), "datatype": "Data"},
		{"label": _("Year"), "value": str(year), "datatype": "Data"},
	]
