"""SASPAS interns work under real supervision: a supervisor reachable for the whole of each slot, a cap of
consultations per half-day, a debrief after every consultation, the protocol that applied, and each person
seeing only what is his (an intern his own records, a maître de stage those of his interns)."""

from datetime import datetime, time, timedelta

import frappe
import pytest
from cpts_snp.exceptions import SupervisionError
from cpts_snp.interns.factories import (
	make_intern,
	make_intern_user,
	make_protocol,
	make_shift,
	make_supervisor,
)
from cpts_snp.services import portal
from cpts_snp.services.booking import book_slot
from cpts_snp.services.supervision import pending_debriefs
from cpts_snp.tests.factories import (
	PATIENT,
	as_user,
	future_start,
	make_doctor,
	make_slot,
	make_user,
)
from frappe.utils import add_days, getdate, now_datetime, today

DAY = future_start(days=20, hour=0)


def at(hour, minute=0, day=DAY):
	return day.replace(hour=hour, minute=minute)


@pytest.fixture
def world():
	"""Intern I supervised by S1 and S2 (S1 reachable 9:00-12:00, S2 12:00-13:00); S3 supervises nobody here."""
	s1, s2, s3 = make_supervisor(), make_supervisor(), make_supervisor()
	intern = make_intern([s1, s2])
	make_shift(s1, at(9), at(12))
	make_shift(s2, at(12), at(13))
	make_shift(s3, at(14), at(18))
	return frappe._dict(s1=s1, s2=s2, s3=s3, intern=intern.name, professional=intern.professional)


# --- supervision coverage ---------------------------------------------------------------------------------------
def test_an_intern_slot_fully_inside_the_shifts_of_his_supervisors_is_accepted(world):
	assert make_slot(world.professional, at(10), 20).name
	assert make_slot(world.professional, at(11, 50), 20).name  # across S1's and S2's shifts


def test_an_intern_slot_partly_outside_a_shift_is_refused_with_a_clear_french_message(
	world,
):
	with pytest.raises(SupervisionError) as error:
		make_slot(world.professional, at(12, 50), 20)
	message = str(error.value)
	assert "aucun de ses maîtres de stage n'est joignable" in message
	assert "13:00" in message and "13:10" in message


def test_the_shift_of_a_supervisor_who_is_not_his_does_not_cover_an_intern(world):
	with pytest.raises(SupervisionError):
		make_slot(world.professional, at(15), 20)


def test_an_intern_slot_outside_his_semester_is_refused():
	supervisor = make_supervisor()
	intern = make_intern(
		[supervisor],
		semester=(DAY.date() + timedelta(days=1), DAY.date() + timedelta(days=90)),
	)
	make_shift(supervisor, at(9), at(12))
	with pytest.raises(SupervisionError, match="hors de son semestre"):
		make_slot(intern.professional, at(10), 20)


def test_a_doctor_who_is_not_an_intern_needs_no_supervision():
	_user, doctor = make_doctor()
	assert make_slot(doctor, at(21), 20).name


def test_only_a_maitre_de_stage_supervises_an_intern_or_declares_shifts():
	_user, doctor = make_doctor()
	with pytest.raises(frappe.ValidationError, match="n'est pas maître de stage"):
		make_intern([doctor])
	with pytest.raises(SupervisionError):
		make_shift(doctor, at(9), at(12))


# --- the half-day cap -----------------------------------------------------------------------------------------
def test_an_intern_takes_at_most_twelve_consultations_per_half_day(world):
	morning = [
		make_slot(world.professional, at(9, 0) + timedelta(minutes=10 * i), 10).name for i in range(13)
	]
	make_shift(world.s1, at(13), at(17))
	afternoon = make_slot(world.professional, at(14), 20).name
	for slot in morning[:12]:
		book_slot(slot, PATIENT)
	with pytest.raises(
		SupervisionError,
		match="a déjà 12 consultations sur cette demi-journée : le plafond est de 12",
	):
		book_slot(morning[12], PATIENT)
	assert book_slot(afternoon, PATIENT).name  # another half-day


# --- debriefs -----------------------------------------------------------------------------------------------------
def past_world():
	supervisor_user = make_user()
	supervisor = make_supervisor(user=supervisor_user)
	intern_user = make_intern_user()
	intern = make_intern([supervisor], user=intern_user)
	# yesterday morning: a shift that starts and ends the same day whatever the time the test runs
	start = datetime.combine(getdate(add_days(today(), -1)), time(10, 0))
	make_shift(supervisor, start - timedelta(minutes=30), start + timedelta(hours=1))
	slot = make_slot(intern.professional, start, 20).name
	return frappe._dict(
		supervisor=supervisor,
		supervisor_user=supervisor_user,
		intern=intern.name,
		intern_user=intern_user,
		professional=intern.professional,
		slot=slot,
	)


