"""A patient is reminded of his appointment once: the day before at 18:00 (or 2 h before when booked later),
by SMS and e-mail with how to cancel; never twice, even when two workers run the job at the same moment; again
after a move; never after a cancellation, nor when he opted out."""

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, time, timedelta

import frappe
import pytest
from cpts_snp.rules.reminders import reminder_due_at
from cpts_snp.services import reminders, sms
from cpts_snp.services.booking import book_slot, move_booking
from cpts_snp.tests.factories import PATIENT, make_professional, make_slot, next_weekday
from cpts_snp.tests.sms_gateway import sms_gateway, snp_settings

RULE = {"day_before_time": time(18), "same_day_hours": 2, "min_notice_minutes": 120}


# --- When a reminder is due (pure rule) ---


def test_a_reminder_is_due_the_day_before_at_18_00():
	start = datetime(2027, 3, 10, 9, 30)
	assert reminder_due_at(start, datetime(2027, 3, 1, 12), **RULE) == datetime(2027, 3, 9, 18)


def test_an_appointment_booked_after_18_00_the_day_before_is_reminded_2_hours_before():
	assert reminder_due_at(datetime(2027, 3, 10, 15), datetime(2027, 3, 10, 8), **RULE) == datetime(
		2027, 3, 10, 13
	)
	assert reminder_due_at(datetime(2027, 3, 10, 9), datetime(2027, 3, 9, 20), **RULE) == datetime(
		2027, 3, 10, 7
	)


def test_an_appointment_booked_shortly_before_it_starts_gets_no_reminder():
	assert reminder_due_at(datetime(2027, 3, 10, 15), datetime(2027, 3, 10, 13, 30), **RULE) is None


def test_a_reminder_is_never_due_before_the_booking_was_made():
	start, booked = datetime(2027, 3, 10, 15), datetime(2027, 3, 10, 13, 30)
	assert reminder_due_at(start, booked, **{**RULE, "min_notice_minutes": 60}) == booked


# --- The job ---


@pytest.fixture
def doctor():
	return make_professional(email="dr.rappel@cpts-test.fr").name


def booked(professional, day, hour, booked_at=None, **patient):
	slot = make_slot(professional, datetime.combine(day, time(hour)))
	booking = book_slot(slot.name, {**PATIENT, "patient_email": "louise@example.fr", **patient})
	if booked_at:
		frappe.db.set_value("SNP Booking", booking.name, "creation", booked_at, update_modified=False)
	return booking


def reminder_logs(booking):
	return frappe.get_all(
		"SNP Message Log",
		filters={"booking": booking.name, "kind": "reminder_patient"},
		fields=["channel", "status", "recipient", "message", "unique_key"],
		order_by="channel",
	)


def test_the_reminder_is_due_from_18_00_the_day_before_and_not_earlier(doctor):
	day = next_weekday(3)
	booking = booked(doctor, day, 10)
	evening = datetime.combine(day - timedelta(days=1), time(18))
	assert booking.name not in reminders.due_bookings(evening - timedelta(minutes=1))
	assert booking.name in reminders.due_bookings(evening)


def test_a_same_day_booking_is_due_2_hours_before(doctor):
	day = next_weekday(3)
	booking = booked(doctor, day, 15, booked_at=datetime.combine(day, time(8)))
	assert booking.name not in reminders.due_bookings(datetime.combine(day, time(12, 59)))
	assert booking.name in reminders.due_bookings(datetime.combine(day, time(13)))


def test_the_reminder_goes_by_sms_and_email_with_how_to_cancel_once(doctor):
	day = next_weekday(3)
	booking = booked(doctor, day, 10)
	with snp_settings(cpts_phone="04 75 11 22 33"), sms_gateway():
		assert reminders.remind(booking.name) == ["SMS", "Email"]
		logs = reminder_logs(booking)
		assert [(log.channel, log.status) for log in logs] == [("Email", "Sent"), ("SMS", "Queued")]
		assert "04 75 11 22 33" in logs[1].message and f"{day:%d/%m/%Y} à 10:00" in logs[1].message
		# the same reminder a second time is refused by its unique key
		with pytest.raises(frappe.UniqueValidationError):
			reminders.remind(booking.name)
	assert booking.name not in reminders.due_bookings(datetime.combine(day, time(8)))


def test_a_moved_booking_is_reminded_again_for_its_new_time(doctor):
	day = next_weekday(3)
	booking = booked(doctor, day, 10)
	reminders.remind(booking.name)
	later = datetime.combine(day + timedelta(days=2), time(11))
	move_booking(booking.name, make_slot(doctor, later).name)
	assert booking.name in reminders.due_bookings(
		datetime.combine(later.date() - timedelta(days=1), time(18))
	)
	assert reminders.remind(booking.name) == ["Email"]
	assert len(reminder_logs(booking)) == 2


def test_a_cancelled_booking_gets_no_reminder(doctor):
	day = next_weekday(3)
	booking = booked(doctor, day, 10)
	booking.status, booking.cancellation_reason = "Cancelled", "Le patient a appelé"
	booking.save()
	assert booking.name not in reminders.due_bookings(datetime.combine(day, time(8)))
	assert reminders.remind(booking.name) == []


