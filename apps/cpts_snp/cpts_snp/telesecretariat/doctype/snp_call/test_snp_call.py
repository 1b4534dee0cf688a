"""Calls and the telesecretariat's search-and-book."""

from datetime import timedelta

import frappe
import pytest
from frappe.utils import add_to_date, get_datetime, now_datetime

from cpts_snp.exceptions import SlotUnavailableError
from cpts_snp.services.telesecretariat import book_and_log_call, find_free_slots, log_call
from cpts_snp.tests.factories import PATIENT, make_professional, make_sector, make_slot


def in_hours(hours: float):
	return (now_datetime() + timedelta(hours=hours)).replace(second=0, microsecond=0)


@pytest.fixture
def territory():
	"""Three sectors: Rezé-test and its neighbour Bouguenais-test, and far-away Clisson-test; one doctor each."""
	far = make_sector(
		sector_name="Clisson-test " + frappe.generate_hash(length=4), communes="Clisson\nGétigné"
	)
	near = make_sector(sector_name="Bouguenais-test " + frappe.generate_hash(length=4))
	home = make_sector(
		sector_name="Rezé-test " + frappe.generate_hash(length=4),
		insee_code="44143",
		communes="Rezé\nTrentemoult-le-port-de-test",
		neighbours=[{"sector": near.name}],
	)
	doctors = {
		key: make_professional(sector=sector.name).name
		for key, sector in (("home", home), ("near", near), ("far", far))
	}
	return frappe._dict(home=home.name, near=near.name, far=far.name, doctors=frappe._dict(doctors))


def names(result):
	return [slot.name for slot in result["slots"]]


def test_free_slots_within_the_horizon_soonest_first(territory):
	d = territory.doctors
	later = make_slot(d.home, in_hours(30)).name
	sooner = make_slot(d.far, in_hours(3)).name
	beyond = make_slot(d.home, in_hours(50)).name
	past = make_slot(d.home, in_hours(-2)).name
	taken = make_slot(d.near, in_hours(5))
	book_and_log_call(taken.name, PATIENT, {"caller_type": "Patient"})
	found = names(find_free_slots())
	assert found.index(sooner) < found.index(later)
	assert beyond not in found and past not in found and taken.name not in found


def test_the_callers_sector_comes_first_then_its_neighbours_then_the_rest(territory):
	d = territory.doctors
	far = make_slot(d.far, in_hours(2)).name
	near = make_slot(d.near, in_hours(4)).name
	home = make_slot(d.home, in_hours(6)).name
	result = find_free_slots("Trentemoult-le-port-de-test")
	assert result["sectors"] == [territory.home]
	order = [n for n in names(result) if n in (far, near, home)]
	assert order == [home, near, far]
	distances = {slot.name: slot.distance for slot in result["slots"]}
	assert (distances[home], distances[near], distances[far]) == (0, 1, 2)


def test_a_commune_is_found_by_its_insee_code_and_neighbours_work_both_ways(territory):
	from cpts_snp.services.telesecretariat import match_sectors, neighbours_of

	assert territory.home in match_sectors("44143")
	assert neighbours_of({territory.near}) == {territory.home}


def test_an_unknown_commune_gets_a_clear_french_message(territory):
	from cpts_snp.exceptions import UnknownCommuneError

	with pytest.raises(UnknownCommuneError, match="Aucun secteur de la CPTS ne correspond à « Atlantis »"):
		find_free_slots("Atlantis")


def test_booking_from_a_call_logs_both_in_one_action(territory):
	slot = make_slot(territory.doctors.home, in_hours(4))
	booking, call = book_and_log_call(
		slot.name,
		PATIENT,
		{
			"caller_type": "SAS",
			"received_at": in_hours(-0.5),
			"reason_category": "Fever or infection",
			"has_gp": 1,
			"gp_available": "No",
		},
		reason="Fièvre",
	)
	assert call.outcome == "SNP appointment booked" and call.booking == booking.name
	assert frappe.db.get_value("SNP Booking", booking.name, "call") == call.name
	assert booking.channel == "SAS" and booking.regulated and booking.is_snp
	assert get_datetime(booking.requested_at) == get_datetime(call.received_at)
	assert call.sector == territory.home and call.handled_by == "Administrator"


def test_a_taken_slot_logs_no_call(territory):
	slot = make_slot(territory.doctors.home, in_hours(4))
	book_and_log_call(slot.name, PATIENT, {"caller_type": "Patient"})
	calls = frappe.db.count("SNP Call")
	with pytest.raises(SlotUnavailableError):
		book_and_log_call(slot.name, PATIENT, {"caller_type": "Patient"})
	assert frappe.db.count("SNP Call") == calls


def test_calls_without_booking_keep_their_outcome():
	call = log_call({"caller_type": "Pharmacist", "commune": "Rezé"}, "Referred to the 15")
	assert call.outcome == "Referred to the 15" and not call.booking


@pytest.mark.parametrize(
	"values, message",
	[
		({"outcome": "SNP appointment booked"}, "Réservez un créneau"),
		({"outcome": "Advice given", "received_at": add_to_date(now_datetime(), hours=2)}, "dans le futur"),
	],
)
def test_inconsistent_calls_are_refused_in_french(values, message):
	with pytest.raises(frappe.ValidationError, match=message):
		frappe.get_doc({"doctype": "SNP Call", "caller_type": "Patient", **values}).insert()


def test_the_gp_availability_is_only_kept_when_the_patient_has_a_gp():
	call = log_call({"caller_type": "Patient", "has_gp": 0, "gp_available": "No"}, "Advice given")
	assert not call.gp_available