def test_an_honoured_intern_consultation_gets_a_debrief_to_do_listed_until_it_is_done():
	w = past_world()
	booking = book_slot(w.slot, PATIENT)
	assert not frappe.db.exists("SNP Debrief", {"booking": booking.name})
	booking.status = "Honoured"
	booking.save()
	debrief = frappe.get_doc("SNP Debrief", {"booking": booking.name})
	assert (debrief.status, debrief.intern, debrief.supervisor) == (
		"To do",
		w.intern,
		w.supervisor,
	)
	assert booking.name in [d.booking for d in pending_debriefs()]

	with as_user(w.intern_user), pytest.raises(frappe.PermissionError):
		portal.record_debrief(w.professional, debrief.name, "Je me débriefe tout seul")
	with as_user(w.intern_user), pytest.raises(frappe.PermissionError):
		debrief.reload()
		debrief.status = "Done"
		debrief.notes = "Je me débriefe tout seul"
		debrief.save()
	with as_user(w.supervisor_user):
		debrief = portal.record_debrief(w.supervisor, debrief.name, "Examen complet, prescription adaptée.")
	assert debrief.debriefed_at and debrief.status == "Done"
	assert booking.name not in [d.booking for d in pending_debriefs()]


def test_a_debrief_is_done_only_with_its_notes():
	w = past_world()
	booking = book_slot(w.slot, PATIENT)
	booking.status = "Honoured"
	booking.save()
	debrief = frappe.get_doc("SNP Debrief", {"booking": booking.name})
	debrief.status = "Done"
	with pytest.raises(SupervisionError):
		debrief.save()


def test_a_consultation_of_a_doctor_who_is_not_an_intern_gets_no_debrief():
	_user, doctor = make_doctor()
	slot = make_slot(doctor, (now_datetime() - timedelta(hours=2)).replace(second=0, microsecond=0)).name
	booking = book_slot(slot, PATIENT)
	booking.status = "Honoured"
	booking.save()
	assert not frappe.db.exists("SNP Debrief", {"booking": booking.name})


# --- protocols ------------------------------------------------------------------------------------------------------
def test_an_intern_consultation_records_the_protocol_in_force_and_refuses_an_expired_one(
	world,
):
	current = make_protocol().name
	expired = make_protocol(valid_from="2015-01-01", valid_to="2016-01-01").name
	booking = book_slot(make_slot(world.professional, at(10), 20).name, PATIENT)
	booking.protocol = expired
	with pytest.raises(SupervisionError, match="n'est pas en vigueur"):
		booking.save()
	booking.reload()
	booking.protocol = current
	booking.save()
	assert frappe.db.get_value("SNP Booking", booking.name, "protocol") == current


# --- who sees what ----------------------------------------------------------------------------------------------------
def test_an_intern_sees_only_his_own_data_and_a_supervisor_those_of_his_interns():
	a, b = past_world(), past_world()
	for w in (a, b):
		booking = book_slot(w.slot, PATIENT)
		booking.status = "Honoured"
		booking.save()
		w.booking = booking.name
	with as_user(a.intern_user):
		assert frappe.get_list("SNP Intern", pluck="name") == [a.intern]
		assert frappe.get_list("SNP Debrief", pluck="booking") == [a.booking]
		assert frappe.get_list("SNP Booking", pluck="name") == [a.booking]
		assert set(frappe.get_list("SNP Supervision Shift", pluck="supervisor")) == {a.supervisor}
		assert not frappe.has_permission("SNP Intern", doc=b.intern)
		assert not frappe.has_permission("SNP Booking", doc=b.booking)
	with as_user(a.supervisor_user):
		assert frappe.get_list("SNP Intern", pluck="name") == [a.intern]
		assert frappe.get_list("SNP Debrief", pluck="booking") == [a.booking]
		assert a.booking in frappe.get_list("SNP Booking", pluck="name")
		assert b.booking not in frappe.get_list("SNP Booking", pluck="name")
		assert frappe.has_permission("SNP Booking", "read", doc=a.booking)
		assert not frappe.has_permission("SNP Booking", "write", doc=a.booking)
		assert not frappe.has_permission("SNP Intern", doc=b.intern)


def test_a_supervisor_declares_his_own_shifts_not_another_ones():
	a, b = past_world(), past_world()
	with as_user(a.supervisor_user):
		shift = portal.declare_shift(a.supervisor, at(8), at(9))
		assert shift.supervisor == a.supervisor
		# no generic write right on shifts: the portal is the way, for his own shifts only
		for supervisor in (a.supervisor, b.supervisor):
			with pytest.raises(frappe.PermissionError):
				make_shift(supervisor, at(10), at(11))
		other = frappe.get_all("SNP Supervision Shift", {"supervisor": b.supervisor}, pluck="name")[0]
		with pytest.raises(frappe.PermissionError):
			portal.withdraw_shift(a.supervisor, other)
		portal.withdraw_shift(a.supervisor, shift.name)
	assert not frappe.db.exists("SNP Supervision Shift", shift.name)
	assert frappe.db.exists("SNP Supervision Shift", other)
