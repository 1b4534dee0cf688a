"""Couverture territoriale: slots made available per sector, weekday and starting hour over a period, so the
coordinator sees the holes in the territory's coverage.

One row per sector and weekday (Monday first), even when empty; one column per hour from 08h to 20h (a slot
counts in the hour it starts), a column for slots starting outside 08h-20h when there are any, and a total.
Slots of professionals without a sector get rows of their own when there are any. One GROUP BY query."""

from collections import defaultdict

import frappe
from frappe import _
from frappe.query_builder import CustomFunction, DatePart
from frappe.query_builder.functions import Count, Extract
from frappe.utils import add_days, cint, getdate, today

from cpts_snp.agenda.report.figures import CANCELLED, day_bounds, weekday_label

FIRST_HOUR, LAST_HOUR = 8, 20  # columns 08h … 19h: slots starting from 08:00 to 19:59
HOURS = range(FIRST_HOUR, LAST_HOUR)
DEFAULT_DAYS = 28

Weekday = CustomFunction("WEEKDAY", ["date"])  # MariaDB: 0 = Monday … 6 = Sunday


def execute(filters=None):
	filters = frappe._dict(filters or {})
	from_date = getdate(filters.from_date or today())
	to_date = getdate(filters.to_date or add_days(from_date, DEFAULT_DAYS - 1))
	if to_date < from_date:
		frappe.throw(_("The end of the period cannot be before its start"))

	cells = coverage_cells(from_date, to_date, filters.sector)
	sectors = (
		[filters.sector] if filters.sector else frappe.get_all("SNP Sector", order_by="name", pluck="name")
	)
	if any(sector is None for sector, _weekday, _column in cells):
		sectors.append(None)
	columns = get_columns(has_outside=any(column == "outside" for _sector, _weekday, column in cells))
	counted = [c["fieldname"] for c in columns if c["fieldname"] not in ("sector", "weekday", "total")]

	data = []
	for sector in sectors:
		for weekday in range(7):
			row = {"sector": sector or _("No sector"), "weekday": weekday_label(weekday)}
			for field in counted:
				row[field] = cells.get((sector, weekday, field), 0)
			row["total"] = sum(row[field] for field in counted)
			data.append(row)
	return columns, data


def hour_field(hour: int) -> str:
	return f"h{hour:02d}"


def get_columns(has_outside: bool) -> list[dict]:
	columns = [
		{"fieldname": "sector", "label": _("Sector"), "fieldtype": "Data", "width": 160},
		{"fieldname": "weekday", "label": _("Weekday"), "fieldtype": "Data", "width": 100},
	]
	columns += [
		{
			"fieldname": hour_field(hour),
			"label": _("{0}h").format(f"{hour:02d}"),
			"fieldtype": "Int",
			"width": 60,
		}
		for hour in HOURS
	]
	if has_outside:
		columns.append(
			{"fieldname": "outside", "label": _("Outside 08h-20h"), "fieldtype": "Int", "width": 120}
		)
	columns.append({"fieldname": "total", "label": _("Total"), "fieldtype": "Int", "width": 80})
	return columns


def coverage_cells(from_date, to_date, sector: str | None = None) -> dict[tuple, int]:
	"""{(sector, weekday, column): slots made available} over [from_date, to_date]; the column is the hour the
	slot starts in (h08 … h19) or "outside"."""
	start, end = day_bounds(from_date, to_date)
	Slot = frappe.qb.DocType("SNP Slot")
	weekday = Weekday(Slot.starts_at)
	hour = Extract(DatePart.hour, Slot.starts_at)
	query = (
		frappe.qb.from_(Slot)
		.select(Slot.sector, weekday.as_("weekday"), hour.as_("hour"), Count(Slot.name).as_("slots"))
		.where(Slot.starts_at >= start)
		.where(Slot.starts_at < end)
		.where(Slot.status != CANCELLED)
		.groupby(Slot.sector, weekday, hour)
	)
	if sector:
		query = query.where(Slot.sector == sector)
	cells = defaultdict(int)
	for row in query.run(as_dict=True):
		hour = cint(row.hour)
		column = hour_field(hour) if FIRST_HOUR <= hour < LAST_HOUR else "outside"
		cells[row.sector or None, cint(row.weekday), column] += cint(row.slots)
	return dict(cells)
