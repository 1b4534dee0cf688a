"""The doctor's portal offers only the actions the server accepts (issue 15 §7): each button the pages show is
accepted when pressed, and an action the rules refuse (withdrawing a slot less than 24 hours ahead, cancelling a
consultation that has started, recording the outcome of one to come…) shows no button and is refused if posted.
The pages and the endpoints ask the same rule functions (cpts_snp.rules.slots)."""

import json
from datetime import timedelta
from html.parser import HTMLParser

import frappe
import pytest
from cpts_snp.services.booking import book_slot
from cpts_snp.tests.factories import PATIENT, make_slot
from frappe.utils import now_datetime

METHOD_PREFIX = "cpts_snp.api.portal."


def in_hours(hours: float):
	return (now_datetime() + timedelta(hours=hours)).replace(second=0, microsecond=0)


class Buttons(HTMLParser):
	"""The portal's action buttons of a page: (method, args, prompt)."""

	def __init__(self):
		super().__init__()
		self.found = []

	def handle_starttag(self, tag, attrs):
		attrs = dict(attrs)
		if tag == "button" and attrs.get("data-method", "").startswith(METHOD_PREFIX):
			self.found.append(
				(
					attrs["data-method"][len(METHOD_PREFIX) :],
					json.loads(attrs.get("data-args") or "{}"),
					attrs.get("data-prompt-arg") or ("reason" if attrs.get("data-prompt") else None),
				)
			)


def buttons(session, server, path) -> list[tuple]:
	response = session.get(f"{server}{path}")
	assert response.ok, response.text
	parser = Buttons()
	parser.feed(response.text)
	return parser.found


def press(session, server, method, args):
	return session.post(f"{server}/api/method/{METHOD_PREFIX}{method}", json=args)


@pytest.fixture
def agenda(committed):
	"""A doctor's slots and bookings, one of each case (committed, for HTTP)."""
	user, professional = committed.doctor()
	slot = lambda hours: make_slot(professional, in_hours(hours)).name  # noqa: E731
	world = frappe._dict(user=user, professional=professional)
	world.free_later = slot(50)  # free, in more than 24 h: withdrawn by the doctor
	world.free_soon = slot(3)  # free, in 3 h: only the coordination withdraws it
	world.free_past = slot(-5)  # free, already past
	world.booked_later = slot(30)
	world.booking_later = book_slot(world.booked_later, PATIENT).name  # to come: cancelled, no outcome yet
	world.booked_past = slot(-3)
	world.booking_past = book_slot(world.booked_past, PATIENT).name  # started: outcome, no cancellation
	world.honoured_past = slot(-27)
	world.booking_honoured = book_slot(world.honoured_past, PATIENT).name
	frappe.db.set_value("SNP Booking", world.booking_honoured, "status", "Honoured")
	frappe.db.set_value("SNP Slot", world.honoured_past, "status", "Honoured")
	world.cancelled_later = slot(40)
	world.booking_cancelled = book_slot(world.cancelled_later, PATIENT).name
	frappe.db.set_value(
		"SNP Booking", world.booking_cancelled, {"status": "Cancelled", "cancellation_reason": "Test"}
	)
	frappe.db.set_value("SNP Slot", world.cancelled_later, "status", "Available")
	frappe.db.commit()
	return world


def week_of(hours: float) -> str:
	return str(in_hours(hours).date())


def slot_buttons(session, server, world) -> list[tuple]:
	found = []
	for hours in (-27, -5, 3, 50):
		for button in buttons(session, server, f"/snp/creneaux?semaine={week_of(hours)}"):
			if button not in found:
				found.append(button)
	return found


def test_the_slot_pages_offer_withdrawal_only_of_a_free_slot_24_hours_ahead_and_the_server_accepts_it(
	server, http_login, agenda
):
	session = http_login(agenda.user)
	withdrawals = {
		args["slot"] for method, args, _ in slot_buttons(session, server, agenda) if method == "withdraw_slot"
	}
	assert withdrawals == {agenda.free_later, agenda.cancelled_later}
	for slot in withdrawals:
		assert press(session, server, "withdraw_slot", {"slot": slot}).ok
	frappe.db.rollback()
	assert frappe.db.get_value("SNP Slot", agenda.free_later, "status") == "Cancelled"


@pytest.mark.parametrize("case", ["free_soon", "free_past", "booked_later", "booked_past", "honoured_past"])
def test_a_slot_without_a_withdraw_button_is_refused_by_the_server(server, http_login, agenda, case):
	session = http_login(agenda.user)
	shown = [args for method, args, _ in slot_buttons(session, server, agenda) if method == "withdraw_slot"]
	assert {"slot": agenda[case]} not in shown
	response = press(session, server, "withdraw_slot", {"slot": agenda[case]})
	assert response.status_code == 417
	frappe.db.rollback()
	assert frappe.db.get_value("SNP Slot", agenda[case], "status") != "Cancelled"


def test_the_appointments_page_offers_only_what_the_server_accepts_and_each_is_accepted(
	server, http_login, agenda
):
	session = http_login(agenda.user)
	shown = buttons(session, server, "/snp/rendez-vous")
	offered = {(method, args.get("booking"), args.get("status")) for method, args, _ in shown}
	assert offered == {
		("cancel_booking", agenda.booking_later, None),
		("record_outcome", agenda.booking_past, "Honoured"),
		("record_outcome", agenda.booking_past, "No-show"),
		("record_outcome", agenda.booking_honoured, "No-show"),
	}
	for method, args, prompt_arg in shown:
		if prompt_arg:
			args = {**args, prompt_arg: "Empêchement du médecin"}
		response = press(session, server, method, args)
		assert response.ok, response.text
	frappe.db.rollback()
	assert frappe.db.get_value("SNP Booking", agenda.booking_later, "status") == "Cancelled"
	assert frappe.db.get_value("SNP Booking", agenda.booking_honoured, "status") == "No-show"


@pytest.mark.parametrize(
	"method, booking, extra",
	[
		(
			"cancel_booking",
			"booking_past",
			{"reason": "Trop tard"},
		),  # started: its outcome is recorded instead
		("cancel_booking", "booking_cancelled", {"reason": "Deux fois"}),
		("record_outcome", "booking_later", {"status": "Honoured"}),  # not started yet
		("record_outcome", "booking_later", {"status": "No-show"}),
		("record_outcome", "booking_honoured", {"status": "Honoured"}),  # already so
		("record_outcome", "booking_cancelled", {"status": "Honoured"}),
	],
)
def test_an_action_the_appointments_page_does_not_offer_is_refused_by_the_server(
	server, http_login, agenda, method, booking, extra
):
	session = http_login(agenda.user)
	shown = buttons(session, server, "/snp/rendez-vous")
	status = extra.get("status")
	assert not [
		b
		for b in shown
		if b[0] == method and b[1].get("booking") == agenda[booking] and b[1].get("status") == status
	]
	before = frappe.db.get_value("SNP Booking", agenda[booking], "status")
	response = press(session, server, method, {"booking": agenda[booking], **extra})
	assert response.status_code == 417, response.text
	frappe.db.rollback()
	assert frappe.db.get_value("SNP Booking", agenda[booking], "status") == before