def test_a_patient_who_opted_out_gets_no_reminder(doctor):
	day = next_weekday(3)
	booking = booked(doctor, day, 10)
	patient = frappe.get_doc(
		{
			"doctype": "SNP Patient",
			"last_name": "Durand",
			"first_name": "Louise",
			"date_of_birth": "1987-03-12",
			"reminders_opt_out": 1,
		}
	).insert(ignore_permissions=True)
	frappe.db.set_value("SNP Booking", booking.name, "patient", patient.name)
	assert booking.name not in reminders.due_bookings(datetime.combine(day, time(8)))
	frappe.db.set_value("SNP Patient", patient.name, "reminders_opt_out", 0)
	assert booking.name in reminders.due_bookings(datetime.combine(day, time(8)))


def test_reminders_can_be_switched_off(doctor):
	day = next_weekday(3)
	booking = booked(doctor, day, 10)
	with snp_settings(reminders_enabled=0):
		assert reminders.send_due(datetime.combine(day, time(8))) == 0
	assert not reminder_logs(booking)


# --- Two workers at the same moment (committed data, real connections) ---


def run_at_once(function, count=2):
	site, sites_path = frappe.local.site, frappe.local.sites_path
	barrier = threading.Barrier(count)

	def worker(_):
		frappe.init(site=site, sites_path=sites_path)
		try:
			frappe.connect()
			barrier.wait(timeout=30)
			return function()
		finally:
			frappe.destroy()

	with ThreadPoolExecutor(count) as pool:
		return list(pool.map(worker, range(count)))


def test_two_runs_of_the_job_at_the_same_moment_send_each_reminder_once(committed):
	# far in the future so that no other committed booking is due at that moment
	day = next_weekday(3, weeks_ahead=40)
	booking = booked(committed.professional(), day, 9)
	frappe.db.commit()
	at = datetime.combine(day - timedelta(days=1), time(18, 3))
	try:
		sent = run_at_once(lambda: reminders.send_due(at))
		assert sorted(sent) == [0, 1]
		logs = reminder_logs(booking)
		assert [(log.channel, log.status) for log in logs] == [("Email", "Sent")]
		assert (
			frappe.db.count("Email Queue", {"reference_name": booking.name}) == 2
		)  # confirmation + reminder
		assert sum(run_at_once(lambda: reminders.send_due(at))) == 0  # and a later run sends nothing
	finally:
		frappe.db.rollback()
		frappe.db.delete("SNP Message Log", {"booking": booking.name})
		for queue in frappe.get_all("Email Queue", {"reference_name": booking.name}, pluck="name"):
			frappe.db.delete("Email Queue Recipient", {"parent": queue})
			frappe.db.delete("Email Queue", queue)
		frappe.db.commit()


def test_a_gateway_failure_of_a_reminder_is_logged_on_the_booking(doctor):
	day = next_weekday(3)
	booking = booked(doctor, day, 10, patient_email=None)
	with sms_gateway() as gateway:
		gateway.status, gateway.body = 503, "Service indisponible"
		reminders.remind(booking.name)
		[log] = reminder_logs(booking)
		assert (
			sms.send_logged(frappe.db.get_value("SNP Message Log", {"unique_key": log.unique_key}))
			== "Failed"
		)
	[log] = reminder_logs(booking)
	assert log.status == "Failed"
	assert frappe.db.get_value("SNP Message Log", {"unique_key": log.unique_key}, "answer") == (
		"Service indisponible"
	)


def test_the_reminder_job_is_scheduled_every_five_minutes():
	assert frappe.db.get_value(
		"Scheduled Job Type",
		{"method": "cpts_snp.services.reminders.send_due"},
		["frequency", "cron_format"],
	) == ("Cron", "*/5 * * * *")


def test_a_booking_moved_on_the_day_is_reminded_2_hours_before_its_new_time_and_not_at_once(doctor):
	day = next_weekday(3)
	booking = booked(doctor, day, 9, booked_at=datetime.combine(day - timedelta(days=5), time(10)))
	move_booking(booking.name, make_slot(doctor, datetime.combine(day, time(15))).name)
	move_log = frappe.db.get_value(
		"SNP Message Log", {"booking": booking.name, "kind": "booking_moved_patient"}, "name"
	)
	# the move was made at 12:00 that day
	frappe.db.set_value("SNP Message Log", move_log, "creation", datetime.combine(day, time(12)))
	assert booking.name not in reminders.due_bookings(datetime.combine(day, time(12, 5)))
	assert booking.name in reminders.due_bookings(datetime.combine(day, time(13)))
	# moved at 13:30 for 15:00: the patient has just been told, no reminder
	frappe.db.set_value("SNP Message Log", move_log, "creation", datetime.combine(day, time(13, 30)))
	assert booking.name not in reminders.due_bookings(datetime.combine(day, time(14)))
