"""Definitions shared by the coordinator's reports and number cards, so every figure means the same everywhere.

- A slot is *made available* when its status is not Cancelled (Available, Booked, Honoured, No-show), counted
  in the month (or hour) of its start.
- A *booking* is an SNP Booking that is not Cancelled, counted at the start of its slot (`slot_start`).
- A *consultation done* is a booking Honoured; a *no-show* a booking No-show.
- Fill rate = bookings / slots made available; no-show rate = no-shows / (honoured + no-shows). Both are
  percentages rounded to one decimal, and empty (None) when there is nothing to divide by.
"""

from datetime import date, datetime, timedelta

from frappe import _
from frappe.query_builder import Case
from frappe.query_builder.functions import Sum

CANCELLED = "Cancelled"
HONOURED = "Honoured"
NO_SHOW = "No-show"


def month_label(month: int) -> str:
	"""Name of month 1…12 in the user's language."""
	return (
		_("January"),
		_("February"),
		_("March"),
		_("April"),
		_("May"),
		_("June"),
		_("July"),
		_("August"),
		_("September"),
		_("October"),
		_("November"),
		_("December"),
	)[month - 1]


def weekday_label(weekday: int) -> str:
	"""Name of weekday 0 (Monday) … 6 (Sunday) in the user's language."""
	return (
		_("Monday"),
		_("Tuesday"),
		_("Wednesday"),
		_("Thursday"),
		_("Friday"),
		_("Saturday"),
		_("Sunday"),
	)[weekday]


def percentage(part, whole) -> float | None:
	"""`part` / `whole` in percent, one decimal; None when `whole` is zero."""
	if not whole:
		return None
	return round(100.0 * part / whole, 1)


def count_if(condition):
	"""SUM(CASE WHEN condition THEN 1 ELSE 0 END): how many rows of the group meet `condition`."""
	return Sum(Case().when(condition, 1).else_(0))


def day_bounds(from_date: date, to_date: date) -> tuple[datetime, datetime]:
	"""Datetimes of a period of whole days, `to_date` included: [from 00:00, day after to_date 00:00)."""
	start = datetime.combine(from_date, datetime.min.time())
	end = datetime.combine(to_date + timedelta(days=1), datetime.min.time())
	return start, end


def month_bounds(day: date) -> tuple[datetime, datetime]:
	"""First instant of the month holding `day`, and of the next month."""
	start = datetime(day.year, day.month, 1)
	end = datetime(day.year + 1, 1, 1) if day.month == 12 else datetime(day.year, day.month + 1, 1)
	return start, end
