"""When a patient is reminded of an appointment. Pure functions, no database."""

from datetime import datetime, time, timedelta


def reminder_due_at(
	slot_start: datetime,
	booked_at: datetime,
	day_before_time: time,
	same_day_hours: int,
	min_notice_minutes: int,
) -> datetime | None:
	"""The moment the reminder of an appointment at `slot_start` booked at `booked_at` is due, or None.

	The day before the appointment at `day_before_time` (18:00); for an appointment booked after that moment
	(the same day, or the evening before), `same_day_hours` before it (never before the booking itself); none
	for an appointment booked less than `min_notice_minutes` before it starts (the patient has just booked)."""
	if slot_start - booked_at < timedelta(minutes=min_notice_minutes):
		return None
	day_before = datetime.combine(slot_start.date() - timedelta(days=1), day_before_time)
	if booked_at < day_before:
		return day_before
	return max(slot_start - timedelta(hours=same_day_hours), booked_at)
