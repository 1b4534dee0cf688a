"""Reminders of appointments, sent once each by the scheduler (every 5 minutes).

A reminder is due at the time cpts_snp.rules.reminders.reminder_due_at gives (the day before at 18:00, or a
few hours before for an appointment booked later, or moved later: the time of the move's message in SNP Message
Log) for a booking still Booked and to come, whose patient has
not opted out (SNP Patient.reminders_opt_out). It goes by SMS and/or e-mail (SNP Settings, tab « Messages »)
from the template « SNP - Rappel patient » and the SMS text of the settings.

Exactly once: each channel's SNP Message Log row carries a unique key (booking, appointment time, channel)
inserted in the same transaction as the e-mail and the SMS job. A second run, or a second worker running the
job at the same moment, fails on that key (it waits on the first one's row lock until it commits) and sends
nothing. A moved booking has a new appointment time, hence a new key and a new reminder.
"""

from datetime import timedelta

import frappe
from frappe.query_builder.functions import Max
from frappe.utils import cint, get_datetime, get_time, now_datetime

from cpts_snp.rules.reminders import reminder_due_at
from cpts_snp.services import notifications, sms
from cpts_snp.services.settings import get_settings

KIND = "reminder_patient"
MOVED = "booking_moved_patient"
# A reminder is due at the latest the day before: bookings further away are not read.
LOOKAHEAD = timedelta(days=2)


def reminder_key(booking: str, slot_start, channel: str) -> str:
	return f"reminder:{booking}:{get_datetime(slot_start):%Y-%m-%d %H:%M}:{channel}"


def _rule_settings() -> dict:
	settings = get_settings()
	return {
		"day_before_time": get_time(settings.get("reminder_day_before_time") or "18:00:00"),
		"same_day_hours": cint(settings.get("reminder_same_day_hours") or 2),
		"min_notice_minutes": cint(settings.get("reminder_min_notice_minutes") or 0),
	}


def _candidates(now) -> list:
	"""The bookings to come within LOOKAHEAD: name, slot_start, and booked_at (when booked, or last moved: the
	move's message to the patient in SNP Message Log)."""
	Booking = frappe.qb.DocType("SNP Booking")
	Log = frappe.qb.DocType("SNP Message Log")
	moves = (
		frappe.qb.from_(Log)
		.select(Log.booking, Max(Log.creation).as_("moved_at"))
		.where(Log.kind == MOVED)
		.groupby(Log.booking)
	)
	query = (
		frappe.qb.from_(Booking)
		.left_join(moves)
		.on(moves.booking == Booking.name)
		.select(Booking.name, Booking.slot_start, Booking.creation, moves.moved_at)
		.where(Booking.status == "Booked")
		.where(Booking.slot_start > now)
		.where(Booking.slot_start <= now + LOOKAHEAD)
	)
	if frappe.get_meta("SNP Booking").has_field("patient") and frappe.db.has_column(
		"SNP Patient", "reminders_opt_out"
	):
		Patient = frappe.qb.DocType("SNP Patient")
		query = query.left_join(Patient).on(Patient.name == Booking.patient)
		query = query.where((Patient.reminders_opt_out.isnull()) | (Patient.reminders_opt_out == 0))
	return query.run(as_dict=True)


def _booked_at(row):
	creation = get_datetime(row.creation)
	return max(creation, get_datetime(row.moved_at)) if row.moved_at else creation


def due_bookings(now=None) -> list[str]:
	"""Names of the bookings whose reminder is due at `now` and not sent yet."""
	now = get_datetime(now or now_datetime())
	rule = _rule_settings()
	due = [
		row
		for row in _candidates(now)
		if (at := reminder_due_at(get_datetime(row.slot_start), _booked_at(row), **rule)) and at <= now
	]
	if not due:
		return []
	sent = set(
		frappe.get_all(
			"SNP Message Log",
			filters={"booking": ["in", [row.name for row in due]], "kind": KIND},
			pluck="unique_key",
		)
	)
	return [
		row.name
		for row in due
		if not {reminder_key(row.name, row.slot_start, c) for c in ("SMS", "Email")} & sent
	]


def remind(booking_name: str) -> list[str]:
	"""Send the reminder of one booking in the current transaction; returns the channels used.
	Raises frappe.UniqueValidationError when another run has already claimed it."""
	settings = get_settings()
	booking = frappe.get_doc("SNP Booking", booking_name)
	if booking.status != "Booked":
		return []
	context = notifications.message_context(booking)
	channels = []
	if cint(settings.get("reminder_by_sms")) and booking.patient_phone and sms.gateway_configured():
		log = sms.queue(
			booking.patient_phone,
			notifications.render_sms(KIND, context),
			booking=booking.name,
			kind=KIND,
			unique_key=reminder_key(booking.name, booking.slot_start, "SMS"),
		)
		if log:
			channels.append("SMS")
	if cint(settings.get("reminder_by_email")) and booking.patient_email:
		subject, message = notifications.render_email(KIND, context)
		queued = notifications.send_email(
			[booking.patient_email], subject, message, "SNP Booking", booking.name
		)
		sms.log_message(
			"Email",
			booking.patient_email,
			subject,
			booking.name,
			KIND,
			unique_key=reminder_key(booking.name, booking.slot_start, "Email"),
			status="Sent" if queued else "Failed",
			error=None if queued else "No outgoing email account",
		)
		channels.append("Email")
	return channels


def send_due(now=None) -> int:
	"""Scheduler job (every 5 minutes): send the due reminders, one transaction per booking. Idempotent."""
	if not cint(get_settings().get("reminders_enabled")):
		return 0
	sent = 0
	for name in due_bookings(now):
		try:
			if remind(name):
				sent += 1
			frappe.db.commit()
		except (frappe.UniqueValidationError, frappe.DuplicateEntryError):
			frappe.db.rollback()  # another run sent it
			frappe.clear_messages()
		except Exception:
			frappe.db.rollback()
			frappe.log_error(
				title=f"SNP reminder of {name}", reference_doctype="SNP Booking", reference_name=name
			)
	return sent
