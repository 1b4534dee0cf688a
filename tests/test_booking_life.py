"""A booking's life after it is made: the SNP supplement re-decided when its answers or its slot's PDSA status
change (within the doctor's weekly cap, places freed going to the next booking waiting, paid supplements kept),
a booking moved to another slot in one action, and the bookings cancelled by their doctor listed « à replacer »."""

from datetime import datetime, time, timedelta

import frappe
import pytest
from cpts_snp.exceptions import InvalidStatusChangeError, SlotUnavailableError
from cpts_snp.rules.snp import WeekBooking, rank_week
from cpts_snp.services.booking import book_slot, close_to_rebook, move_booking
from cpts_snp.tests.factories import (
	PATIENT,
	as_user,
	make_absence,
	make_doctor,
	make_professional,
	make_slot,
	make_user,
	next_weekday,
)
from frappe.tests.utils import change_settings

PATIENT_WITH_EMAIL = {**PATIENT, "patient_email": "louise.durand@patient-test.fr"}


@pytest.fixture
def professional():
	return make_professional(email="dr.life@cpts-test.fr").name


@pytest.fixture
def telesecretary():
	return make_user(roles=["Télésecrétaire"], desk_user=True)


def slot_at(professional, day, hour, minute=0):
	return make_slot(professional, datetime.combine(day, time(hour, minute)))


def book(slot, patient=PATIENT, **request):
	start = frappe.utils.get_datetime(slot.starts_at)
	return book_slot(
		slot.name, patient, request={"requested_at": start - timedelta(hours=5), "regulated": 1, **request}
	)


def reload(doc):
	return frappe.get_doc(doc.doctype, doc.name)


@pytest.fixture
def versions_kept():
	"""Frappe skips document versions in tests (flags.in_test); the history is what these tests check."""
	frappe.flags.in_test = False
	yield
	frappe.flags.in_test = True


def versions_changing(doc, field):
	rows = frappe.get_all("Version", filters={"ref_doctype": doc.doctype, "docname": doc.name}, pluck="data")
	return [row for row in rows if f'"{field}"' in row]


# --- The ranking rule (pure) ---


def test_a_freed_place_goes_to_the_first_booking_waiting_only_for_the_cap():
	week = [
		WeekBooking("a", holds=True, refused_for="own_patient"),  # its answer changed: loses its place
		WeekBooking("b", holds=True, refused_for=None),
		WeekBooking("c", holds=False, refused_for=None),  # waiting for a place
		WeekBooking("d", holds=False, refused_for=None),
	]
	decisions = rank_week(week, cap=2)
	assert decisions["a"].reason == "own_patient"
	assert decisions["b"] is None  # keeps its supplement, nothing to write
	assert decisions["c"].eligible and decisions["c"].rank == 2
	assert decisions["d"].reason == "cap_reached"


def test_nobody_loses_a_supplement_because_an_earlier_booking_becomes_eligible():
	week = [
		WeekBooking(
			"a", holds=False, refused_for=None
		),  # its answer changed: now eligible, but the week is full
		WeekBooking("b", holds=True, refused_for=None),
	]
	decisions = rank_week(week, cap=1)
	assert decisions["a"].reason == "cap_reached" and decisions["b"] is None


def test_a_paid_supplement_is_kept_whatever_its_answers_become():
	decisions = rank_week([WeekBooking("a", holds=True, refused_for="own_patient", frozen=True)], cap=20)
	assert decisions["a"] is None


# --- Re-decided on the site ---


@change_settings("SNP Settings", {"supplement_weekly_cap": 2})
def test_saying_later_the_patient_is_the_doctors_own_gives_the_place_to_the_next_booking(
	professional, telesecretary, versions_kept
):
	monday = next_weekday(0)
	first, second, third = (book(slot_at(professional, monday, hour)) for hour in (9, 10, 11))
	assert [b.supplement_eligible for b in (first, second, third)] == [1, 1, 0]

	with as_user(telesecretary):
		doc = frappe.get_doc("SNP Booking", first.name)
		doc.patient_of_doctor = 1
		doc.save()

	first, second, third = (reload(b) for b in (first, second, third))
	assert not first.supplement_eligible
	assert first.supplement_note == "Non éligible : patient de ce médecin"
	assert second.supplement_eligible and third.supplement_eligible
	assert third.supplement_note == "Éligible : 2 sur 2 cette semaine"
	# the history of the booking that gained the place says so
	assert versions_changing(third, "supplement_eligible")


