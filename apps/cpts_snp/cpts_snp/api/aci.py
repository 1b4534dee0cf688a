"""The PDF of the report « Indicateurs ACI » for the CPAM: the coordination, the accountant and the treasurer
(the report's roles) download it; anyone else gets a 403."""

import itertools

import frappe
from frappe import _
from frappe.utils import cint, format_date, today
from frappe.utils.pdf import get_pdf

from cpts_snp.api import endpoint
from cpts_snp.services import aci

TEMPLATE = "cpts_snp/agenda/report/indicateurs_aci/indicateurs_aci_pdf.html"


@frappe.whitelist()
@endpoint
def download_pdf(year=None):
	"""The year's ACI indicators as a PDF (A4 landscape), sent as a download."""
	if not aci.may_run():
		frappe.throw(
			_("The ACI indicators are for the coordination and the finance of the CPTS"),
			frappe.PermissionError,
		)
	year = cint(year) or cint(today()[:4]) - 1
	frappe.local.response.filename = f"indicateurs-aci-{year}.pdf"
	frappe.local.response.filecontent = get_pdf(render_html(year), {"orientation": "Landscape"})
	frappe.local.response.type = "download"


def _shown(value) -> str:
	"""A value as printed: a decimal with a French comma, nothing for an empty percentage."""
	if value is None:
		return ""
	if isinstance(value, float):
		return f"{value:.1f}".replace(".", ",")
	return str(value)


def render_html(year: int) -> str:
	"""The printable page of the year's indicators, grouped by mission."""
	rows = aci.rows(year)
	for row in rows:
		row["shown"] = _shown(row["value"])
	missions = [
		(mission, list(group)) for mission, group in itertools.groupby(rows, key=lambda row: row["mission"])
	]
	return frappe.render_template(
		TEMPLATE,
		{
			"title": _("ACI indicators: access to care"),
			"cpts_name": aci.cpts_name(),
			"year_label": _("Year {0}").format(year),
			"printed_on": _("Printed on {0}").format(format_date(today())),
			"headers": [_("Indicator"), _("Value"), _("Unit"), _("Definition"), _("Source (ACI text)")],
			"missions": missions,
		},
	)
