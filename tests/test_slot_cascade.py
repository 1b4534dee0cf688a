"""The slot cascade: a slot the CPTS's telesecretariat keeps for itself is not offered to partners nor to the SAS
searches; still free 24 h before it starts it opens to them, and 2 h before its doctor and the coordination are
told, once. And two simultaneous moves (or a move and a booking) onto one slot: exactly one wins."""

from datetime import timedelta

import frappe
import pytest
from cpts_snp.exceptions import SlotUnavailableError
from cpts_snp.services import cascade
from cpts_snp.services.booking import book_slot, move_booking
from cpts_snp.tests.factories import (
	PATIENT,
	as_user,
	future_start,
	make_professional,
	make_slot,
	unique_suffix,
	users_made_as_at_install,
)
from cpts_snp.tests.partner_factories import make_partner
from frappe.tests.utils import change_settings
from frappe.utils import get_datetime, now_datetime
from test_concurrency import race

RESERVED, OPEN = "CPTS telesecretariat", "Open to partners"


@pytest.fixture
def doctor():
	return make_professional(email="dr.cascade@cpts-test.fr").name


def reserved_slot(professional, **values):
	return make_slot(professional, future_start(days=5, hour=10), reserved_for=RESERVED, **values)


def partner_user() -> str:
	"""A partner user with a username of its own (Frappe's suggestion, its first name, may be taken meanwhile by
	another process of the machine creating test users)."""
	email = f"partenaire-{unique_suffix()}@cpts-test.fr"
	with users_made_as_at_install():
		user = frappe.get_doc(
			{
				"doctype": "User",
				"email": email,
				"first_name": "Partenaire",
				"username": email.split("@")[0],
				"send_welcome_email": 0,
			}
		).insert()
		user.add_roles("Partenaire SNP")
	frappe.clear_cache(user=email)
	return email


def alerts_for(slot) -> int:
	return frappe.db.count("Email Queue", {"reference_doctype": "SNP Slot", "reference_name": slot})


def test_a_new_slot_is_offered_as_the_settings_say(doctor):
	assert make_slot(doctor, future_start(days=5, hour=9)).reserved_for == OPEN
	with change_settings("SNP Settings", {"slot_reserved_for_default": RESERVED}):
		assert make_slot(doctor, future_start(days=5, hour=11)).reserved_for == RESERVED


def test_slots_generated_from_a_template_reserved_for_the_telesecretariat_are_reserved(doctor):
	from cpts_snp.services.generation import generate_for_template
	from cpts_snp.tests.factories import make_template

	template = make_template(doctor, reserved_for=RESERVED)
	created = generate_for_template(template, weeks=2)
	assert created
	assert {frappe.db.get_value("SNP Slot", name, "reserved_for") for name in created} == {RESERVED}


def test_a_reserved_slot_opens_to_partners_24_hours_before_not_earlier(doctor):
	slot = reserved_slot(doctor)
	start = get_datetime(slot.starts_at)

	cascade.run(now=start - timedelta(hours=25), commit=False)
	assert frappe.db.get_value("SNP Slot", slot.name, "reserved_for") == RESERVED

	cascade.run(now=start - timedelta(hours=23), commit=False)
	opened = frappe.db.get_value(
		"SNP Slot", slot.name, ["reserved_for", "opened_to_partners_at"], as_dict=True
	)
	assert opened.reserved_for == OPEN and opened.opened_to_partners_at


def test_a_booked_reserved_slot_is_not_opened(doctor):
	slot = reserved_slot(doctor)
	book_slot(slot.name, PATIENT)
	cascade.run(now=get_datetime(slot.starts_at) - timedelta(hours=1), commit=False)
	assert frappe.db.get_value("SNP Slot", slot.name, "reserved_for") == RESERVED
	assert alerts_for(slot.name) == 0


def test_the_doctor_and_the_coordination_are_told_once_2_hours_before_that_the_slot_is_still_free(doctor):
	slot = reserved_slot(doctor)
	start = get_datetime(slot.starts_at)

	cascade.run(now=start - timedelta(hours=3), commit=False)
	assert alerts_for(slot.name) == 0
	cascade.run(now=start - timedelta(hours=2), commit=False)
	cascade.run(now=start - timedelta(hours=1, minutes=55), commit=False)
	cascade.run(now=start - timedelta(hours=1), commit=False)

	assert alerts_for(slot.name) == 1
	queue = frappe.get_all("Email Queue", {"reference_name": slot.name}, pluck="name")
	recipients = frappe.get_all("Email Queue Recipient", {"parent": ("in", queue)}, pluck="recipient")
	assert "dr.cascade@cpts-test.fr" in recipients
	assert frappe.db.get_value("SNP Slot", slot.name, "still_free_alert_at")


def test_an_ordinary_free_slot_raises_no_cascade_alert(doctor):
	slot = make_slot(doctor, future_start(days=5, hour=14))
	cascade.run(now=get_datetime(slot.starts_at) - timedelta(hours=1), commit=False)
	assert alerts_for(slot.name) == 0