def test_answering_later_that_the_request_was_regulated_gives_the_supplement(professional, telesecretary):
	booking = book(slot_at(professional, next_weekday(1), 10), regulated=0)
	assert not booking.supplement_eligible
	with as_user(telesecretary):
		doc = frappe.get_doc("SNP Booking", booking.name)
		doc.regulated = 1
		doc.save()
	assert reload(booking).supplement_eligible


@change_settings("SNP Settings", {"supplement_weekly_cap": 1})
def test_cancelling_a_booking_with_a_supplement_frees_its_place_for_the_next(professional):
	tuesday = next_weekday(1)
	first, second = book(slot_at(professional, tuesday, 9)), book(slot_at(professional, tuesday, 10))
	assert first.supplement_eligible and not second.supplement_eligible
	first.status, first.cancellation_reason = "Cancelled", "Le patient ne viendra pas"
	first.save()
	assert reload(second).supplement_eligible


def test_a_supplement_already_in_a_payment_run_is_not_rewritten(professional):
	booking = book(slot_at(professional, next_weekday(2), 10))
	assert booking.supplement_eligible
	frappe.get_doc(
		{
			"doctype": "SNP Paid Item",
			"name": f"consultation:{booking.name}",
			"item_type": "Consultation honoured",
			"item_doctype": "SNP Booking",
			"item_name": booking.name,
			"professional": professional,
			"item_date": frappe.utils.getdate(booking.slot_start),
		}
	).db_insert()
	booking.patient_of_doctor = 1
	booking.save()
	assert reload(booking).supplement_eligible


def test_new_pdsa_hours_reflag_the_slots_to_come_and_redecide_their_supplements(professional):
	from cpts_snp.services.cascade import reflag_pdsa_slots

	booking = book(slot_at(professional, next_weekday(3), 19, 30))
	assert not booking.is_pdsa and booking.supplement_eligible
	settings = frappe.get_doc("SNP Settings")
	previous = settings.pdsa_evening_start
	settings.pdsa_evening_start = "19:00:00"
	assert settings.pdsa_schedule_changed() is False  # not saved yet: compared with the stored settings
	settings.save()
	try:
		assert reflag_pdsa_slots(commit=False) >= 1
		booking = reload(booking)
		assert frappe.db.get_value("SNP Slot", booking.slot, "is_pdsa") == 1
		assert booking.is_pdsa and not booking.supplement_eligible
		assert booking.supplement_note == "Non éligible : pendant les horaires de PDSA"
		assert reflag_pdsa_slots(commit=False) == 0  # idempotent
	finally:
		frappe.db.rollback()
		frappe.clear_document_cache("SNP Settings", "SNP Settings")
		assert frappe.get_cached_doc("SNP Settings").pdsa_evening_start == previous


def test_a_change_of_the_pdsa_hours_is_detected_for_the_background_job():
	settings = frappe.get_doc("SNP Settings")
	settings._doc_before_save = frappe.get_doc("SNP Settings")
	assert not settings.pdsa_schedule_changed()
	settings.append("bridge_days", {"day": next_weekday(4)})
	assert settings.pdsa_schedule_changed()


# --- Moving a booking ---


def test_moving_a_booking_keeps_the_booking_frees_the_old_slot_and_takes_the_new(
	professional, telesecretary, versions_kept
):
	monday = next_weekday(0)
	old, new = slot_at(professional, monday, 9), slot_at(professional, monday, 15)
	booking = book(old, PATIENT_WITH_EMAIL)

	with as_user(telesecretary):
		moved = move_booking(booking.name, new.name, "Le patient préfère l'après-midi")

	assert moved.name == booking.name and moved.slot == new.name
	assert frappe.utils.get_datetime(moved.slot_start) == frappe.utils.get_datetime(new.starts_at)
	assert frappe.db.get_value("SNP Slot", old.name, "status") == "Available"
	assert frappe.db.get_value("SNP Slot", new.name, "status") == "Booked"
	assert frappe.db.get_value("SNP Booking", booking.name, "active_slot") == new.name
	history = versions_changing(moved, "slot")
	assert history and old.name in history[0] and new.name in history[0]
	assert frappe.db.exists(
		"Email Queue",
		{"reference_doctype": "SNP Booking", "reference_name": booking.name, "status": "Not Sent"},
	)


