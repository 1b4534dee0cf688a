"""A doctor sees and changes only his own slots and bookings, whichever way he asks: frappe.get_list,
frappe.get_doc with the desk's permission check, /api/resource and /api/method."""

from datetime import timedelta

import frappe
import pytest
import requests
from cpts_snp.services.booking import book_slot
from cpts_snp.tests.factories import (
	PATIENT,
	as_user,
	future_start,
	make_doctor,
	make_slot,
	make_user,
)


@pytest.fixture
def two_doctors():
	"""Doctor A and doctor B, each with one booked slot and one free slot."""
	world = {}
	for key in ("a", "b"):
		user, professional = make_doctor()
		booked = make_slot(professional, future_start(hour=9))
		free = make_slot(professional, future_start(hour=11))
		booking = book_slot(booked.name, {**PATIENT, "patient_last_name": f"Patient-{key}"})
		world[key] = frappe._dict(
			user=user,
			professional=professional,
			slot=booked.name,
			free=free.name,
			booking=booking.name,
		)
	return frappe._dict(world)


def test_a_doctor_lists_only_his_own_bookings_and_slots(two_doctors):
	a, b = two_doctors.a, two_doctors.b
	with as_user(a.user):
		bookings = frappe.get_list("SNP Booking", pluck="name")
		slots = frappe.get_list("SNP Slot", pluck="name")
		professionals = frappe.get_list("SNP Professional", pluck="name")
	assert a.booking in bookings and b.booking not in bookings
	assert {a.slot, a.free} <= set(slots) and not {b.slot, b.free} & set(slots)
	assert professionals == [a.professional]


def test_a_doctor_cannot_open_another_doctors_booking(two_doctors):
	a, b = two_doctors.a, two_doctors.b
	with as_user(a.user):
		assert frappe.get_doc("SNP Booking", a.booking).has_permission("read")
		with pytest.raises(frappe.PermissionError):
			frappe.get_doc("SNP Booking", b.booking).check_permission("read")
		with pytest.raises(frappe.PermissionError):
			frappe.client.get("SNP Booking", b.booking)
		assert not frappe.has_permission("SNP Slot", "read", doc=b.slot)


def test_a_doctor_cannot_change_another_doctors_booking_or_slot(two_doctors):
	a, b = two_doctors.a, two_doctors.b
	with as_user(a.user):
		booking = frappe.get_doc("SNP Booking", b.booking)
		booking.reason = "modifié par un autre médecin"
		with pytest.raises(frappe.PermissionError):
			booking.save()
		slot = frappe.get_doc("SNP Slot", b.free)
		slot.location = "ailleurs"
		with pytest.raises(frappe.PermissionError):
			slot.save()
		with pytest.raises(frappe.PermissionError):
			frappe.delete_doc("SNP Slot", b.free)
	assert frappe.db.get_value("SNP Booking", b.booking, "reason") is None


def test_a_doctor_publishes_slots_for_himself_only_and_through_the_portal_only(
	two_doctors,
):
	from cpts_snp.services import portal

	a, b = two_doctors.a, two_doctors.b
	with as_user(a.user):
		mine = portal.publish_slot(portal.current_professional(), future_start(hour=16), 20)
		assert (mine.owner, mine.professional) == (a.user, a.professional)
		# no generic create right: not even for himself, and never for another doctor
		for professional in (a.professional, b.professional):
			with pytest.raises(frappe.PermissionError):
				make_slot(professional, future_start(hour=17))


def test_a_doctor_cannot_book_slots(two_doctors):
	with as_user(two_doctors.a.user), pytest.raises(frappe.PermissionError):
		book_slot(two_doctors.b.free, PATIENT)


def test_the_telesecretariat_sees_every_slot_and_books_them_but_cannot_edit_professionals(
	two_doctors,
):
	telesecretary = make_user(roles=["Télésecrétaire"], desk_user=True)
	with as_user(telesecretary):
		slots = set(frappe.get_list("SNP Slot", pluck="name", limit_page_length=0))
		assert {two_doctors.a.free, two_doctors.b.free} <= slots
		booking = book_slot(two_doctors.b.free, PATIENT)
		assert booking.booked_by == telesecretary
		professional = frappe.get_doc("SNP Professional", two_doctors.a.professional)
		professional.phone = "0611111111"
		with pytest.raises(frappe.PermissionError):
			professional.save()