def test_partners_neither_see_nor_book_a_reserved_slot_until_it_opens(doctor):
	from cpts_snp.api.partners import book, free_slots

	user = partner_user()
	make_partner(users=[user], partner_type="SAS / SAMU")
	slot = reserved_slot(doctor)
	window = {"start": str(get_datetime(slot.starts_at) - timedelta(hours=1)), "end": str(slot.starts_at)}

	with as_user(user):
		assert slot.name not in [s.name for s in free_slots(**window)]
		assert not frappe.has_permission("SNP Slot", "read", slot.name)
		with pytest.raises(SlotUnavailableError):
			book(slot.name, "Durand", "Louise", "1987-03-12")

	cascade.run(now=get_datetime(slot.starts_at) - timedelta(hours=23), commit=False)
	with as_user(user):
		assert slot.name in [s.name for s in free_slots(**window)]


def test_the_sas_searches_leave_out_reserved_slots(doctor):
	from cpts_snp.services import sas_directory

	place = frappe.get_doc(
		{
			"doctype": "SNP Place",
			"place_name": "Maison de santé de la cascade",
			"address_line": "12 rue des Tilleuls",
			"postal_code": "44400",
			"city": "Rezé",
			"phone": "02 40 12 34 56",
			"finess": "440012345",
		}
	).insert()
	frappe.db.set_value("SNP Professional", doctor, "place", place.name)
	reserved = reserved_slot(doctor)
	offered = make_slot(doctor, future_start(days=5, hour=11))
	start = get_datetime(reserved.starts_at)

	rows, _places = sas_directory.published_slots(
		sas_directory.professionals(names=[doctor]), start - timedelta(hours=1), start + timedelta(hours=2)
	)
	assert offered.name in [row.name for row in rows]
	assert reserved.name not in [row.name for row in rows]


def test_the_telesecretariat_books_a_reserved_slot(doctor):
	slot = reserved_slot(doctor)
	assert book_slot(slot.name, PATIENT).slot == slot.name


# --- Simultaneous moves ---


def test_two_moves_to_one_slot_at_the_same_moment_exactly_one_succeeds(committed):
	professional = committed.professional()
	first = book_slot(make_slot(professional, future_start(days=6, hour=9)).name, PATIENT).name
	second = book_slot(make_slot(professional, future_start(days=6, hour=10)).name, PATIENT).name
	target = make_slot(professional, future_start(days=6, hour=11)).name
	frappe.db.commit()

	outcomes = race([lambda: move_booking(first, target).name, lambda: move_booking(second, target).name])

	assert sorted(kind for kind, _ in outcomes) == ["ok", "refused"]
	assert isinstance(next(v for k, v in outcomes if k == "refused"), SlotUnavailableError)
	assert frappe.db.count("SNP Booking", {"slot": target}) == 1
	assert frappe.db.get_value("SNP Slot", target, "status") == "Booked"


def test_a_move_and_a_booking_on_one_slot_at_the_same_moment_exactly_one_succeeds(committed):
	professional, other = committed.professional(), committed.professional()
	booking = book_slot(make_slot(professional, future_start(days=6, hour=9)).name, PATIENT).name
	target = make_slot(other, future_start(days=6, hour=11)).name
	frappe.db.commit()

	outcomes = race(
		[
			lambda: move_booking(booking, target).name,
			lambda: book_slot(target, {**PATIENT, "patient_last_name": "Autre"}).name,
		]
	)

	assert sorted(kind for kind, _ in outcomes) == ["ok", "refused"]
	assert isinstance(next(v for k, v in outcomes if k == "refused"), SlotUnavailableError)
	assert frappe.db.count("SNP Booking", {"active_slot": target}) == 1
	# whoever lost, the first slot is consistent with its booking
	moved = frappe.db.get_value("SNP Booking", booking, "slot") == target
	first_slot = frappe.db.get_value("SNP Slot", {"professional": professional}, "status")
	assert first_slot == ("Available" if moved else "Booked")


def test_two_runs_of_the_cascade_at_the_same_moment_send_the_still_free_alert_once(committed):
	professional = committed.professional()
	frappe.db.set_value("SNP Professional", professional, "email", "dr.cascade.race@cpts-test.fr")
	start = (now_datetime() + timedelta(minutes=90)).replace(second=0, microsecond=0)
	slot = make_slot(professional, start, reserved_for=RESERVED).name
	frappe.db.commit()
	try:
		outcomes = race([lambda: cascade.run(commit=False), lambda: cascade.run(commit=False)])
		assert [kind for kind, _ in outcomes] == ["ok", "ok"], outcomes
		assert alerts_for(slot) == 1, (
			outcomes,
			frappe.db.get_value("SNP Slot", slot, ["reserved_for", "still_free_alert_at"]),
		)
	finally:
		frappe.db.delete("Email Queue", {"reference_doctype": "SNP Slot", "reference_name": slot})
		frappe.db.commit()
