"""Couverture des permanences: the one-hour blocks of the coming weeks the teleconsultation rota should cover
(8-9 h and 18-20 h by default) and that no permanence with a doctor on duty covers yet, consecutive hours merged."""

import frappe
from frappe import _
from frappe.utils import cint, format_datetime, getdate, today

from cpts_snp.agenda.report.figures import weekday_label
from cpts_snp.rules.permanences import parse_hours
from cpts_snp.services.permanences import coverage

DEFAULT_WEEKS = 4


def execute(filters=None):
	filters = frappe._dict(filters or {})
	first_day = getdate(filters.from_date or today())
	weeks = cint(filters.weeks) or DEFAULT_WEEKS
	try:
		hours = parse_hours(filters.hours)
	except ValueError:
		frappe.throw(_("Hours to cover: write them like « 8, 18-20 »"))
	columns = [
		{"fieldname": "day", "label": _("Day"), "fieldtype": "Date", "width": 110},
		{"fieldname": "weekday", "label": _("Weekday"), "fieldtype": "Data", "width": 100},
		{"fieldname": "starts", "label": _("From"), "fieldtype": "Data", "width": 80},
		{"fieldname": "ends", "label": _("To"), "fieldtype": "Data", "width": 80},
		{"fieldname": "hours", "label": _("Hours"), "fieldtype": "Float", "precision": 1, "width": 80},
	]
	data = [
		{
			"day": start.date(),
			"weekday": weekday_label(start.weekday()),
			"starts": format_datetime(start, "HH:mm"),
			"ends": format_datetime(end, "HH:mm"),
			"hours": (end - start).total_seconds() / 3600,
		}
		for start, end in coverage(first_day, 7 * weeks, hours)
	]
	summary = [
		{
			"value": len(data),
			"label": _("Uncovered blocks"),
			"datatype": "Int",
			"indicator": "Red" if data else "Green",
		},
		{"value": sum(r["hours"] for r in data), "label": _("Hours to cover"), "datatype": "Float"},
	]
	return columns, data, None, None, summary
