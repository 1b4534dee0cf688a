"""The telesecretariat endpoints over HTTP: book and log in one atomic action, refused for doctors."""

import json
from datetime import timedelta

import frappe
from cpts_snp.tests.factories import PATIENT, as_user, future_start, make_slot
from frappe.utils import now_datetime


def in_hours(hours):
	return (now_datetime() + timedelta(hours=hours)).replace(second=0, microsecond=0)


def test_the_telesecretary_books_and_logs_the_call_in_one_request(server, http_login, committed):
	telesecretary = committed.user(["Télésecrétaire"])
	slot = make_slot(committed.professional(), in_hours(5)).name
	frappe.db.commit()
	session = http_login(telesecretary)

	found = session.get(f"{server}/api/method/cpts_snp.api.telesecretariat.search_slots").json()["message"]
	assert slot in [s["name"] for s in found["slots"]]
	response = session.post(
		f"{server}/api/method/cpts_snp.api.telesecretariat.book",
		data={"slot": slot, "patient": json.dumps(PATIENT), "call": json.dumps({"caller_type": "SAS"}), "regulated": 1},
	)
	assert response.ok, response.text
	result = response.json()["message"]
	frappe.db.rollback()  # see what the server committed
	call = frappe.get_doc("SNP Call", result["call"])
	assert (call.booking, call.handled_by, call.outcome) == (result["booking"], telesecretary, "SNP appointment booked")
	assert result["supplement_note"] == frappe.db.get_value("SNP Booking", result["booking"], "supplement_note")
	frappe.db.delete("SNP Call", call.name)
	frappe.db.commit()


def test_a_failed_call_log_leaves_the_slot_free(server, http_login, committed):
	telesecretary = committed.user(["Télésecrétaire"])
	slot = make_slot(committed.professional(), in_hours(5)).name
	frappe.db.commit()
	future_call = {"caller_type": "Patient", "received_at": str(in_hours(3))}
	response = http_login(telesecretary).post(
		f"{server}/api/method/cpts_snp.api.telesecretariat.book",
		data={"slot": slot, "patient": json.dumps(PATIENT), "call": json.dumps(future_call)},
	)
	assert response.status_code == 417
	assert "dans le futur" in response.json()["_server_messages"]
	frappe.db.rollback()
	assert frappe.db.get_value("SNP Slot", slot, "status") == "Available"
	assert not frappe.db.exists("SNP Booking", {"slot": slot})


def test_a_doctor_can_neither_search_the_shared_agenda_nor_book_through_the_telesecretariat_endpoint(server, http_login, committed):
	doctor, _own = committed.doctor()
	other_slot = make_slot(committed.professional(), in_hours(5)).name
	frappe.db.commit()
	session = http_login(doctor)
	search = session.get(f"{server}/api/method/cpts_snp.api.telesecretariat.search_slots")
	assert search.status_code == 403 and other_slot not in search.text
	assert "Seule l'équipe de la CPTS" in json.loads(json.loads(search.json()["_server_messages"])[0])["message"]
	response = session.post(
		f"{server}/api/method/cpts_snp.api.telesecretariat.book",
		data={"slot": other_slot, "patient": json.dumps(PATIENT), "call": "{}"},
	)
	assert response.status_code == 403
	assert frappe.db.get_value("SNP Slot", other_slot, "status") == "Available"


def test_the_calendar_colours_slots_by_status_and_respects_permissions(committed):
	from cpts_snp.api.calendar import get_slot_events

	doctor, own = committed.doctor()
	mine = make_slot(own, future_start(days=40, hour=9)).name
	theirs = make_slot(committed.professional(), future_start(days=40, hour=9)).name
	window = (str(future_start(days=39)), str(future_start(days=41)))
	events = {e.name: e for e in get_slot_events(*window)}
	assert events[mine].color == "#2f9e44" and theirs in events
	with as_user(doctor):
		assert [e.name for e in get_slot_events(*window)] == [mine]
