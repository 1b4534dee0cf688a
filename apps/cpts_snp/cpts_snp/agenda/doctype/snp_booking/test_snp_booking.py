from datetime import datetime, timedelta

import frappe
import pytest
from frappe.utils import now_datetime

from cpts_snp.exceptions import InvalidStatusChangeError, SlotUnavailableError
from cpts_snp.services.booking import book_slot
from cpts_snp.tests.factories import PATIENT, future_start, make_professional, make_slot


@pytest.fixture
def slot():
	return make_slot(make_professional(first_name="Claire", last_name="Martin").name, future_start(hour=10))


@pytest.fixture
def past_slot():
	start = (now_datetime() - timedelta(hours=2)).replace(second=0, microsecond=0)
	return make_slot(make_professional().name, start)


def slot_status(slot):
	return frappe.db.get_value("SNP Slot", slot.name, "status")


def test_booking_a_free_slot_takes_it(slot):
	booking = book_slot(slot.name, PATIENT, reason="Fièvre", channel="SAS")
	assert booking.status == "Booked"
	assert booking.professional == slot.professional
	assert booking.professional_name == "Claire Martin"
	assert str(booking.slot_start) == str(slot.starts_at)
	assert booking.booked_by == "Administrator"
	assert slot_status(slot) == "Booked"


def test_booking_a_taken_slot_is_refused_in_french(slot):
	book_slot(slot.name, PATIENT)
	with pytest.raises(SlotUnavailableError, match="n'est plus disponible"):
		book_slot(slot.name, {**PATIENT, "patient_last_name": "Autre"})
	assert frappe.db.count("SNP Booking", {"slot": slot.name}) == 1


def test_booking_a_withdrawn_slot_is_refused(slot):
	slot.status = "Cancelled"
	slot.save()
	with pytest.raises(SlotUnavailableError):
		book_slot(slot.name, PATIENT)


def test_the_database_refuses_a_second_active_booking_of_a_slot(slot):
	"""The unique key behind the lock: even a write that skips the controller cannot double-book."""
	first = book_slot(slot.name, PATIENT)
	second = frappe.copy_doc(first)
	second.name = None
	second.set_new_name()
	with pytest.raises((frappe.UniqueValidationError, frappe.DuplicateEntryError)):
		second.db_insert()


def test_a_cancellation_needs_a_reason_and_frees_a_future_slot(slot):
	booking = book_slot(slot.name, PATIENT)
	booking.status = "Cancelled"
	with pytest.raises(InvalidStatusChangeError, match="motif de l'annulation"):
		booking.save()
	assert slot_status(slot) == "Booked"
	booking.reload()
	booking.status = "Cancelled"
	booking.cancellation_reason = "Le patient a trouvé un rendez-vous chez son médecin traitant"
	booking.save()
	assert slot_status(slot) == "Available"
	again = book_slot(slot.name, {**PATIENT, "patient_last_name": "Lefebvre"})
	assert again.status == "Booked"


def test_a_cancellation_is_final(slot):
	booking = book_slot(slot.name, PATIENT)
	booking.status = "Cancelled"
	booking.cancellation_reason = "Erreur de saisie"
	booking.save()
	booking.status = "Booked"
	with pytest.raises(InvalidStatusChangeError):
		booking.save()


def test_the_outcome_cannot_be_recorded_before_the_consultation(slot):
	booking = book_slot(slot.name, PATIENT)
	booking.status = "Honoured"
	with pytest.raises(InvalidStatusChangeError, match="une fois son heure passée"):
		booking.save()


def test_outcomes_after_the_consultation_move_the_slot(past_slot):
	booking = book_slot(past_slot.name, PATIENT)
	booking.status = "No-show"
	booking.save()
	assert slot_status(past_slot) == "No-show"
	booking.status = "Honoured"
	booking.save()
	assert slot_status(past_slot) == "Honoured"


def test_cancelling_a_past_booking_does_not_reopen_the_slot(past_slot):
	booking = book_slot(past_slot.name, PATIENT)
	booking.status = "Cancelled"
	booking.cancellation_reason = "Patient décédé"
	booking.save()
	assert slot_status(past_slot) == "Cancelled"


def test_a_booking_cannot_be_moved_to_another_slot(slot):
	other = make_slot(slot.professional, future_start(hour=15))
	booking = book_slot(slot.name, PATIENT)
	booking.slot = other.name
	# the slot is the server's (cpts_snp.permissions.SERVER_OWNED): refused before the booking's own rule
	with pytest.raises((frappe.PermissionError, InvalidStatusChangeError)):
		booking.save()
	assert frappe.db.get_value("SNP Booking", booking.name, "slot") == slot.name


def test_the_patient_phone_is_normalised_and_a_bad_one_refused(slot):
	with pytest.raises(frappe.ValidationError, match="n'est pas valide"):
		book_slot(slot.name, {**PATIENT, "patient_phone": "06 11"})
	assert book_slot(slot.name, PATIENT).patient_phone == "+33 6 11 22 33 44"


def test_booking_a_slot_that_does_not_exist_is_refused_in_french():
	before = frappe.db.count("SNP Booking")
	with pytest.raises(frappe.DoesNotExistError, match="Le créneau CRN-INCONNU n'existe pas"):
		book_slot("CRN-INCONNU", PATIENT)
	assert frappe.db.count("SNP Booking") == before


def test_links_set_on_a_booking_after_it_is_made_are_checked(slot):
	# book_slot skips Frappe's link check of the slot it reads anyway, for the booking's insert only
	booking = book_slot(slot.name, PATIENT)
	booking.call = "APPEL-INCONNU"
	with pytest.raises(frappe.LinkValidationError):
		booking.save()


def test_a_date_of_birth_in_the_future_is_refused(slot):
	with pytest.raises(frappe.ValidationError, match="ne peut pas être dans le futur"):
		book_slot(slot.name, {**PATIENT, "patient_date_of_birth": "2999-01-01"})
	assert slot_status(slot) == "Available"


def test_who_booked_and_what_changed_stays_visible(slot, monkeypatch):
	# Frappe skips version history in tests unless asked; the app relies on it.
	monkeypatch.setattr(frappe.flags, "in_test", False)
	booking = book_slot(slot.name, PATIENT)
	booking.status = "Cancelled"
	booking.cancellation_reason = "Doublon"
	booking.save()
	version = frappe.get_last_doc("Version", filters={"ref_doctype": "SNP Booking", "docname": booking.name})
	assert ["status", frappe._("Booked"), frappe._("Cancelled")] in frappe.parse_json(version.data)["changed"]
	# the slot follows its booking: its status and modification time show it, its history is the booking's
	assert frappe.db.get_value("SNP Slot", slot.name, ["status", "modified_by"]) == (
		"Available",
		"Administrator",
	)
