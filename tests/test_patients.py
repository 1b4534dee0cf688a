"""Patients stored once: every booking points at its patient whatever the channel, the télésecrétariat finds him by
phone or by name and date of birth with his last 12 months, and only the coordination merges two duplicates."""

import random
import string
from datetime import timedelta

import frappe
import pytest
from cpts_snp.api import telesecretariat as desk_api
from cpts_snp.services import patients
from cpts_snp.services.booking import book_slot
from cpts_snp.services.telesecretariat import book_and_log_call, log_call
from cpts_snp.tests.factories import (
	PATIENT,
	as_user,
	future_start,
	make_doctor,
	make_professional,
	make_slot,
	make_user,
)
from frappe.utils import add_months, now_datetime


@pytest.fixture
def professional():
	return make_professional().name


def book(professional, patient=PATIENT, hour=9, days=20, **kwargs):
	slot = make_slot(professional, future_start(days=days, hour=hour)).name
	return book_slot(slot, patient, **kwargs)


def test_the_same_patient_booked_through_two_channels_is_stored_once(professional):
	by_phone = book(professional, hour=9)
	typed_otherwise = {
		"patient_last_name": "DURAND",
		"patient_first_name": "louise",
		"patient_date_of_birth": "1987-03-12",
		"patient_phone": "+33611223344",
	}
	by_sas = book(professional, typed_otherwise, hour=10, channel="SAS")
	assert by_phone.patient and by_phone.patient == by_sas.patient
	assert (
		frappe.db.count(
			"SNP Patient", {"dedup_key": frappe.db.get_value("SNP Patient", by_phone.patient, "dedup_key")}
		)
		== 1
	)
	# the booking keeps its own copy of the identity, as typed
	assert by_sas.patient_last_name == "DURAND"


def test_another_birth_date_is_another_patient(professional):
	first = book(professional, hour=9)
	other = book(professional, {**PATIENT, "patient_date_of_birth": "1990-01-01"}, hour=10)
	assert first.patient != other.patient


def test_a_new_patient_is_created_with_the_booking_identity(professional):
	booking = book(professional, {**PATIENT, "patient_email": "louise@example.fr"})
	patient = frappe.get_doc("SNP Patient", booking.patient)
	assert (
		patient.last_name,
		patient.first_name,
		str(patient.date_of_birth),
		patient.phone,
		patient.email,
	) == (
		"Durand",
		"Louise",
		"1987-03-12",
		"+33 6 11 22 33 44",
		"louise@example.fr",
	)


def test_the_call_of_a_desk_booking_points_at_the_patient_and_the_two_questions_decide_the_supplement(
	professional,
):
	# within the 48 h horizon and outside the PDSA hours, whatever the hour the suite runs at (now + 5 h fell in
	# the evening PDSA after 15:00)
	from cpts_snp.rules.pdsa import is_pdsa
	from cpts_snp.services.settings import pdsa_schedule

	start = (now_datetime() + timedelta(hours=1)).replace(minute=0, second=0, microsecond=0)
	start = next(
		moment
		for moment in (start + timedelta(hours=h) for h in range(46))
		if not is_pdsa(moment, pdsa_schedule())
		and not is_pdsa(moment + timedelta(minutes=30), pdsa_schedule())
	)
	slot = make_slot(professional, start).name
	booking, call = book_and_log_call(
		slot, PATIENT, {"caller_type": "Patient"}, regulated=1, patient_of_doctor=1
	)
	assert call.patient == booking.patient
	assert (booking.regulated, booking.patient_of_doctor, booking.supplement_eligible) == (1, 1, 0)
	assert booking.supplement_note == "Non éligible : patient de ce médecin"


def test_the_telesecretary_finds_the_patient_by_phone_or_by_name_and_birth_date(professional):
	booking = book(
		professional,
		{
			"patient_last_name": "Le-Gall",
			"patient_first_name": "Hélène",
			"patient_date_of_birth": "1975-06-01",
			"patient_phone": "06 98 76 54 32",
		},
	)
	telesecretary = make_user(["Télésecrétaire"], desk_user=True)
	with as_user(telesecretary):
		by_phone = desk_api.find_patient(phone="0698765432")
		by_name = desk_api.find_patient(last_name="le gall", first_name="helene", date_of_birth="1975-06-01")
		other_birth = desk_api.find_patient(last_name="Le Gall", date_of_birth="1975-06-02")
	assert [p["name"] for p in by_phone] == [booking.patient] == [p["name"] for p in by_name]
	assert [b.name for b in by_phone[0]["bookings"]] == [booking.name]
	assert other_birth == []


def test_the_history_shows_the_last_twelve_months_only(professional):
	# a patient of this test only: committed tests may leave bookings of the shared PATIENT
	someone = {
		**PATIENT,
		"patient_first_name": "Historique " + "".join(random.choices(string.ascii_lowercase, k=8)),
	}
	recent = book(professional, someone, hour=9)
	old = book(professional, someone, hour=10)
	frappe.db.set_value("SNP Booking", old.name, "slot_start", add_months(now_datetime(), -13))
	old_call = log_call({"caller_type": "Patient", "patient": recent.patient}, "Advice given")
	frappe.db.set_value("SNP Call", old_call.name, "received_at", add_months(now_datetime(), -13))
	new_call = log_call({"caller_type": "Patient", "patient": recent.patient}, "Advice given")
	history = patients.history(recent.patient)
	assert [b.name for b in history["bookings"]] == [recent.name]
	assert [c.name for c in history["calls"]] == [new_call.name]


