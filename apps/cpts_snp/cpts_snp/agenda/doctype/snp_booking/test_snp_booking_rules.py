"""SNP rules applied when booking: SNP horizon, PDSA flag, SNP supplement and its weekly cap, notifications."""

from datetime import datetime, time, timedelta

import frappe
import pytest
from frappe.tests.utils import change_settings

from cpts_snp.services.booking import book_slot
from cpts_snp.tests.factories import PATIENT, make_professional, make_slot, next_weekday


@pytest.fixture
def professional():
	return make_professional(email="dr.rules@cpts-test.fr").name


def book(slot, hours_before=5, **request):
	start = frappe.utils.get_datetime(slot.starts_at)
	return book_slot(
		slot.name, PATIENT, request={"requested_at": start - timedelta(hours=hours_before), **request}
	)


def test_a_consultation_within_48_hours_of_the_request_is_an_snp_booking(professional):
	monday = next_weekday(0)
	soon = book(make_slot(professional, datetime.combine(monday, time(10))), hours_before=47)
	late = book(make_slot(professional, datetime.combine(monday, time(11))), hours_before=49)
	assert soon.is_snp and not late.is_snp


def test_a_slot_in_pdsa_hours_is_flagged_and_gets_no_supplement(professional):
	saturday = next_weekday(5)
	slot = make_slot(professional, datetime.combine(saturday, time(12, 0)))
	assert slot.is_pdsa
	assert not make_slot(professional, datetime.combine(saturday, time(11, 30))).is_pdsa
	booking = book(slot, regulated=1)
	assert booking.is_pdsa and not booking.supplement_eligible
	assert booking.supplement_note == "Non éligible : pendant les horaires de PDSA"


def test_the_supplement_needs_a_regulated_request_for_another_doctors_patient(professional):
	monday = next_weekday(0)
	regulated = book(make_slot(professional, datetime.combine(monday, time(9))), regulated=1)
	not_regulated = book(make_slot(professional, datetime.combine(monday, time(10))), regulated=0)
	own_patient = book(
		make_slot(professional, datetime.combine(monday, time(11))), regulated=1, patient_of_doctor=1
	)
	assert regulated.supplement_eligible and regulated.supplement_note == "Éligible : 1 sur 20 cette semaine"
	assert not not_regulated.supplement_eligible
	assert not own_patient.supplement_eligible


def test_the_twenty_first_supplement_of_a_doctors_week_is_refused_and_counted(professional):
	monday = next_weekday(0)
	starts = [
		datetime.combine(monday + timedelta(days=d), time(9)) + timedelta(minutes=20 * i)
		for d in range(5)
		for i in range(5)
	]
	bookings = [book(make_slot(professional, start), regulated=1) for start in starts[:21]]
	assert [b.supplement_eligible for b in bookings] == [1] * 20 + [0]
	assert bookings[19].supplement_note == "Éligible : 20 sur 20 cette semaine"
	assert bookings[20].supplement_note == "Non éligible : plafond hebdomadaire atteint (20 sur 20)"
	# the next week starts a new count
	next_monday = monday + timedelta(days=7)
	assert book(
		make_slot(professional, datetime.combine(next_monday, time(9))), regulated=1
	).supplement_eligible


def test_a_cancelled_supplement_does_not_count(professional):
	monday = next_weekday(0)
	with change_settings("SNP Settings", supplement_weekly_cap=1):
		first = book(make_slot(professional, datetime.combine(monday, time(9))), regulated=1)
		first.status = "Cancelled"
		first.cancellation_reason = "Annulé par le patient"
		first.save()
		assert book(
			make_slot(professional, datetime.combine(monday, time(10))), regulated=1
		).supplement_eligible


def queued_to(booking):
	queues = frappe.get_all("Email Queue", filters={"reference_name": booking.name}, pluck="name")
	return set(
		frappe.get_all("Email Queue Recipient", filters={"parent": ["in", queues or [""]]}, pluck="recipient")
	)


def test_the_doctor_and_the_patient_are_notified_of_a_booking(professional):
	slot = make_slot(professional, datetime.combine(next_weekday(0), time(9)))
	booking = book_slot(slot.name, {**PATIENT, "patient_email": "patient@example.fr"})
	assert queued_to(booking) == {"dr.rules@cpts-test.fr", "patient@example.fr"}


def test_the_doctor_and_the_telesecretariat_are_notified_of_a_cancellation(professional):
	slot = make_slot(professional, datetime.combine(next_weekday(0), time(9)))
	with change_settings("SNP Settings", telesecretariat_email="secretariat@cpts-test.fr"):
		booking = book_slot(slot.name, PATIENT)
		booking.status = "Cancelled"
		booking.cancellation_reason = "Le patient va mieux"
		booking.save()
		messages = frappe.get_all("Email Queue", filters={"reference_name": booking.name}, pluck="message")
		assert messages and not any(
			"Le patient va mieux" in message for message in messages
		)  # no patient reason by e-mail
		assert "secretariat@cpts-test.fr" in queued_to(booking)


def jobs_after_commit():
	"""Background jobs this transaction will enqueue once committed (read from Frappe's after-commit list)."""
	import inspect

	jobs = []
	for callback in list(frappe.db.after_commit._functions):
		queue_args = inspect.getclosurevars(callback).nonlocals.get("queue_args")
		if queue_args:
			jobs.append(queue_args)
	return jobs


def test_the_patient_gets_an_sms_when_an_sms_gateway_is_configured(professional):
	slot = make_slot(professional, datetime.combine(next_weekday(0), time(9)))
	frappe.db.set_single_value("SMS Settings", "sms_gateway_url", "https://sms.example.fr/send")
	try:
		book_slot(slot.name, PATIENT)
		sms = [job for job in jobs_after_commit() if job["method"] == "cpts_snp.services.sms.send_logged"]
	finally:
		frappe.db.set_single_value("SMS Settings", "sms_gateway_url", None)
	assert len(sms) == 1
	log = frappe.get_doc("SNP Message Log", sms[0]["kwargs"]["log_name"])
	assert log.recipient == "+33611223344"
	assert "confirmé" in log.message


def test_no_sms_is_sent_without_a_gateway(professional):
	slot = make_slot(professional, datetime.combine(next_weekday(0), time(9)))
	book_slot(slot.name, PATIENT)
	assert not [job for job in jobs_after_commit() if "sms" in job["method"]]
