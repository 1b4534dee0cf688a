"""Chiffres clés SNP: the year's activity month by month (calls, slots made available, bookings, consultations
done, no-shows, fill and no-show rates), with a total row and a bar chart.

Three GROUP BY queries for the whole year (calls, slots, bookings); see cpts_snp.agenda.report.figures for the
definitions."""

from datetime import datetime

import frappe
from frappe import _
from frappe.query_builder import DatePart
from frappe.query_builder.functions import Count, Extract
from frappe.utils import cint, getdate

from cpts_snp.agenda.report.figures import (
	CANCELLED,
	HONOURED,
	NO_SHOW,
	count_if,
	month_label,
	percentage,
)

COUNTS = ("calls", "slots", "bookings", "honoured", "no_shows")


def execute(filters=None):
	filters = frappe._dict(filters or {})
	year = cint(filters.year) or getdate().year
	if not 2000 <= year <= 2100:
		frappe.throw(_("The year must be between 2000 and 2100"))
	by_month = monthly_figures(year, filters.sector)
	data = [make_row(month_label(month), by_month[month]) for month in range(1, 13)]
	totals = {key: sum(by_month[month][key] for month in range(1, 13)) for key in COUNTS}
	data.append({**make_row(_("Total"), totals), "bold": 1})
	return get_columns(), data, None, get_chart(data[:12])


def get_columns() -> list[dict]:
	return [
		{"fieldname": "month", "label": _("Month"), "fieldtype": "Data", "width": 120},
		{"fieldname": "calls", "label": _("Calls received"), "fieldtype": "Int", "width": 130},
		{"fieldname": "slots", "label": _("Slots made available"), "fieldtype": "Int", "width": 160},
		{"fieldname": "bookings", "label": _("Bookings"), "fieldtype": "Int", "width": 120},
		{"fieldname": "honoured", "label": _("Consultations done"), "fieldtype": "Int", "width": 160},
		{"fieldname": "no_shows", "label": _("No-shows"), "fieldtype": "Int", "width": 120},
		{"fieldname": "fill_rate", "label": _("Fill rate"), "fieldtype": "Percent", "width": 130},
		{"fieldname": "no_show_rate", "label": _("No-show rate"), "fieldtype": "Percent", "width": 150},
	]


def make_row(label: str, counts: dict) -> dict:
	return {
		"month": label,
		**{key: counts[key] for key in COUNTS},
		"fill_rate": percentage(counts["bookings"], counts["slots"]),
		"no_show_rate": percentage(counts["no_shows"], counts["honoured"] + counts["no_shows"]),
	}


def monthly_figures(year: int, sector: str | None = None) -> dict[int, dict]:
	"""{month (1…12): {calls, slots, bookings, honoured, no_shows}} for `year`, optionally in one sector."""
	start, end = datetime(year, 1, 1), datetime(year + 1, 1, 1)
	figures = {month: dict.fromkeys(COUNTS, 0) for month in range(1, 13)}
	sources = (
		# doctype, the date that puts a record in a month, {count: how it counts}, cancelled ones left out
		("SNP Call", "received_at", {"calls": lambda t: Count(t.name)}, False),
		("SNP Slot", "starts_at", {"slots": lambda t: Count(t.name)}, True),
		(
			"SNP Booking",
			"slot_start",
			{
				"bookings": lambda t: Count(t.name),
				"honoured": lambda t: count_if(t.status == HONOURED),
				"no_shows": lambda t: count_if(t.status == NO_SHOW),
			},
			True,
		),
	)
	for doctype, date_field, counts, without_cancelled in sources:
		table = frappe.qb.DocType(doctype)
		month = Extract(DatePart.month, table[date_field])
		query = (
			frappe.qb.from_(table)
			.select(month.as_("month"), *(count(table).as_(key) for key, count in counts.items()))
			.where(table[date_field] >= start)
			.where(table[date_field] < end)
			.groupby(month)
		)
		if without_cancelled:
			query = query.where(table.status != CANCELLED)
		if sector:
			query = query.where(table.sector == sector)
		for row in query.run(as_dict=True):
			figures[cint(row.month)].update({key: cint(row[key]) for key in counts})
	return figures


def get_chart(rows: list[dict]) -> dict:
	return {
		"data": {
			"labels": [row["month"] for row in rows],
			"datasets": [
				{"name": _("Calls received"), "values": [row["calls"] for row in rows]},
				{"name": _("Slots made available"), "values": [row["slots"] for row in rows]},
				{"name": _("Consultations done"), "values": [row["honoured"] for row in rows]},
			],
		},
		"type": "bar",
		"colors": ["#1c7ed6", "#2f9e44", "#f08c00"],
	}