def test_moving_to_a_slot_taken_meanwhile_is_refused_and_changes_nothing(professional):
	monday = next_weekday(0)
	booking = book(slot_at(professional, monday, 9))
	taken = slot_at(professional, monday, 10)
	book(taken)
	with pytest.raises(SlotUnavailableError):
		move_booking(booking.name, taken.name)
	assert reload(booking).slot == booking.slot


def test_the_slot_of_a_booking_cannot_be_changed_by_a_plain_save(professional, telesecretary):
	monday = next_weekday(0)
	booking = book(slot_at(professional, monday, 9))
	other = slot_at(professional, monday, 11)
	with as_user(telesecretary), pytest.raises(frappe.PermissionError):
		doc = frappe.get_doc("SNP Booking", booking.name)
		doc.slot = other.name
		doc.save()


@change_settings("SNP Settings", {"supplement_weekly_cap": 1})
def test_moving_a_booking_to_another_week_redecides_both_weeks(professional):
	this_week, next_week = next_weekday(0), next_weekday(0, weeks_ahead=2)
	moving = book(slot_at(professional, this_week, 9))
	waiting = book(slot_at(professional, this_week, 10))
	assert moving.supplement_eligible and not waiting.supplement_eligible
	later = slot_at(professional, next_week, 9)
	# a patient whose request was within 48 h of the new time still gets the supplement there
	moving.db_set("requested_at", frappe.utils.get_datetime(later.starts_at) - timedelta(hours=3))

	move_booking(moving.name, later.name)

	assert reload(waiting).supplement_eligible
	assert reload(moving).supplement_eligible


def test_the_move_dialog_lists_the_free_slots_of_the_bookings_sector_or_of_every_sector(telesecretary):
	from cpts_snp.api.booking import free_slots_for_move
	from cpts_snp.tests.factories import make_sector

	here, there = make_sector().name, make_sector().name
	near = make_professional(sector=here).name
	far = make_professional(sector=there).name
	monday = next_weekday(0)
	booking = book(slot_at(near, monday, 9))
	same_sector, other_sector = slot_at(near, monday, 10), slot_at(far, monday, 10)
	if frappe.db.get_value("SNP Slot", same_sector.name, "sector") != here:
		pytest.skip("slots do not take their professional's sector on this site")

	with as_user(telesecretary):
		default = [s.name for s in free_slots_for_move(booking.name)]
		every = [s.name for s in free_slots_for_move(booking.name, sector="")]
	assert same_sector.name in default and other_sector.name not in default
	assert {same_sector.name, other_sector.name} <= set(every)
	assert booking.slot not in every


def test_a_doctor_cannot_move_a_booking(professional):
	user, own = make_doctor()
	monday = next_weekday(0)
	booking = book(slot_at(own, monday, 9))
	other = slot_at(own, monday, 10)
	with as_user(user), pytest.raises(frappe.PermissionError):
		move_booking(booking.name, other.name)


# --- Cancelled by the doctor: « à replacer » ---


def test_a_doctor_cancelling_from_his_portal_tells_the_patient_and_lists_the_booking_to_rebook():
	from cpts_snp.agenda.report.a_replacer.a_replacer import execute
	from cpts_snp.services.portal import cancel_booking

	user, professional = make_doctor()
	booking = book(slot_at(professional, next_weekday(1), 10), PATIENT_WITH_EMAIL)
	with as_user(user):
		cancel_booking(professional, booking.name, "Urgence personnelle")

	booking = reload(booking)
	assert booking.status == "Cancelled" and booking.cancelled_by == "Doctor" and booking.to_rebook
	recipients = frappe.get_all(
		"Email Queue Recipient",
		filters={
			"parent": ("in", frappe.get_all("Email Queue", {"reference_name": booking.name}, pluck="name"))
		},
		pluck="recipient",
	)
	assert PATIENT_WITH_EMAIL["patient_email"] in recipients
	_columns, rows = execute()
	assert booking.name in [row.name for row in rows]


def test_a_booking_cancelled_by_its_doctor_is_rebooked_on_a_new_booking_linked_to_it(telesecretary):
	_user, professional = make_doctor()
	tuesday = next_weekday(1)
	booking = book(slot_at(professional, tuesday, 10), patient_of_doctor=1)
	booking.flags.cancelled_by = "Doctor"
	booking.status, booking.cancellation_reason = "Cancelled", "Urgence personnelle"
	booking.save()
	other_doctor = make_professional().name
	free = slot_at(other_doctor, tuesday, 11)

	with as_user(telesecretary):
		new = move_booking(booking.name, free.name)

	old = reload(booking)
	assert new.name != old.name and new.rebooked_from == old.name
	assert old.rebooked_as == new.name and not old.to_rebook and old.rebook_outcome == "Rebooked"
	assert (new.patient_last_name, new.patient_of_doctor, new.status) == (
		PATIENT["patient_last_name"],
		1,
		"Booked",
	)


