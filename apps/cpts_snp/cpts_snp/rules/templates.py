"""Availability templates: which slot start times a template yields over a period. Pure; no database."""

from collections.abc import Iterable
from datetime import date, datetime, time, timedelta


def template_slot_starts(
	*,
	weekdays: Iterable[int],
	start_time: time,
	number_of_slots: int,
	slot_duration: int,
	valid_from: date,
	valid_to: date | None,
	window_start: date,
	window_end: date,
) -> list[datetime]:
	"""Start times of the template's slots on the days of [window_start, window_end] it is valid on.

	weekdays: 0 = Monday … 6 = Sunday. Slots follow each other without a gap.
	"""
	days = set(weekdays)
	first = max(valid_from, window_start)
	last = min(valid_to, window_end) if valid_to else window_end
	starts = []
	day = first
	while day <= last:
		if day.weekday() in days:
			start = datetime.combine(day, start_time)
			starts.extend(start + timedelta(minutes=i * slot_duration) for i in range(number_of_slots))
		day += timedelta(days=1)
	return starts


def ends_same_day(start_time: time, number_of_slots: int, slot_duration: int) -> bool:
	start = datetime.combine(date(2000, 1, 1), start_time)
	return (start + timedelta(minutes=number_of_slots * slot_duration)).date() == start.date() or (
		start + timedelta(minutes=number_of_slots * slot_duration)
	) == datetime(2000, 1, 2)
