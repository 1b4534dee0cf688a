from datetime import date, datetime

from cpts_snp.rules.supervision import (
	half_day_bounds,
	half_day_cap_reached,
	half_day_of,
	is_covered,
	is_valid_shift,
	supervision_half_days,
	uncovered_part,
)


def at(hour, minute=0, day=1):
	return datetime(2026, 12, day, hour, minute)


def test_a_slot_inside_one_shift_is_covered():
	assert is_covered(at(10), at(10, 20), [(at(9), at(12))])


def test_a_slot_partly_outside_the_shift_is_not_covered_and_the_gap_is_given():
	assert uncovered_part(at(11, 50), at(12, 10), [(at(9), at(12))]) == (at(12), at(12, 10))
	assert uncovered_part(at(8, 50), at(9, 10), [(at(9), at(12))]) == (at(8, 50), at(9))


def test_shifts_of_two_supervisors_taking_turns_cover_a_slot_across_them():
	assert is_covered(at(11, 50), at(12, 10), [(at(12), at(14)), (at(9), at(12))])
	assert not is_covered(at(11, 50), at(12, 10), [(at(9), at(12)), (at(12, 5), at(14))])


def test_no_shift_means_no_cover():
	assert uncovered_part(at(10), at(10, 20), []) == (at(10), at(10, 20))


def test_the_day_splits_into_half_days_at_one_pm():
	assert half_day_of(at(12, 59)) == (date(2026, 12, 1), "AM")
	assert half_day_of(at(13)) == (date(2026, 12, 1), "PM")
	assert half_day_bounds(date(2026, 12, 1), "PM") == (at(13), at(0, day=2))


def test_the_cap_is_reached_at_the_cap():
	assert not half_day_cap_reached(11, 12)
	assert half_day_cap_reached(12, 12)


def test_a_shift_ends_after_it_starts_on_the_same_day():
	assert is_valid_shift(at(9), at(12))
	assert is_valid_shift(at(20), at(0, day=2))
	assert not is_valid_shift(at(12), at(9))
	assert not is_valid_shift(at(20), at(1, day=2))


def test_a_shift_across_one_pm_is_two_paid_half_days_and_two_morning_shifts_are_one():
	assert supervision_half_days([(at(11), at(14))]) == {(date(2026, 12, 1), "AM"), (date(2026, 12, 1), "PM")}
	assert supervision_half_days([(at(8), at(9)), (at(10), at(11))]) == {(date(2026, 12, 1), "AM")}
