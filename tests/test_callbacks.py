"""The call-back list: « aucun créneau » puts the caller on it for a sector and dates; a slot published or freed in
that sector (or a neighbouring one) on those dates reaches the télésecrétariat first, notified once per request and
slot; a doctor publishing sees how many requests wait in his sectors; past requests leave the list."""

import frappe
import pytest
from cpts_snp.api import telesecretariat as desk_api
from cpts_snp.services import callbacks
from cpts_snp.services.booking import book_slot
from cpts_snp.services.telesecretariat import book_and_log_call
from cpts_snp.tests.factories import (
	PATIENT,
	as_user,
	future_start,
	make_professional,
	make_sector,
	make_slot,
	make_user,
)
from frappe.utils import add_days, getdate, today

DAYS_AHEAD = 3


@pytest.fixture
def world():
	sector = make_sector().name
	neighbour = make_sector(neighbours=[{"sector": sector}]).name
	elsewhere = make_sector().name
	professional = make_professional(sector=sector).name
	telesecretary = make_user(["Télésecrétaire"], desk_user=True)
	return frappe._dict(
		sector=sector,
		neighbour=neighbour,
		elsewhere=elsewhere,
		professional=professional,
		telesecretary=telesecretary,
	)


def wanted_day(days=DAYS_AHEAD):
	return getdate(add_days(today(), days))


def put_on_list(world, **values):
	with as_user(world.telesecretary):
		name = desk_api.put_on_callback_list(
			callback={
				**PATIENT,
				"sector": world.sector,
				"wanted_from": str(wanted_day()),
				"reason_category": "Fever or infection",
				**values,
			},
			call={"caller_type": "Patient"},
		)
	return frappe.get_doc("SNP Callback", name)


def notifications_of(callback, user):
	return frappe.db.count(
		"Notification Log", {"document_type": "SNP Callback", "document_name": callback, "for_user": user}
	)


def test_no_slot_puts_the_caller_on_the_list_with_his_patient_and_the_call(world):
	callback = put_on_list(world)
	assert (callback.status, callback.requested_by, str(callback.wanted_to)) == (
		"Waiting",
		world.telesecretary,
		str(wanted_day()),
	)
	assert callback.patient
	call = frappe.get_doc("SNP Call", callback.call)
	assert (call.outcome, call.patient) == ("No slot available", callback.patient)


def test_a_new_slot_in_the_sector_on_the_wanted_day_is_offered_and_notified_once(world):
	callback = put_on_list(world)
	slot = make_slot(world.professional, future_start(days=DAYS_AHEAD, hour=11), sector=world.sector).name
	callbacks.match_waiting()
	served = frappe.get_doc("SNP Callback", callback.name)
	assert ([row.slot for row in served.offers], served.status) == ([slot], "Offered")
	assert notifications_of(callback.name, world.telesecretary) == 1
	callbacks.match_waiting()  # the scheduler or a second worker runs it again
	assert notifications_of(callback.name, world.telesecretary) == 1
	assert len(frappe.get_doc("SNP Callback", callback.name).offers) == 1


def test_a_slot_in_a_neighbouring_sector_matches_too(world):
	callback = put_on_list(world)
	slot = make_slot(world.professional, future_start(days=DAYS_AHEAD, hour=11), sector=world.neighbour).name
	assert [
		s.name
		for s in callbacks.matching_slots([frappe.get_doc("SNP Callback", callback.name)])[callback.name]
	] == [slot]


def test_a_slot_of_another_sector_or_another_day_does_not_match(world):
	callback = put_on_list(world)
	make_slot(world.professional, future_start(days=DAYS_AHEAD, hour=11), sector=world.elsewhere)
	make_slot(world.professional, future_start(days=DAYS_AHEAD + 1, hour=11), sector=world.sector)
	callbacks.match_waiting()
	assert frappe.get_doc("SNP Callback", callback.name).offers == []
	assert notifications_of(callback.name, world.telesecretary) == 0