def test_a_doctor_cannot_look_patients_up(professional):
	book(professional)
	doctor, _own = make_doctor()
	with as_user(doctor), pytest.raises(frappe.PermissionError):
		desk_api.find_patient(phone=PATIENT["patient_phone"])
	with as_user(doctor):
		assert not frappe.has_permission("SNP Patient", "read")


def test_the_coordinator_merges_a_duplicate_and_everything_moves_to_the_kept_patient(professional):
	kept = book(professional, hour=9)
	# the same person booked with another phone: a duplicate
	duplicate = book(professional, {**PATIENT, "patient_phone": "07 81 22 33 44"}, hour=10)
	call = log_call({"caller_type": "Patient", "patient": duplicate.patient}, "Advice given")
	assert kept.patient != duplicate.patient
	coordinator = make_user(["Coordinateur CPTS"], desk_user=True)
	with as_user(coordinator):
		result = desk_api.merge_patients(kept=kept.patient, duplicate=duplicate.patient)
	assert result["moved"]["SNP Booking"] == 1
	assert frappe.db.get_value("SNP Booking", duplicate.name, "patient") == kept.patient
	assert frappe.db.get_value("SNP Call", call.name, "patient") == kept.patient
	assert frappe.db.get_value("SNP Patient", duplicate.patient, "merged_into") == kept.patient
	assert frappe.db.exists(
		"Comment",
		{
			"reference_doctype": "SNP Patient",
			"reference_name": kept.patient,
			"content": ["like", "%" + duplicate.patient + "%"],
		},
	)
	# the merged record is not found any more; a new booking of its identity goes to the kept patient
	assert [p["name"] for p in patients.find_patients(phone="07 81 22 33 44")] == []
	again = book(professional, {**PATIENT, "patient_phone": "07 81 22 33 44"}, hour=11)
	assert again.patient == kept.patient


def test_a_telesecretary_cannot_merge_patients(professional):
	kept = book(professional, hour=9)
	duplicate = book(professional, {**PATIENT, "patient_phone": "07 81 22 33 44"}, hour=10)
	telesecretary = make_user(["Télésecrétaire"], desk_user=True)
	with as_user(telesecretary), pytest.raises(frappe.PermissionError):
		desk_api.merge_patients(kept=kept.patient, duplicate=duplicate.patient)
	assert not frappe.db.get_value("SNP Patient", duplicate.patient, "merged_into")


def test_a_wrong_ins_is_refused_and_a_right_one_kept():
	from cpts_snp.exceptions import InvalidINSError

	values = {
		"doctype": "SNP Patient",
		"last_name": "Martin",
		"first_name": "Paul",
		"date_of_birth": "1980-01-17",
	}
	with pytest.raises(InvalidINSError):
		frappe.get_doc({**values, "ins": "180017512345661"}).insert()
	patient = frappe.get_doc({**values, "ins": "1 80 01 75 123 456 60"}).insert()
	assert patient.ins == "180017512345660"


def test_the_dedup_key_is_set_by_the_server_only():
	patient = frappe.get_doc(
		{"doctype": "SNP Patient", "last_name": "Martin", "first_name": "Paul", "date_of_birth": "1980-01-17"}
	).insert()
	telesecretary = make_user(["Télésecrétaire"], desk_user=True)
	with as_user(telesecretary), pytest.raises(frappe.PermissionError):
		doc = frappe.get_doc("SNP Patient", patient.name)
		doc.dedup_key = "forged"
		doc.save()


def test_the_patch_links_existing_bookings_and_their_calls_once(professional):
	identity = {**PATIENT, "patient_last_name": "Avant-" + frappe.generate_hash(length=6)}
	first = book(professional, identity, hour=9)
	second = book(
		professional, {**identity, "patient_last_name": identity["patient_last_name"].upper()}, hour=10
	)
	call = log_call({"caller_type": "Patient"}, "Advice given")
	frappe.db.set_value("SNP Call", call.name, "booking", second.name)
	# a site set up before SNP Patient: bookings without a patient
	frappe.db.delete("SNP Patient", first.patient)
	frappe.db.set_value("SNP Booking", {"name": ["in", [first.name, second.name]]}, "patient", None)

	assert patients.link_unlinked_bookings() >= 2
	linked = {frappe.db.get_value("SNP Booking", n, "patient") for n in (first.name, second.name)}
	assert len(linked) == 1 and None not in linked
	patient = frappe.get_doc("SNP Patient", next(iter(linked)))
	assert (patient.first_name, patient.phone) == ("Louise", "+33 6 11 22 33 44")
	assert frappe.db.get_value("SNP Call", call.name, "patient") == patient.name
	patient.save()  # the key the patch wrote is the one the record computes

	patients.link_unlinked_bookings()
	assert {frappe.db.get_value("SNP Booking", n, "patient") for n in (first.name, second.name)} == linked
	assert frappe.db.count("SNP Patient", {"dedup_key": patient.dedup_key}) == 1


def test_a_new_patient_booked_twice_at_the_same_moment_is_stored_once(committed):
	from test_concurrency import race

	first = make_slot(committed.professional(), future_start(hour=10)).name
	second = make_slot(committed.professional(), future_start(hour=10)).name
	frappe.db.commit()
	identity = {**PATIENT, "patient_last_name": "Simultane-" + frappe.generate_hash(length=6)}

	outcomes = race([lambda: book_slot(first, identity).patient, lambda: book_slot(second, identity).patient])

	assert [kind for kind, _ in outcomes] == ["ok", "ok"], outcomes
	assert outcomes[0][1] == outcomes[1][1]
	frappe.db.rollback()
	assert frappe.db.count("SNP Patient", {"last_name": identity["patient_last_name"]}) == 1
