from datetime import date, datetime, time

from cpts_snp.rules.templates import ends_same_day, template_slot_starts


def starts(**overrides):
	values = dict(
		weekdays=[0, 3],
		start_time=time(18, 0),
		number_of_slots=3,
		slot_duration=20,
		valid_from=date(2026, 1, 1),
		valid_to=None,
		window_start=date(2026, 11, 30),
		window_end=date(2026, 12, 13),
	)
	values.update(overrides)
	return template_slot_starts(**values)


def test_a_template_yields_consecutive_slots_on_its_weekdays():
	result = starts()
	assert len(result) == 12  # 2 weeks × Monday and Thursday × 3 slots
	assert result[:3] == [
		datetime(2026, 11, 30, 18, 0),
		datetime(2026, 11, 30, 18, 20),
		datetime(2026, 11, 30, 18, 40),
	]
	assert {start.weekday() for start in result} == {0, 3}


def test_a_template_yields_nothing_outside_its_validity():
	assert starts(valid_to=date(2026, 12, 6)) == starts()[:6]
	assert starts(valid_from=date(2026, 12, 7)) == starts()[6:]
	assert starts(valid_to=date(2026, 11, 1)) == []


def test_slots_must_end_on_the_day_they_start():
	assert ends_same_day(time(23, 0), 3, 20)
	assert not ends_same_day(time(23, 30), 2, 20)