def test_a_slot_freed_by_a_cancellation_is_offered(world):
	slot = make_slot(world.professional, future_start(days=DAYS_AHEAD, hour=11), sector=world.sector).name
	booking = book_slot(slot, {**PATIENT, "patient_first_name": "Autre"})
	callback = put_on_list(world)
	callbacks.match_waiting()
	assert frappe.get_doc("SNP Callback", callback.name).offers == []
	booking.status = "Cancelled"
	booking.cancellation_reason = "Empêchement du patient"
	booking.save()
	assert frappe.flags.cpts_callback_matching_checked  # the job is queued for after the commit
	callbacks.match_waiting()
	assert [row.slot for row in frappe.get_doc("SNP Callback", callback.name).offers] == [slot]


def test_the_desk_panel_shows_matched_requests_first_and_books_one_in_one_action(world):
	unmatched = put_on_list(world, wanted_from=str(wanted_day(DAYS_AHEAD + 5)))
	matched = put_on_list(world, patient_first_name="Jules")
	slot = make_slot(world.professional, future_start(days=DAYS_AHEAD, hour=11), sector=world.sector).name
	with as_user(world.telesecretary):
		panel = desk_api.waiting_callbacks()
	mine = [c for c in panel if c.name in (matched.name, unmatched.name)]
	assert [c.name for c in mine] == [matched.name, unmatched.name]
	assert [s.name for s in mine[0].slots] == [slot] and mine[1].slots == []
	with as_user(world.telesecretary):
		result = desk_api.book(
			slot=slot,
			patient={
				k: matched.get(k)
				for k in ("patient_last_name", "patient_first_name", "patient_date_of_birth", "patient_phone")
			},
			call={"caller_type": "Patient"},
			callback=matched.name,
		)
	served = frappe.get_doc("SNP Callback", matched.name)
	assert (served.status, served.booking) == ("Booked", result["booking"])
	assert result["patient"] == served.patient
	with as_user(world.telesecretary):
		assert matched.name not in [c.name for c in desk_api.waiting_callbacks()]


def test_requests_whose_dates_are_past_leave_the_list_once(world):
	past = put_on_list(world, wanted_from=str(add_days(today(), -3)), wanted_to=str(add_days(today(), -1)))
	current = put_on_list(world)
	assert callbacks.expire() >= 1
	assert frappe.db.get_value("SNP Callback", past.name, "status") == "Dropped"
	assert frappe.db.get_value("SNP Callback", current.name, "status") == "Waiting"
	modified = frappe.db.get_value("SNP Callback", past.name, "modified")
	callbacks.expire()
	assert frappe.db.get_value("SNP Callback", past.name, "modified") == modified


def test_a_doctor_publishing_sees_how_many_requests_wait_in_his_sectors(world):
	from cpts_snp.services.portal import monday_of, week_view

	put_on_list(world)
	put_on_list(world, sector=world.neighbour, patient_first_name="Jules")
	put_on_list(world, sector=world.elsewhere, patient_first_name="Paul")
	assert week_view(world.professional, monday_of(wanted_day()))["waiting_callbacks"] == 2


def test_a_doctor_cannot_read_the_call_back_list(world):
	from cpts_snp.tests.factories import make_doctor

	put_on_list(world)
	doctor, _own = make_doctor()
	with as_user(doctor), pytest.raises(frappe.PermissionError):
		desk_api.waiting_callbacks()


def test_a_telesecretary_drops_a_request(world):
	callback = put_on_list(world)
	with as_user(world.telesecretary):
		desk_api.drop_callback(callback.name)
	assert frappe.db.get_value("SNP Callback", callback.name, "status") == "Dropped"


def test_booking_a_request_already_served_is_refused(world):
	callback = put_on_list(world)
	first = make_slot(world.professional, future_start(days=DAYS_AHEAD, hour=11), sector=world.sector).name
	second = make_slot(world.professional, future_start(days=DAYS_AHEAD, hour=12), sector=world.sector).name
	book_and_log_call(first, PATIENT, {"caller_type": "Patient"}, callback=callback.name)
	with pytest.raises(frappe.ValidationError):
		book_and_log_call(second, PATIENT, {"caller_type": "Patient"}, callback=callback.name)
