"""The partner API and Frappe's REST API for territorial partners over HTTP: token authentication, booking
with the partner and its channel recorded, never another partner's patients, view-only partners refused,
reads logged, requests limited per minute."""

import frappe
import requests
from cpts_snp.tests.factories import PATIENT, future_start, make_slot
from cpts_snp.tests.http import server_messages
from frappe.utils import add_days, getdate, today

DAY = 21
METHOD = "/api/method/cpts_snp.api.partners"


def token(value: str) -> dict:
	return {"Authorization": f"token {value}"}


def book(server, partner, slot, last_name="Durand"):
	return requests.post(
		f"{server}{METHOD}.book",
		data={**PATIENT, "patient_last_name": last_name, "slot": slot},
		headers=token(partner.token),
		timeout=60,
	)


def test_a_partner_books_with_his_token_and_the_booking_records_partner_and_channel(
	server, committed, partners
):
	slots = [make_slot(committed.professional(), future_start(DAY, h)).name for h in (9, 10)]
	frappe.db.commit()
	a = book(server, partners.a, slots[0])
	b = book(server, partners.b, slots[1])
	assert a.ok and b.ok, (a.text, b.text)
	assert (a.json()["message"]["partner"], a.json()["message"]["channel"]) == (partners.a.partner, "SAS")
	assert (b.json()["message"]["partner"], b.json()["message"]["channel"]) == (
		partners.b.partner,
		"Emergency department",
	)
	taken = book(server, partners.b, slots[0], "Martin")
	assert taken.status_code == 417 and "plus disponible" in server_messages(taken)


def test_partner_a_cannot_see_partner_b_bookings_through_the_rest_api(server, committed, partners):
	slots = [make_slot(committed.professional(), future_start(DAY, h)).name for h in (11, 12)]
	frappe.db.commit()
	a_booking = book(server, partners.a, slots[0]).json()["message"]["name"]
	b_booking = book(server, partners.b, slots[1], "Secret").json()["message"]["name"]

	headers = token(partners.a.token)
	listed = requests.get(
		f"{server}/api/resource/SNP Booking", params={"limit_page_length": 0}, headers=headers, timeout=60
	).json()["data"]
	assert [row["name"] for row in listed] == [a_booking]
	assert requests.get(f"{server}/api/resource/SNP Booking/{a_booking}", headers=headers).ok
	assert requests.get(f"{server}/api/resource/SNP Booking/{b_booking}", headers=headers).status_code == 403
	assert requests.get(f"{server}/api/resource/SNP Slot/{slots[1]}", headers=headers).status_code == 403
	mine = requests.get(f"{server}{METHOD}.my_bookings", headers=headers, timeout=60).json()["message"]
	assert [row["name"] for row in mine] == [a_booking]
	response = requests.get(
		f"{server}/api/method/frappe.client.get",
		params={"doctype": "SNP Booking", "name": b_booking},
		headers=headers,
		timeout=60,
	)
	assert response.status_code == 403


def test_a_view_only_partner_cannot_book_through_the_api(server, committed, partners):
	slot = make_slot(committed.professional(), future_start(DAY, 13)).name
	frappe.db.commit()
	headers = token(partners.v.token)
	free = requests.get(
		f"{server}{METHOD}.free_slots",
		params={"start": str(future_start(DAY, 0)), "end": str(future_start(DAY + 1, 0))},
		headers=headers,
		timeout=60,
	)
	assert slot in [row["name"] for row in free.json()["message"]]
	assert book(server, partners.v, slot).status_code == 403
	response = requests.post(
		f"{server}/api/resource/SNP Booking", json={**PATIENT, "slot": slot}, headers=headers, timeout=60
	)
	assert response.status_code == 403
	frappe.db.rollback()
	assert frappe.db.get_value("SNP Slot", slot, "status") == "Available"
	assert not frappe.db.exists("SNP Booking", {"slot": slot})


def test_a_wrong_token_is_refused(server, partners):
	key = partners.a.token.split(":")[0]
	response = requests.get(
		f"{server}{METHOD}.my_bookings", headers=token(f"{key}:not-the-secret"), timeout=60
	)
	assert response.status_code == 401
	assert requests.get(f"{server}{METHOD}.my_bookings", timeout=60).status_code == 403


