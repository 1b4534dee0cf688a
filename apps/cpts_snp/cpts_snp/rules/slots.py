"""Slot arithmetic and the life cycle of slots and bookings. Pure functions, no database."""

from datetime import datetime, timedelta

MIN_DURATION = 5  # minutes
MAX_DURATION = 240

# Booking status -> status of its slot. A cancelled booking frees the slot when it is still to come.
SLOT_STATUS_FOR_BOOKING = {"Booked": "Booked", "Honoured": "Honoured", "No-show": "No-show"}

# Booking status transitions; a cancellation is final, honoured and no-show can be corrected.
BOOKING_TRANSITIONS = {
	"Booked": {"Honoured", "No-show", "Cancelled"},
	"Honoured": {"No-show"},
	"No-show": {"Honoured"},
	"Cancelled": set(),
}

# Slot statuses a person may set by hand; the others follow the slot's booking.
MANUAL_SLOT_STATUSES = {"Available", "Cancelled"}


def slot_end(start: datetime, duration_minutes: int) -> datetime:
	return start + timedelta(minutes=duration_minutes)


def is_valid_duration(duration_minutes: int) -> bool:
	return MIN_DURATION <= duration_minutes <= MAX_DURATION


def overlaps(start_a: datetime, end_a: datetime, start_b: datetime, end_b: datetime) -> bool:
	"""Half-open intervals: a slot ending at 10:00 does not overlap one starting at 10:00."""
	return start_a < end_b and start_b < end_a


def can_change_booking_status(old: str, new: str) -> bool:
	return old == new or new in BOOKING_TRANSITIONS.get(old, set())


def slot_status_for_booking(booking_status: str, slot_start: datetime, now: datetime) -> str:
	if booking_status in SLOT_STATUS_FOR_BOOKING:
		return SLOT_STATUS_FOR_BOOKING[booking_status]
	return "Available" if slot_start > now else "Cancelled"


def outcome_needs_start_passed(booking_status: str) -> bool:
	"""Honoured and no-show can only be recorded once the consultation time has come."""
	return booking_status in ("Honoured", "No-show")


WITHDRAWAL_NOTICE = timedelta(hours=24)


def can_withdraw_without_coordinator(slot_start: datetime, now: datetime) -> bool:
	"""A doctor withdraws a free slot himself up to 24 hours before it; later, only the coordinator can."""
	return slot_start - now >= WITHDRAWAL_NOTICE


def weekly_target_status(offered: int, minimum: int, maximum: int) -> str:
	""" "below", "met" or "above" the weekly target of slots offered by a doctor."""
	if offered < minimum:
		return "below"
	if offered > maximum:
		return "above"
	return "met"


# --- What the doctor's portal offers: the endpoints ask the same functions before they act ------------------
def can_withdraw(slot_status: str, slot_start: datetime, now: datetime) -> bool:
	"""A doctor withdraws his own slot himself when it is free and starts 24 hours or more from now."""
	return slot_status == "Available" and can_withdraw_without_coordinator(slot_start, now)


def can_record_outcome(booking_status: str, outcome: str, slot_start: datetime, now: datetime) -> bool:
	"""« Honoured » or « No-show » once the consultation has started, from a status that may become it."""
	return (
		outcome in ("Honoured", "No-show")
		and booking_status != outcome
		and can_change_booking_status(booking_status, outcome)
		and slot_start <= now
	)


def can_cancel_booking(booking_status: str, slot_start: datetime, now: datetime) -> bool:
	"""A doctor cancels a booking still to come (afterwards he records its outcome)."""
	return (
		can_change_booking_status(booking_status, "Cancelled")
		and booking_status != "Cancelled"
		and slot_start > now
	)
