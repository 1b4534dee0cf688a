from datetime import date, datetime, time

import pytest

from cpts_snp.rules.pdsa import PdsaSchedule, is_pdsa, is_public_holiday

DEFAULT = PdsaSchedule()
# 2026-12-01 is a Tuesday; 2026-12-05 a Saturday; 2026-12-06 a Sunday.


@pytest.mark.parametrize(
	"moment, expected",
	[
		(datetime(2026, 12, 1, 19, 59), False),
		(datetime(2026, 12, 1, 20, 0), True),
		(datetime(2026, 12, 1, 23, 30), True),
		(datetime(2026, 12, 2, 7, 59), True),
		(datetime(2026, 12, 2, 8, 0), False),
		(datetime(2026, 12, 2, 12, 0), False),
	],
)
def test_weekday_nights_from_20h_to_8h_are_pdsa(moment, expected):
	assert is_pdsa(moment, DEFAULT) is expected


def test_saturday_is_pdsa_from_noon():
	assert not is_pdsa(datetime(2026, 12, 5, 11, 59), DEFAULT)
	assert is_pdsa(datetime(2026, 12, 5, 12, 0), DEFAULT)
	assert is_pdsa(datetime(2026, 12, 5, 7, 30), DEFAULT)  # end of Friday night


def test_regions_starting_saturday_pdsa_at_14h():
	schedule = PdsaSchedule(saturday_start=time(14, 0))
	assert not is_pdsa(datetime(2026, 12, 5, 13, 0), schedule)
	assert is_pdsa(datetime(2026, 12, 5, 14, 0), schedule)


def test_sunday_is_pdsa_all_day_and_monday_morning_until_8h():
	assert is_pdsa(datetime(2026, 12, 6, 10, 0), DEFAULT)
	assert is_pdsa(datetime(2026, 12, 7, 7, 0), DEFAULT)
	assert not is_pdsa(datetime(2026, 12, 7, 9, 0), DEFAULT)


@pytest.mark.parametrize("day", [date(2026, 12, 25), date(2027, 1, 1), date(2027, 5, 6), date(2027, 7, 14)])
def test_french_public_holidays_are_pdsa_all_day(day):
	assert is_public_holiday(day)
	assert is_pdsa(datetime.combine(day, time(10, 0)), DEFAULT)


def test_the_day_after_a_holiday_is_an_ordinary_day():
	assert not is_pdsa(datetime(2026, 12, 28, 10, 0), DEFAULT)


def test_bridge_days_are_pdsa_only_when_the_regional_schedule_adds_them():
	friday_after_ascension = date(2027, 5, 7)
	moment = datetime.combine(friday_after_ascension, time(10, 0))
	assert not is_pdsa(moment, DEFAULT)
	assert is_pdsa(moment, PdsaSchedule(bridge_days=frozenset({friday_after_ascension})))