def test_the_coordinator_manages_everything(two_doctors):
	coordinator = make_user(roles=["Coordinateur CPTS"], desk_user=True)
	with as_user(coordinator):
		assert frappe.has_permission("SNP Professional", "create")
		booking = frappe.get_doc("SNP Booking", two_doctors.a.booking)
		booking.status = "Cancelled"
		booking.cancellation_reason = "Médecin indisponible"
		booking.save()


def test_another_doctors_booking_is_out_of_reach_through_the_rest_api(server, http_login, committed):
	a_user, a_pro = committed.doctor()
	_b_user, b_pro = committed.doctor()
	a_booking = book_slot(make_slot(a_pro, future_start(hour=9)).name, PATIENT).name
	b_booking = book_slot(make_slot(b_pro, future_start(hour=9)).name, PATIENT).name
	b_free = make_slot(b_pro, future_start(hour=11)).name
	frappe.db.commit()

	doctor_a = http_login(a_user)
	assert doctor_a.get(f"{server}/api/resource/SNP Booking/{a_booking}").ok
	assert doctor_a.get(f"{server}/api/resource/SNP Booking/{b_booking}").status_code == 403
	assert doctor_a.get(f"{server}/api/resource/SNP Slot/{b_free}").status_code == 403
	listed = doctor_a.get(f"{server}/api/resource/SNP Booking", params={"limit_page_length": 0}).json()[
		"data"
	]
	assert [row["name"] for row in listed] == [a_booking]
	response = doctor_a.put(f"{server}/api/resource/SNP Booking/{b_booking}", json={"reason": "piratage"})
	assert response.status_code == 403
	response = doctor_a.get(
		f"{server}/api/method/frappe.client.get",
		params={"doctype": "SNP Booking", "name": b_booking},
	)
	assert response.status_code == 403
	response = doctor_a.post(
		f"{server}/api/method/cpts_snp.api.booking.cancel",
		data={"booking": b_booking, "reason": "piratage"},
	)
	assert response.status_code == 403
	assert frappe.db.get_value("SNP Booking", b_booking, ["status", "reason"]) == (
		"Booked",
		None,
	)


def test_an_anonymous_visitor_reads_nothing(server, committed):
	_user, professional = committed.doctor()
	slot = make_slot(professional, future_start(hour=9)).name
	frappe.db.commit()
	assert requests.get(f"{server}/api/resource/SNP Slot/{slot}").status_code == 403
	assert requests.get(f"{server}/api/resource/SNP Booking").status_code == 403


def test_a_doctor_declares_absences_through_the_portal_and_reads_only_his_own_templates(
	two_doctors,
):
	from cpts_snp.services import portal
	from cpts_snp.tests.factories import make_absence, make_template, next_weekday

	a, b = two_doctors.a, two_doctors.b
	mine = make_template(a.professional)
	b_template = make_template(b.professional)
	later = next_weekday(0, 8)
	b_absence = make_absence(b.professional, later, later + timedelta(days=2))
	with as_user(a.user):
		absence = portal.declare_absence(portal.current_professional(), later, later + timedelta(days=1))
		assert absence.professional == a.professional
		for professional in (a.professional, b.professional):
			with pytest.raises(frappe.PermissionError):
				make_template(professional)
			with pytest.raises(frappe.PermissionError):
				make_absence(professional, later + timedelta(days=7), later + timedelta(days=8))
		assert frappe.get_list("SNP Availability Template", pluck="name") == [mine.name]
		assert b_absence.name not in frappe.get_list("SNP Absence", pluck="name")
		with pytest.raises(frappe.PermissionError):
			frappe.get_doc("SNP Availability Template", b_template.name).check_permission("read")
	assert frappe.db.get_value("SNP Slot", b.free, "status") == "Available"


def test_the_telesecretariat_reads_calls_and_slots_but_not_settings_changes(
	two_doctors,
):
	telesecretary = make_user(roles=["Télésecrétaire"], desk_user=True)
	with as_user(telesecretary):
		assert frappe.has_permission("SNP Call", "create")
		assert not frappe.has_permission("SNP Availability Template", "create")
		settings = frappe.get_single("SNP Settings")
		settings.booking_horizon_hours = 72
		with pytest.raises(frappe.PermissionError):
			settings.save()
	frappe.clear_document_cache("SNP Settings", "SNP Settings")


def test_doctors_have_no_access_to_calls(two_doctors):
	with as_user(two_doctors.a.user):
		assert not frappe.has_permission("SNP Call", "read")
		with pytest.raises(frappe.PermissionError):
			frappe.get_list("SNP Call")
