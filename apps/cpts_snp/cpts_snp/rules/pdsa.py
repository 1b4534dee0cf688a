"""PDSA hours (permanence des soins ambulatoires): when the regulated out-of-hours service, not the SNP
agenda, covers unscheduled care. Pure functions of dates and the schedule; no database.

PDSA hours are weekday nights (from the evening start to the morning end of the next day), Saturday from
noon (14:00 in some regions), Sundays, French public holidays and the bridge days the regional schedule adds.
A slot is a PDSA slot when its consultation starts during PDSA hours.
"""

from dataclasses import dataclass, field
from datetime import date, datetime, time
from functools import lru_cache

import holidays

SATURDAY, SUNDAY = 5, 6


@dataclass(frozen=True)
class PdsaSchedule:
	evening_start: time = time(20, 0)
	morning_end: time = time(8, 0)
	saturday_start: time = time(12, 0)
	bridge_days: frozenset[date] = field(default_factory=frozenset)


@lru_cache(maxsize=64)
def french_public_holidays(year: int) -> dict[date, str]:
	"""The national public holidays of France for `year` (from the `holidays` library)."""
	return dict(holidays.country_holidays("FR", years=year))


def is_public_holiday(day: date) -> bool:
	return day in french_public_holidays(day.year)


def is_pdsa_all_day(day: date, schedule: PdsaSchedule) -> bool:
	"""Sundays, public holidays and bridge days are PDSA from midnight to midnight."""
	return day.weekday() == SUNDAY or is_public_holiday(day) or day in schedule.bridge_days


def is_pdsa(moment: datetime, schedule: PdsaSchedule) -> bool:
	"""True when `moment` falls in PDSA hours."""
	day, hour = moment.date(), moment.time()
	if is_pdsa_all_day(day, schedule):
		return True
	if hour < schedule.morning_end:  # the end of the night that began the evening before
		return True
	if day.weekday() == SATURDAY:
		return hour >= schedule.saturday_start
	return hour >= schedule.evening_start
