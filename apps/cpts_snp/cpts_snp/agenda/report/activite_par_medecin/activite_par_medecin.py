"""Activité par médecin: per professional over a period, the slots offered, bookings, consultations done,
no-shows and SNP supplements, the average offered per week and whether it meets the CPTS's weekly target
(SNP Settings: between the minimum and the maximum, both included).

One row per professional with slots or bookings in the period (even only cancelled ones, so a doctor who
withdrew every slot shows with 0 offered). Two GROUP BY queries (slots, bookings) and one for the names."""

import frappe
from frappe import _
from frappe.utils import add_days, cint, getdate, today

from cpts_snp.agenda.report.figures import CANCELLED, HONOURED, NO_SHOW, count_if, day_bounds
from cpts_snp.services.settings import weekly_target

DEFAULT_DAYS = 28
COUNTS = ("offered", "booked", "honoured", "no_shows", "supplements")


def execute(filters=None):
	filters = frappe._dict(filters or {})
	to_date = getdate(filters.to_date or today())
	from_date = getdate(filters.from_date or add_days(to_date, 1 - DEFAULT_DAYS))
	if to_date < from_date:
		frappe.throw(_("The end of the period cannot be before its start"))
	weeks = ((to_date - from_date).days + 1) / 7
	target_min, target_max = weekly_target()

	activity = professional_activity(from_date, to_date)
	professionals = {}
	if activity:
		professionals = {
			pro.name: pro
			for pro in frappe.get_all(
				"SNP Professional",
				filters={"name": ("in", list(activity))},
				fields=["name", "full_name", "sector"],
			)
		}

	data = []
	for professional, counts in activity.items():
		# The target is checked on the average as shown (one decimal), so the two columns never disagree.
		per_week = round(counts["offered"] / weeks, 1)
		pro = professionals.get(professional) or frappe._dict()
		data.append(
			{
				"professional": professional,
				"professional_name": pro.full_name,
				"sector": pro.sector,
				**counts,
				"per_week": per_week,
				"target_met": _("Yes") if target_min <= per_week <= target_max else _("No"),
			}
		)
	data.sort(key=lambda row: ((row["professional_name"] or "").lower(), row["professional"]))
	return get_columns(target_min, target_max), data


def get_columns(target_min: int, target_max: int) -> list[dict]:
	return [
		{
			"fieldname": "professional",
			"label": _("Professional"),
			"fieldtype": "Link",
			"options": "SNP Professional",
			"width": 110,
		},
		{
			"fieldname": "professional_name",
			"label": _("Professional name"),
			"fieldtype": "Data",
			"width": 180,
		},
		{
			"fieldname": "sector",
			"label": _("Sector"),
			"fieldtype": "Link",
			"options": "SNP Sector",
			"width": 130,
		},
		{"fieldname": "offered", "label": _("Slots made available"), "fieldtype": "Int", "width": 120},
		{"fieldname": "booked", "label": _("Bookings"), "fieldtype": "Int", "width": 110},
		{"fieldname": "honoured", "label": _("Consultations done"), "fieldtype": "Int", "width": 150},
		{"fieldname": "no_shows", "label": _("No-shows"), "fieldtype": "Int", "width": 110},
		{"fieldname": "supplements", "label": _("SNP supplements"), "fieldtype": "Int", "width": 130},
		{
			"fieldname": "per_week",
			"label": _("Offered per week"),
			"fieldtype": "Float",
			"precision": 1,
			"width": 130,
		},
		{
			"fieldname": "target_met",
			"label": _("Target met ({0} to {1} a week)").format(target_min, target_max),
			"fieldtype": "Data",
			"width": 170,
		},
	]


def professional_activity(from_date, to_date) -> dict[str, dict]:
	"""{professional: {offered, booked, honoured, no_shows, supplements}} for the professionals with a slot or
	a booking (whatever its status) starting in [from_date, to_date]."""
	start, end = day_bounds(from_date, to_date)
	activity = {}

	Slot = frappe.qb.DocType("SNP Slot")
	slots = (
		frappe.qb.from_(Slot)
		.select(Slot.professional, count_if(Slot.status != CANCELLED).as_("offered"))
		.where(Slot.starts_at >= start)
		.where(Slot.starts_at < end)
		.groupby(Slot.professional)
		.run(as_dict=True)
	)
	for row in slots:
		activity.setdefault(row.professional, dict.fromkeys(COUNTS, 0))["offered"] = cint(row.offered)

	Booking = frappe.qb.DocType("SNP Booking")
	active = Booking.status != CANCELLED
	bookings = (
		frappe.qb.from_(Booking)
		.select(
			Booking.professional,
			count_if(active).as_("booked"),
			count_if(Booking.status == HONOURED).as_("honoured"),
			count_if(Booking.status == NO_SHOW).as_("no_shows"),
			count_if(active & (Booking.supplement_eligible == 1)).as_("supplements"),
		)
		.where(Booking.slot_start >= start)
		.where(Booking.slot_start < end)
		.groupby(Booking.professional)
		.run(as_dict=True)
	)
	for row in bookings:
		activity.setdefault(row.professional, dict.fromkeys(COUNTS, 0)).update(
			booked=cint(row.booked),
			honoured=cint(row.honoured),
			no_shows=cint(row.no_shows),
			supplements=cint(row.supplements),
		)
	return activity
