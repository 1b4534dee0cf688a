from datetime import datetime

from cpts_snp.rules.slots import (
	can_change_booking_status,
	is_valid_duration,
	overlaps,
	slot_end,
	slot_status_for_booking,
)

NINE = datetime(2026, 12, 1, 9, 0)


def test_slot_end_is_start_plus_duration():
	assert slot_end(NINE, 20) == datetime(2026, 12, 1, 9, 20)


def test_durations_outside_five_minutes_to_four_hours_are_refused():
	assert is_valid_duration(5) and is_valid_duration(240)
	assert not is_valid_duration(0)
	assert not is_valid_duration(-20)
	assert not is_valid_duration(241)


def test_back_to_back_slots_do_not_overlap():
	assert not overlaps(NINE, slot_end(NINE, 20), slot_end(NINE, 20), slot_end(NINE, 40))


def test_slots_sharing_a_minute_overlap():
	assert overlaps(NINE, slot_end(NINE, 20), slot_end(NINE, 19), slot_end(NINE, 39))
	assert overlaps(NINE, slot_end(NINE, 60), slot_end(NINE, 10), slot_end(NINE, 20))


def test_a_cancellation_is_final_and_outcomes_can_be_corrected():
	assert can_change_booking_status("Booked", "Cancelled")
	assert can_change_booking_status("Honoured", "No-show")
	assert not can_change_booking_status("Cancelled", "Booked")
	assert not can_change_booking_status("Honoured", "Booked")


def test_a_cancelled_booking_frees_its_slot_only_when_still_to_come():
	assert slot_status_for_booking("Cancelled", NINE, datetime(2026, 11, 30)) == "Available"
	assert slot_status_for_booking("Cancelled", NINE, datetime(2026, 12, 2)) == "Cancelled"
	assert slot_status_for_booking("No-show", NINE, datetime(2026, 12, 2)) == "No-show"
