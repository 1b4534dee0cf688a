"""Activité des partenaires: per territorial partner over a period (appointments starting in it), the
bookings its users made, consultations honoured, no-shows (and the no-show rate), cancellations.

One row per partner, including partners without a booking in the period. One GROUP BY query for the
bookings and one for the partners."""

import frappe
from frappe import _
from frappe.utils import add_days, cint, getdate, today

from cpts_snp.agenda.report.figures import CANCELLED, HONOURED, NO_SHOW, count_if, day_bounds, percentage

DEFAULT_DAYS = 28


def execute(filters=None):
	filters = frappe._dict(filters or {})
	to_date = getdate(filters.to_date or today())
	from_date = getdate(filters.from_date or add_days(to_date, 1 - DEFAULT_DAYS))
	if to_date < from_date:
		frappe.throw(_("The end of the period cannot be before its start"))
	partner_filters = {"partner_type": filters.partner_type} if filters.partner_type else {}
	partners = frappe.get_list(
		"SNP Partner",
		filters=partner_filters,
		fields=["name", "partner_type", "access_level"],
		order_by="name asc",
		limit_page_length=0,
	)
	activity = partner_activity(from_date, to_date, [p.name for p in partners])
	data = []
	for partner in partners:
		counts = activity.get(partner.name, {})
		honoured, no_shows = cint(counts.get("honoured")), cint(counts.get("no_shows"))
		data.append(
			{
				"partner": partner.name,
				"partner_type": _(partner.partner_type),
				"access_level": _(partner.access_level),
				"bookings": cint(counts.get("bookings")),
				"honoured": honoured,
				"no_shows": no_shows,
				"cancelled": cint(counts.get("cancelled")),
				"no_show_rate": percentage(no_shows, honoured + no_shows),
			}
		)
	return get_columns(), data


def get_columns() -> list[dict]:
	return [
		{
			"fieldname": "partner",
			"label": _("Partner"),
			"fieldtype": "Link",
			"options": "SNP Partner",
			"width": 240,
		},
		{"fieldname": "partner_type", "label": _("Partner type"), "fieldtype": "Data", "width": 170},
		{"fieldname": "access_level", "label": _("Access level"), "fieldtype": "Data", "width": 150},
		{"fieldname": "bookings", "label": _("Bookings"), "fieldtype": "Int", "width": 110},
		{"fieldname": "honoured", "label": _("Consultations done"), "fieldtype": "Int", "width": 150},
		{"fieldname": "no_shows", "label": _("No-shows"), "fieldtype": "Int", "width": 110},
		{"fieldname": "cancelled", "label": _("Cancelled"), "fieldtype": "Int", "width": 110},
		{"fieldname": "no_show_rate", "label": _("No-show rate (%)"), "fieldtype": "Percent", "width": 130},
	]


def partner_activity(from_date, to_date, partners: list[str]) -> dict[str, dict]:
	"""{partner: {bookings (not cancelled), honoured, no_shows, cancelled}} for appointments in the period."""
	if not partners:
		return {}
	start, end = day_bounds(from_date, to_date)
	Booking = frappe.qb.DocType("SNP Booking")
	rows = (
		frappe.qb.from_(Booking)
		.select(
			Booking.partner,
			count_if(Booking.status != CANCELLED).as_("bookings"),
			count_if(Booking.status == HONOURED).as_("honoured"),
			count_if(Booking.status == NO_SHOW).as_("no_shows"),
			count_if(Booking.status == CANCELLED).as_("cancelled"),
		)
		.where(Booking.partner.isin(partners))
		.where(Booking.slot_start >= start)
		.where(Booking.slot_start < end)
		.groupby(Booking.partner)
		.run(as_dict=True)
	)
	return {row.partner: row for row in rows}
