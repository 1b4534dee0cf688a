from datetime import timedelta

import frappe
import pytest

from cpts_snp.exceptions import (
	InactiveProfessionalError,
	InvalidDurationError,
	InvalidStatusChangeError,
	SlotLockedError,
	SlotOverlapError,
)
from cpts_snp.services.booking import book_slot
from cpts_snp.tests.factories import PATIENT, future_start, make_professional, make_slot


@pytest.fixture
def professional():
	return make_professional().name


def test_a_slot_ends_after_its_duration(professional):
	slot = make_slot(professional, future_start(hour=9), duration=30)
	assert str(slot.ends_at) == str(future_start(hour=9) + timedelta(minutes=30))
	assert slot.status == "Available"


def test_overlapping_slots_of_one_professional_are_refused_in_french(professional):
	make_slot(professional, future_start(hour=9), duration=30)
	with pytest.raises(SlotOverlapError, match="Ce créneau chevauche le créneau"):
		make_slot(professional, future_start(hour=9, minute=15))
	assert frappe.db.count("SNP Slot", {"professional": professional}) == 1


def test_a_slot_covering_another_one_is_refused(professional):
	make_slot(professional, future_start(hour=9, minute=20), duration=10)
	with pytest.raises(SlotOverlapError):
		make_slot(professional, future_start(hour=9), duration=60)


def test_back_to_back_slots_are_accepted(professional):
	make_slot(professional, future_start(hour=9), duration=20)
	make_slot(professional, future_start(hour=9, minute=20), duration=20)
	assert frappe.db.count("SNP Slot", {"professional": professional}) == 2


def test_two_professionals_can_offer_the_same_hour(professional):
	other = make_professional().name
	make_slot(professional, future_start(hour=9))
	make_slot(other, future_start(hour=9))


def test_a_withdrawn_slot_frees_its_time(professional):
	slot = make_slot(professional, future_start(hour=9))
	slot.status = "Cancelled"
	slot.save()
	make_slot(professional, future_start(hour=9))


def test_moving_a_slot_onto_another_is_refused(professional):
	make_slot(professional, future_start(hour=9))
	slot = make_slot(professional, future_start(hour=11))
	slot.starts_at = future_start(hour=9, minute=10)
	with pytest.raises(SlotOverlapError):
		slot.save()


@pytest.mark.parametrize("duration", [0, -20, 300])
def test_a_duration_out_of_range_is_refused_in_french(professional, duration):
	with pytest.raises(InvalidDurationError, match="doit être comprise entre 5 et 240 minutes"):
		make_slot(professional, duration=duration)
	assert not frappe.db.count("SNP Slot", {"professional": professional})


def test_an_inactive_professional_cannot_publish_slots():
	inactive = make_professional(status="Charter signed").name
	with pytest.raises(InactiveProfessionalError, match="n'est pas un professionnel actif"):
		make_slot(inactive)


def test_a_slot_cannot_be_marked_booked_by_hand(professional):
	slot = make_slot(professional)
	slot.status = "Booked"
	with pytest.raises(InvalidStatusChangeError):
		slot.save()


def test_a_booked_slot_cannot_be_moved_withdrawn_or_deleted(professional):
	slot = make_slot(professional, future_start(hour=9))
	book_slot(slot.name, PATIENT)
	slot.reload()
	slot.starts_at = future_start(hour=15)
	with pytest.raises(SlotLockedError):
		slot.save()
	slot.reload()
	slot.status = "Cancelled"
	with pytest.raises(InvalidStatusChangeError):
		slot.save()
	with pytest.raises((SlotLockedError, frappe.LinkExistsError)):
		frappe.delete_doc("SNP Slot", slot.name)
	assert frappe.db.get_value("SNP Slot", slot.name, "status") == "Booked"


def test_changes_to_a_slot_are_tracked(professional, monkeypatch):
	# Frappe skips version history in tests unless asked; the app relies on it.
	monkeypatch.setattr(frappe.flags, "in_test", False)
	slot = make_slot(professional, future_start(hour=9))
	slot.location = "Maison de santé, salle 2"
	slot.save()
	assert frappe.db.exists("Version", {"ref_doctype": "SNP Slot", "docname": slot.name})
