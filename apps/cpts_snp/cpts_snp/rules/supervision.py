"""Supervision of SASPAS interns. Pure functions, no database.

- An intern holds a slot only while one of his supervisors (maîtres de stage) has declared himself reachable
  for the whole of it: the union of the supervisors' shifts must cover the slot, from its start to its end.
- The day has two half-days: the morning until 13:00, the afternoon from 13:00. An intern takes at most `cap`
  consultations per half-day (12 by default); supervision half-days are paid to the supervisor.
"""

from datetime import date, datetime, time, timedelta

HALF_DAY_SPLIT = time(13, 0)
MORNING, AFTERNOON = "AM", "PM"
DEFAULT_HALF_DAY_CAP = 12


def half_day_of(moment: datetime) -> tuple[date, str]:
	"""The half-day (day, "AM" or "PM") a moment falls in."""
	return moment.date(), MORNING if moment.time() < HALF_DAY_SPLIT else AFTERNOON


def half_day_bounds(day: date, half: str) -> tuple[datetime, datetime]:
	"""Start (included) and end (excluded) of a half-day."""
	split = datetime.combine(day, HALF_DAY_SPLIT)
	if half == MORNING:
		return datetime.combine(day, time.min), split
	return split, datetime.combine(day + timedelta(days=1), time.min)


def uncovered_part(
	start: datetime, end: datetime, shifts: list[tuple[datetime, datetime]]
) -> tuple[datetime, datetime] | None:
	"""The first stretch of [start, end) that no shift covers, or None when the shifts cover it all.
	Shifts may overlap or follow each other (several supervisors taking turns)."""
	cursor = start
	for shift_start, shift_end in sorted(shifts):
		if shift_end <= cursor:
			continue
		if shift_start > cursor:
			return cursor, min(shift_start, end)
		cursor = shift_end
		if cursor >= end:
			return None
	return (cursor, end) if cursor < end else None


def is_covered(start: datetime, end: datetime, shifts: list[tuple[datetime, datetime]]) -> bool:
	return uncovered_part(start, end, shifts) is None


def within_semester(moment: datetime, semester_start: date, semester_end: date) -> bool:
	return semester_start <= moment.date() <= semester_end


def half_day_cap_reached(already: int, cap: int) -> bool:
	"""Whether one more consultation would exceed the cap of the half-day."""
	return already >= cap


def is_valid_shift(start: datetime, end: datetime) -> bool:
	"""A shift ends after it starts, on the same day (or at the midnight ending it)."""
	return end > start and (
		end.date() == start.date() or end == datetime.combine(start.date() + timedelta(days=1), time.min)
	)


def supervision_half_days(shifts: list[tuple[datetime, datetime]]) -> set[tuple[date, str]]:
	"""The half-days a supervisor is paid for: those with at least part of one shift in them."""
	paid = set()
	for start, end in shifts:
		for half in (MORNING, AFTERNOON):
			half_start, half_end = half_day_bounds(start.date(), half)
			if start < half_end and half_start < end:
				paid.add((start.date(), half))
	return paid