def test_a_telesecretary_cancelling_for_the_patient_does_not_list_the_booking_to_rebook(
	professional, telesecretary
):
	from cpts_snp.api.booking import cancel

	booking = book(slot_at(professional, next_weekday(1), 10))
	with as_user(telesecretary):
		cancel(booking.name, "Le patient ne viendra pas")
	booking = reload(booking)
	assert booking.cancelled_by == "CPTS" and not booking.to_rebook


def test_an_absence_lists_the_booked_patients_to_rebook_and_patient_informed_closes_them(telesecretary):
	_user, professional = make_doctor()
	day = next_weekday(2)
	booking = book(slot_at(professional, day, 10))
	make_absence(professional, day, day, reason="Congés")
	assert reload(booking).to_rebook and reload(booking).status == "Booked"

	with as_user(telesecretary):
		close_to_rebook(booking.name, "Patiente prévenue par téléphone")

	booking = reload(booking)
	assert booking.status == "Cancelled" and booking.cancelled_by == "Doctor"
	assert not booking.to_rebook and booking.rebook_outcome == "Patient informed, no new appointment"
	with pytest.raises(InvalidStatusChangeError):
		close_to_rebook(booking.name)


# --- Partners and FHIR answer the two questions ---


def test_a_partner_booking_says_whether_the_patient_is_the_doctors_own(professional):
	from cpts_snp.api.partners import book as partner_book
	from cpts_snp.tests.partner_factories import make_partner, make_partner_user

	user = make_partner_user()
	make_partner(users=[user], partner_type="SAS / SAMU")
	monday = next_weekday(0)
	own, other = slot_at(professional, monday, 9), slot_at(professional, monday, 10)
	with as_user(user):
		mine = partner_book(own.name, "Durand", "Louise", "1987-03-12", patient_of_doctor=1)
		theirs = partner_book(other.name, "Martin", "Paul", "1990-01-01")
	assert mine["patient_of_doctor"] == 1 and not mine["supplement_eligible"]
	assert theirs["regulated"] == 1 and theirs["patient_of_doctor"] == 0


def test_a_fhir_appointment_carries_the_two_questions_as_extensions():
	import json

	from cpts_snp.exports import fhir

	body = {
		"resourceType": "Appointment",
		"status": "booked",
		"slot": [{"reference": "Slot/CR-2026-00001"}],
		"contained": [
			{
				"resourceType": "Patient",
				"id": "p",
				"name": [{"family": "Durand", "given": ["Louise"]}],
				"birthDate": "1987-03-12",
			}
		],
		"participant": [{"actor": {"reference": "#p"}, "status": "accepted"}],
		"extension": [
			{"url": fhir.PATIENT_OF_DOCTOR_EXTENSION, "valueBoolean": True},
			{"url": fhir.REGULATED_EXTENSION, "valueBoolean": False},
		],
	}
	request = fhir.parse_appointment(json.dumps(body), "Europe/Paris")
	assert request.questions == {"patient_of_doctor": 1, "regulated": 0}


def test_over_rest_staff_change_the_answers_and_the_supplement_follows_but_not_the_slot(
	server, http_login, committed
):
	from cpts_snp.tests.factories import TEST_PASSWORD

	telesecretary = committed.user(["Télésecrétaire"])
	professional = committed.professional()
	monday = next_weekday(0)
	booking = book(slot_at(professional, monday, 9), regulated=0)
	other = slot_at(professional, monday, 10)
	frappe.db.commit()
	session = http_login(telesecretary, TEST_PASSWORD)
	url = f"{server}/api/resource/SNP Booking/{booking.name}"

	answered = session.put(url, json={"regulated": 1}, timeout=60)
	moved = session.put(url, json={"slot": other.name}, timeout=60)

	frappe.db.rollback()
	assert answered.ok, answered.text
	assert frappe.db.get_value("SNP Booking", booking.name, "supplement_eligible") == 1
	assert moved.status_code in (403, 417), moved.text
	assert frappe.db.get_value("SNP Booking", booking.name, "slot") == booking.slot