def test_the_access_log_records_api_reads_and_bookings(server, committed, partners):
	slot = make_slot(committed.professional(), future_start(DAY, 14)).name
	frappe.db.commit()
	headers = token(partners.a.token)
	params = {"start": str(getdate(add_days(today(), DAY))), "end": str(getdate(add_days(today(), DAY + 1)))}
	assert requests.get(f"{server}{METHOD}.free_slots", params=params, headers=headers, timeout=60).ok
	booking = book(server, partners.a, slot).json()["message"]["name"]
	assert requests.get(f"{server}{METHOD}.my_bookings", headers=headers, timeout=60).ok
	frappe.db.rollback()
	rows = frappe.get_all(
		"SNP Partner Access Log",
		filters={"user": partners.a.user},
		fields=["partner", "action", "resource", "record_count"],
		order_by="timestamp asc, creation asc",
	)
	assert [(r.action, r.resource) for r in rows] == [
		("Search slots", "SNP Slot"),
		("Book", f"SNP Booking/{booking}"),
		("Read bookings", "SNP Booking"),
	]
	assert rows[0].record_count >= 1 and {r.partner for r in rows} == {partners.a.partner}


def test_staff_without_the_right_to_read_slots_cannot_list_free_slots(server, committed, partners):
	from cpts_snp.tests.partner_factories import api_token

	accountant = committed.user(["Comptable CPTS"])
	coordinator = committed.user(["Coordinateur CPTS"])
	slot = make_slot(committed.professional(), future_start(DAY, 16)).name
	tokens = {user: api_token(user) for user in (accountant, coordinator)}
	frappe.db.commit()
	params = {"start": str(getdate(add_days(today(), DAY))), "end": str(getdate(add_days(today(), DAY + 1)))}

	def listing(user):
		return requests.get(
			f"{server}{METHOD}.free_slots", params=params, headers=token(tokens[user]), timeout=60
		)

	assert listing(accountant).status_code == 403
	assert slot in {row["name"] for row in listing(coordinator).json()["message"]}


def test_past_the_partner_limit_the_api_answers_429(server, partners):
	frappe.db.set_value("SNP Partner", partners.b.partner, "rate_limit_per_minute", 2)
	frappe.db.commit()
	statuses = [
		requests.get(f"{server}{METHOD}.my_bookings", headers=token(partners.b.token), timeout=60).status_code
		for _ in range(4)
	]
	assert statuses == [200, 200, 429, 429]


def cancel(server, partner, booking, reason="Le patient est allé aux urgences"):
	return requests.post(
		f"{server}{METHOD}.cancel",
		data={"booking": booking, "reason": reason},
		headers=token(partner.token),
		timeout=60,
	)


def test_a_partner_cancels_its_own_booking_and_the_slot_is_offered_again(server, committed, partners):
	slot = make_slot(committed.professional(), future_start(DAY, 14)).name
	frappe.db.commit()
	booking = book(server, partners.a, slot).json()["message"]["name"]
	response = cancel(server, partners.a, booking)
	assert response.ok, response.text
	frappe.db.rollback()
	assert frappe.db.get_value("SNP Booking", booking, ["status", "cancellation_reason"]) == (
		"Cancelled",
		"Le patient est allé aux urgences",
	)
	assert frappe.db.get_value("SNP Slot", slot, "status") == "Available"
	assert frappe.db.exists(
		"SNP Partner Access Log", {"user": partners.a.user, "action": "Booking cancelled"}
	)


def test_a_partner_cannot_cancel_another_partners_booking_nor_without_reason_nor_when_view_only(
	server, committed, partners
):
	slot = make_slot(committed.professional(), future_start(DAY, 15)).name
	frappe.db.commit()
	booking = book(server, partners.b, slot).json()["message"]["name"]

	other = cancel(server, partners.a, booking)
	assert other.status_code == 404 and "introuvable" in server_messages(other)
	assert cancel(server, partners.v, booking).status_code == 403  # view only: may not book, nor cancel
	no_reason = cancel(server, partners.b, booking, reason="  ")
	assert no_reason.status_code == 417 and "motif" in server_messages(no_reason)
	frappe.db.rollback()
	assert frappe.db.get_value("SNP Booking", booking, "status") == "Booked"
	assert frappe.db.get_value("SNP Slot", slot, "status") == "Booked"


def test_a_partner_told_a_slot_is_taken_learns_nothing_of_who_took_it(server, committed, partners):
	slot = make_slot(committed.professional(), future_start(DAY, 15)).name
	frappe.db.commit()
	assert book(server, partners.a, slot, last_name="Secretissime").ok
	refused = book(server, partners.b, slot)
	assert refused.status_code == 417
	text = refused.text
	assert "n'est plus disponible" in text
	booking = frappe.db.get_value("SNP Booking", {"slot": slot}, "name")
	for secret in ("Secretissime", partners.a.partner, partners.a.user, booking):
		assert secret not in text
	frappe.db.rollback()
	frappe.db.delete("SNP Booking", {"slot": slot})
	frappe.db.commit()
