"""Territorial partners: identifiers, users, and what a partner user sees and books in the desk."""

from datetime import timedelta

import frappe
import pytest
from frappe.utils import add_days, now_datetime, today

from cpts_snp.exceptions import InvalidCodeError, PartnerAccessError
from cpts_snp.partners.report.activite_des_partenaires.activite_des_partenaires import execute
from cpts_snp.services.booking import book_slot
from cpts_snp.services.partners import PARTNER_ROLE, log_access
from cpts_snp.tests.factories import PATIENT, as_user, future_start, make_professional, make_slot, make_user
from cpts_snp.tests.partner_factories import VALID_SIRET, make_partner, make_partner_user


def in_hours(hours):
	return (now_datetime() + timedelta(hours=hours)).replace(second=0, microsecond=0)


def test_a_partner_needs_a_valid_finess_or_siret():
	with pytest.raises(InvalidCodeError):
		make_partner(finess=None)
	with pytest.raises(InvalidCodeError):
		make_partner(finess="44000028")
	with pytest.raises(InvalidCodeError):
		make_partner(finess=None, siret="73282932000075")
	assert make_partner(finess=None, siret="732 829 320 00074").siret == VALID_SIRET
	assert make_partner(finess="2A0000014").finess == "2A0000014"


def test_a_user_belongs_to_one_partner_only_and_gets_the_partner_role():
	user = make_user(roles=[], desk_user=True)
	make_partner(users=[user])
	assert PARTNER_ROLE in frappe.get_roles(user)
	with pytest.raises(frappe.ValidationError):
		make_partner(users=[user])


def test_a_partner_user_booking_records_his_partner_and_the_sas_channel():
	user = make_partner_user()
	partner = make_partner(users=[user], partner_type="SAS / SAMU")
	slot = make_slot(make_professional().name, in_hours(5))
	with as_user(user):
		booking = book_slot(slot.name, PATIENT)
	assert (booking.partner, booking.channel, booking.regulated) == (partner.name, "SAS", 1)
	assert booking.booked_by == user


def test_an_emergency_department_booking_has_its_channel():
	user = make_partner_user()
	make_partner(users=[user], partner_type="Emergency department")
	slot = make_slot(make_professional().name, in_hours(5))
	with as_user(user):
		booking = book_slot(slot.name, PATIENT, channel="Telesecretariat")
	assert booking.channel == "Emergency department"


def test_a_view_only_partner_cannot_book_in_the_desk():
	user = make_partner_user()
	make_partner(users=[user], access_level="View availability")
	slot = make_slot(make_professional().name, in_hours(5))
	with as_user(user):
		assert frappe.get_list("SNP Slot", filters={"name": slot.name}, pluck="name") == [slot.name]
		with pytest.raises(frappe.PermissionError):
			book_slot(slot.name, PATIENT)
	assert frappe.db.get_value("SNP Slot", slot.name, "status") == "Available"


def test_a_partner_outside_its_access_period_cannot_book():
	user = make_partner_user()
	make_partner(users=[user], active_from=add_days(today(), -30), active_to=add_days(today(), -1))
	slot = make_slot(make_professional().name, in_hours(5))
	with as_user(user), pytest.raises(frappe.PermissionError):
		book_slot(slot.name, PATIENT)


def test_partner_a_cannot_see_partner_b_bookings_in_the_desk():
	a_user, b_user = make_partner_user(), make_partner_user()
	make_partner(users=[a_user])
	make_partner(users=[b_user])
	professional = make_professional().name
	a_slot, b_slot = make_slot(professional, in_hours(5)), make_slot(professional, in_hours(6))
	with as_user(a_user):
		a_booking = book_slot(a_slot.name, PATIENT).name
	with as_user(b_user):
		b_booking = book_slot(b_slot.name, {**PATIENT, "patient_last_name": "Secret"}).name
	with as_user(a_user):
		assert frappe.get_list("SNP Booking", pluck="name", limit_page_length=0) == [a_booking]
		with pytest.raises(frappe.PermissionError):
			frappe.get_doc("SNP Booking", b_booking).check_permission("read")
		slots = set(frappe.get_list("SNP Slot", pluck="name", limit_page_length=0))
		assert a_slot.name in slots and b_slot.name not in slots
		assert frappe.get_doc("SNP Slot", a_slot.name).has_permission("read")
		assert not frappe.has_permission("SNP Slot", "read", doc=b_slot.name)


def test_a_partner_user_without_partner_sees_no_booking_and_cannot_book():
	user = make_partner_user()
	slot = make_slot(make_professional().name, in_hours(5))
	with as_user(user):
		assert frappe.get_list("SNP Booking") == []
		with pytest.raises(frappe.PermissionError):
			book_slot(slot.name, PATIENT)


def test_a_partner_user_sees_only_his_own_partner():
	user = make_partner_user()
	mine = make_partner(users=[user])
	other = make_partner()
	with as_user(user):
		names = frappe.get_list("SNP Partner", pluck="name", limit_page_length=0)
		assert names == [mine.name]
		assert not frappe.has_permission("SNP Partner", "read", doc=other.name)


def test_the_coordinator_reads_the_access_log_and_partners_do_not():
	user = make_partner_user()
	partner = make_partner(users=[user])
	with as_user(user):
		log_access("Search slots", "Slot", {"start": "ge2026-12-01"}, 3, partner.name)
		with pytest.raises(frappe.PermissionError):
			frappe.get_list("SNP Partner Access Log")
	coordinator = make_user(roles=["Coordinateur CPTS"], desk_user=True)
	with as_user(coordinator):
		rows = frappe.get_list(
			"SNP Partner Access Log",
			filters={"partner": partner.name},
			fields=["user", "action", "record_count"],
		)
		assert [(r.user, r.action, r.record_count) for r in rows] == [(user, "Search slots", 3)]
		assert not frappe.has_permission("SNP Partner Access Log", "write")


def test_a_desk_booking_of_a_partner_user_is_logged():
	user = make_partner_user()
	partner = make_partner(users=[user])
	slot = make_slot(make_professional().name, in_hours(5))
	with as_user(user):
		booking = book_slot(slot.name, PATIENT)
	assert frappe.get_all(
		"SNP Partner Access Log", filters={"partner": partner.name}, fields=["action", "resource", "user"]
	) == [{"action": "Book", "resource": f"SNP Booking/{booking.name}", "user": user}]


def test_the_partner_report_counts_bookings_honoured_and_no_shows():
	user = make_partner_user()
	partner = make_partner(users=[user])
	idle = make_partner()
	professional = make_professional().name
	slots = [make_slot(professional, future_start(days=2, hour=h)) for h in (9, 10, 11)]
	with as_user(user):
		bookings = [book_slot(slot.name, PATIENT) for slot in slots]
	frappe.db.set_value("SNP Booking", bookings[0].name, "status", "Honoured")
	frappe.db.set_value("SNP Booking", bookings[1].name, "status", "No-show")
	_columns, data = execute({"from_date": today(), "to_date": add_days(today(), 7)})
	rows = {row["partner"]: row for row in data}
	assert (
		rows[partner.name]["bookings"],
		rows[partner.name]["honoured"],
		rows[partner.name]["no_shows"],
	) == (
		3,
		1,
		1,
	)
	assert rows[partner.name]["no_show_rate"] == 50.0
	assert rows[idle.name]["bookings"] == 0
