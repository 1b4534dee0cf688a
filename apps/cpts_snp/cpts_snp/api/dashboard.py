"""Methods of the custom number cards of the workspace « Soins non programmés »: this month's fill rate and
no-show rate, with the definitions of the report « Chiffres clés SNP » (cpts_snp.agenda.report.figures).

Frappe's number card widget calls them with `filters` (unused here) and shows `value` as a percentage; a click
opens the report. `on_date` picks another month than the current one (any day of it)."""

import frappe
from frappe import _
from frappe.query_builder.functions import Count
from frappe.utils import getdate, today

from cpts_snp.agenda.report.figures import CANCELLED, HONOURED, NO_SHOW, count_if, month_bounds, percentage
from cpts_snp.api import endpoint

REPORT = "Chiffres cles SNP"


def _check_permission() -> None:
	"""The key figures are for the CPTS staff (coordination and telesecretariat: who may read calls), not for
	the doctors. The cards point at SNP Call for the same reason: Frappe shows a custom number card to the
	users who can read its document type."""
	if not frappe.has_permission("SNP Call", "read"):
		frappe.throw(_("The key figures are for the CPTS staff"), frappe.PermissionError)


def _card(rate: float | None) -> dict:
	card = {"value": rate or 0, "fieldtype": "Percent"}
	if frappe.get_cached_doc("Report", REPORT).is_permitted():
		# A click on the card opens the report, for those who may open it.
		card["route"] = ["query-report", REPORT]
	return card


@frappe.whitelist()
@endpoint
def fill_rate(filters=None, on_date=None) -> dict:
	"""Bookings (not cancelled) / slots made available (not cancelled) of the month, by slot start."""
	_check_permission()
	start, end = month_bounds(getdate(on_date or today()))
	Slot = frappe.qb.DocType("SNP Slot")
	Booking = frappe.qb.DocType("SNP Booking")
	bookings = (
		frappe.qb.from_(Booking)
		.select(Count(Booking.name))
		.where(Booking.slot_start >= start)
		.where(Booking.slot_start < end)
		.where(Booking.status != CANCELLED)
	)
	slots = (
		frappe.qb.from_(Slot)
		.select(Count(Slot.name))
		.where(Slot.starts_at >= start)
		.where(Slot.starts_at < end)
		.where(Slot.status != CANCELLED)
	)
	row = frappe.qb.select(bookings.as_("bookings"), slots.as_("slots")).run(as_dict=True)[0]
	return _card(percentage(row.bookings, row.slots))


@frappe.whitelist()
@endpoint
def no_show_rate(filters=None, on_date=None) -> dict:
	"""No-shows / (honoured + no-shows) of the month's bookings, by slot start."""
	_check_permission()
	start, end = month_bounds(getdate(on_date or today()))
	Booking = frappe.qb.DocType("SNP Booking")
	row = (
		frappe.qb.from_(Booking)
		.select(
			count_if(Booking.status == HONOURED).as_("honoured"),
			count_if(Booking.status == NO_SHOW).as_("no_shows"),
		)
		.where(Booking.slot_start >= start)
		.where(Booking.slot_start < end)
		.where(Booking.status.isin((HONOURED, NO_SHOW)))
		.run(as_dict=True)[0]
	)
	honoured, no_shows = int(row.honoured or 0), int(row.no_shows or 0)
	return _card(percentage(no_shows, honoured + no_shows))
