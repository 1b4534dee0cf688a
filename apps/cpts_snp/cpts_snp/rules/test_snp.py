from datetime import date, datetime, timedelta

import pytest

from cpts_snp.rules.snp import is_snp_booking, supplement_decision, week_bounds

CALL = datetime(2026, 12, 1, 9, 0)


@pytest.mark.parametrize(
	"delay, expected",
	[
		(timedelta(0), True),
		(timedelta(hours=47, minutes=59), True),
		(timedelta(hours=48), True),
		(timedelta(hours=48, minutes=1), False),
		(timedelta(minutes=-1), False),
	],
)
def test_an_snp_booking_starts_within_the_horizon_of_the_call(delay, expected):
	assert is_snp_booking(CALL, CALL + delay, 48) is expected


def test_the_horizon_is_a_setting():
	assert not is_snp_booking(CALL, CALL + timedelta(hours=30), 24)


def decide(**overrides):
	values = dict(
		requested_at=CALL,
		consultation_start=CALL + timedelta(hours=5),
		is_pdsa=False,
		patient_of_doctor=False,
		regulated=True,
		already_this_week=0,
		cap=20,
	)
	values.update(overrides)
	return supplement_decision(**values)


def test_a_regulated_request_outside_pdsa_within_48h_for_another_doctors_patient_is_eligible():
	decision = decide()
	assert decision.eligible and decision.rank == 1


@pytest.mark.parametrize(
	"overrides, reason",
	[
		({"is_pdsa": True}, "pdsa"),
		({"consultation_start": CALL + timedelta(hours=49)}, "horizon"),
		({"patient_of_doctor": True}, "own_patient"),
		({"regulated": False}, "not_regulated"),
	],
)
def test_each_condition_of_the_supplement(overrides, reason):
	decision = decide(**overrides)
	assert not decision.eligible and decision.reason == reason


def test_the_twentieth_supplement_of_the_week_is_paid_and_the_twenty_first_is_not():
	assert decide(already_this_week=19).rank == 20
	twenty_first = decide(already_this_week=20)
	assert not twenty_first.eligible and twenty_first.reason == "cap_reached"


def test_weeks_run_from_monday_to_sunday():
	assert week_bounds(date(2026, 12, 6)) == (date(2026, 11, 30), date(2026, 12, 7))
	assert week_bounds(date(2026, 11, 30)) == (date(2026, 11, 30), date(2026, 12, 7))
