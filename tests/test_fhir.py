"""The FHIR R4 facade for the SAS platform over HTTP (a real `bench serve`): the slot search of the SAS guide,
Appointments of the caller's partner only, booking through the one booking path, and every refusal as an
OperationOutcome with its real HTTP status."""

import json

import frappe
import pytest
import requests
from cpts_snp.exports.fhir import PRACTITIONER_PARAM, RPPS_SYSTEM
from cpts_snp.services.booking import book_slot
from cpts_snp.tests.factories import PATIENT, future_start, make_slot
from cpts_snp.tests.partner_factories import api_token
from fhir.resources.R4B.appointment import Appointment
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.operationoutcome import OperationOutcome
from frappe.utils import add_days, getdate, today

DAY = 20  # days ahead: the searched day, far from other tests' slots


def auth(token: str) -> dict:
	return {"Authorization": f"token {token}", "Accept": "application/fhir+json"}


def day(offset: int = 0) -> str:
	return str(getdate(add_days(today(), DAY + offset)))


def slot_search(server, token, practitioners, include=True, **extra):
	params = {
		"status": "free",
		"start": [f"ge{day()}", f"le{day()}"],
		PRACTITIONER_PARAM: ",".join(f"{RPPS_SYSTEM}|8{rpps}" for rpps in practitioners),
		**extra,
	}
	if include:
		params.update({"_include": "Slot:schedule", "_include:iterate": "Schedule:actor"})
	return requests.get(f"{server}/fhir/Slot", params=params, headers=auth(token), timeout=60)


def outcome(response, status: int) -> OperationOutcome:
	assert response.status_code == status, response.text
	assert response.headers["Content-Type"].startswith("application/fhir+json")
	return OperationOutcome.model_validate_json(response.text)


def appointment_body(slot: str, family: str = "Durand") -> str:
	return json.dumps(
		{
			"resourceType": "Appointment",
			"status": "booked",
			"slot": [{"reference": f"Slot/{slot}"}],
			"contained": [
				{
					"resourceType": "Patient",
					"id": "patient",
					"name": [{"family": family, "given": ["Louise"]}],
					"birthDate": "1987-03-12",
					"telecom": [{"system": "phone", "value": "06 11 22 33 44"}],
				}
			],
			"participant": [{"actor": {"reference": "#patient"}, "status": "accepted"}],
			"description": "Fièvre depuis trois jours",
		}
	)


def post_appointment(server, token, slot, family="Durand"):
	return requests.post(
		f"{server}/fhir/Appointment",
		data=appointment_body(slot, family),
		headers={**auth(token), "Content-Type": "application/fhir+json"},
		timeout=60,
	)


def test_a_search_for_25_practitioners_validates_and_holds_exactly_the_free_slots_in_range(
	server, committed, partners
):
	professionals = [committed.professional() for _ in range(25)]
	rpps = [frappe.db.get_value("SNP Professional", p, "rpps") for p in professionals]
	expected = set()
	for i, professional in enumerate(professionals[:3]):
		expected.add(make_slot(professional, future_start(DAY, 9 + i)).name)
		expected.add(make_slot(professional, future_start(DAY, 14 + i), modality="Home visit").name)
		make_slot(professional, future_start(DAY + 1, 9 + i))  # the next day: out of range
		taken = make_slot(professional, future_start(DAY, 17 + i)).name
		book_slot(taken, PATIENT)  # booked: not free
	frappe.db.commit()

	response = slot_search(server, partners.a.token, rpps)
	assert response.status_code == 200, response.text
	assert response.headers["Content-Type"].startswith("application/fhir+json")
	bundle = Bundle.model_validate_json(response.text)
	by_type = {}
	for entry in bundle.entry:
		by_type.setdefault(entry.resource.get_resource_type(), []).append(entry.resource)
	assert bundle.type == "searchset" and bundle.total == 6
	assert {slot.id for slot in by_type["Slot"]} == expected
	assert {slot.status for slot in by_type["Slot"]} == {"free"}
	assert {c.code for slot in by_type["Slot"] for c in slot.meta.security} == {"SNP", "CPTS"}
	assert {slot.serviceType[0].coding[0].code for slot in by_type["Slot"]} == {"AMB", "HH"}
	assert {s.reference.split("/")[1] for slot in by_type["Slot"] for s in [slot.schedule]} == {
		schedule.id for schedule in by_type["Schedule"]
	}
	assert {role.id for role in by_type["PractitionerRole"]} == set(professionals[:3])
	assert {p.identifier[0].value for p in by_type["Practitioner"]} == {"8" + r for r in rpps[:3]}


def test_without_include_the_search_answers_only_slots(server, committed, partners):
	professional = committed.professional()
	slot = make_slot(professional, future_start(DAY, 10)).name
	frappe.db.commit()
	rpps = frappe.db.get_value("SNP Professional", professional, "rpps")
	bundle = Bundle.model_validate_json(slot_search(server, partners.v.token, [rpps], include=False).text)
	assert [(e.resource.get_resource_type(), e.resource.id) for e in bundle.entry] == [("Slot", slot)]


@pytest.mark.parametrize(
	"params",
	[
		{"start": "ge2026-02-30"},
		{"start": "gequinze-heures"},
		{PRACTITIONER_PARAM: ",".join(f"{RPPS_SYSTEM}|8{10000000000 + i}" for i in range(26))},
		{PRACTITIONER_PARAM: ""},
		{"specialty": "SM54"},
		{"_include": "Slot:location"},
		{"status": "busy"},
	],
)
def test_bad_dates_too_many_practitioners_and_unknown_parameters_answer_400(server, partners, params):
	query = {"status": "free", PRACTITIONER_PARAM: f"{RPPS_SYSTEM}|810000000001", **params}
	response = requests.get(f"{server}/fhir/Slot", params=query, headers=auth(partners.a.token), timeout=60)
	assert outcome(response, 400).issue[0].severity == "error"


def test_a_fhir_booking_records_the_partner_and_a_taken_slot_answers_409(server, committed, partners):
	slot = make_slot(committed.professional(), future_start(DAY, 11)).name
	frappe.db.commit()
	response = post_appointment(server, partners.a.token, slot)
	assert response.status_code == 201, response.text
	appointment = Appointment.model_validate_json(response.text)
	assert appointment.status == "booked" and appointment.slot[0].reference == f"Slot/{slot}"
	assert response.headers["Location"].endswith(f"/fhir/Appointment/{appointment.id}")
	frappe.db.rollback()
	booking = frappe.db.get_value(
		"SNP Booking", appointment.id, ["partner", "channel", "regulated", "patient_last_name"], as_dict=True
	)
	assert booking == {
		"partner": partners.a.partner,
		"channel": "SAS",
		"regulated": 1,
		"patient_last_name": "Durand",
	}

	again = post_appointment(server, partners.b.token, slot, family="Martin")
	assert outcome(again, 409).issue[0].code == "conflict"
	assert frappe.db.count("SNP Booking", {"slot": slot}) == 1


def test_a_view_only_partner_cannot_book_through_fhir(server, committed, partners):
	slot = make_slot(committed.professional(), future_start(DAY, 12)).name
	frappe.db.commit()
	assert outcome(post_appointment(server, partners.v.token, slot), 403).issue[0].code == "forbidden"
	frappe.db.rollback()
	assert frappe.db.get_value("SNP Slot", slot, "status") == "Available"


def test_partner_a_cannot_read_partner_b_appointments(server, committed, partners):
	professional = committed.professional()
	slots = [make_slot(professional, future_start(DAY, h)).name for h in (9, 10)]
	frappe.db.commit()
	a_id = Appointment.model_validate_json(post_appointment(server, partners.a.token, slots[0]).text).id
	b_id = Appointment.model_validate_json(
		post_appointment(server, partners.b.token, slots[1], "Secret").text
	).id

	mine = requests.get(f"{server}/fhir/Appointment/{a_id}", headers=auth(partners.a.token), timeout=60)
	assert Appointment.model_validate_json(mine.text).participant[1].actor.display == "Durand Louise"
	assert outcome(requests.get(f"{server}/fhir/Appointment/{b_id}", headers=auth(partners.a.token)), 404)
	search = requests.get(f"{server}/fhir/Appointment", headers=auth(partners.a.token), timeout=60)
	bundle = Bundle.model_validate_json(search.text)
	assert [e.resource.id for e in bundle.entry] == [a_id]
	assert "Secret" not in search.text
	filtered = requests.get(
		f"{server}/fhir/Appointment", params={"_id": b_id, "status": "booked"}, headers=auth(partners.a.token)
	)
	assert Bundle.model_validate_json(filtered.text).total == 0


def test_token_authentication_works_and_a_wrong_token_or_no_partner_is_refused(server, committed, partners):
	url = f"{server}/fhir/Appointment"
	assert requests.get(url, headers=auth(partners.a.token), timeout=60).status_code == 200
	key = partners.a.token.split(":")[0]
	assert requests.get(url, headers=auth(f"{key}:wrong-secret"), timeout=60).status_code == 401
	assert outcome(requests.get(url, timeout=60), 401).issue[0].code == "login"
	doctor, _professional = committed.doctor()
	doctor_token = api_token(doctor)
	frappe.db.commit()
	assert outcome(requests.get(url, headers=auth(doctor_token), timeout=60), 403)
	assert outcome(requests.get(f"{server}/fhir/Patient", headers=auth(partners.a.token)), 404)


def test_the_access_log_records_fhir_reads_and_bookings(server, committed, partners):
	professional = committed.professional()
	slot = make_slot(professional, future_start(DAY, 15)).name
	frappe.db.commit()
	rpps = frappe.db.get_value("SNP Professional", professional, "rpps")
	assert slot_search(server, partners.a.token, [rpps]).ok
	booked = post_appointment(server, partners.a.token, slot)
	assert booked.status_code == 201
	assert post_appointment(server, partners.a.token, slot).status_code == 409
	frappe.db.rollback()
	rows = frappe.get_all(
		"SNP Partner Access Log",
		filters={"user": partners.a.user},
		fields=["partner", "action", "resource", "record_count", "parameters"],
		order_by="timestamp asc, creation asc",
	)
	assert [(r.action, r.record_count) for r in rows] == [
		("Search slots", 1),
		("Book", 1),
		("Booking refused", 0),
	]
	assert {r.partner for r in rows} == {partners.a.partner}
	assert rpps in rows[0].parameters


def test_past_the_partner_limit_the_fhir_interface_answers_429(server, partners):
	frappe.db.set_value("SNP Partner", partners.a.partner, "rate_limit_per_minute", 3)
	frappe.db.commit()
	statuses = [
		requests.get(f"{server}/fhir/Appointment", headers=auth(partners.a.token), timeout=60).status_code
		for _ in range(5)
	]
	assert statuses == [200, 200, 200, 429, 429]
	assert requests.get(f"{server}/fhir/Appointment", headers=auth(partners.b.token), timeout=60).ok


def test_the_capability_statement_is_public_and_lists_what_the_server_offers(server):
	from fhir.resources.R4B.capabilitystatement import CapabilityStatement

	response = requests.get(f"{server}/fhir/metadata", headers={"Accept": "application/fhir+json"}, timeout=60)
	assert response.status_code == 200, response.text
	assert response.headers["Content-Type"].startswith("application/fhir+json")
	statement = CapabilityStatement.model_validate_json(response.text)
	offered = {r.type: {i.code for i in r.interaction} for r in statement.rest[0].resource}
	assert offered == {"Slot": {"search-type"}, "Appointment": {"read", "search-type", "create"}}
	slot = next(r for r in statement.rest[0].resource if r.type == "Slot")
	assert PRACTITIONER_PARAM in {p.name for p in slot.searchParam}
	appointment = next(r for r in statement.rest[0].resource if r.type == "Appointment")
	assert [(o.name, o.definition) for o in appointment.operation] == [
		("cancel", f"{server}/fhir/OperationDefinition/Appointment-cancel")
	]


def test_the_cancel_operation_is_defined_where_the_capability_statement_points(server):
	from fhir.resources.R4B.operationdefinition import OperationDefinition

	response = requests.get(f"{server}/fhir/OperationDefinition/Appointment-cancel", timeout=60)
	assert response.status_code == 200, response.text
	definition = OperationDefinition.model_validate_json(response.text)
	assert (definition.code, definition.resource, definition.instance) == ("cancel", ["Appointment"], True)
	assert definition.title == "Annuler un rendez-vous"
	parameters = {(p.name, p.use, p.min, p.type) for p in definition.parameter}
	assert parameters == {("reason", "in", 1, "string"), ("return", "out", 1, "Appointment")}
	unknown = requests.get(f"{server}/fhir/OperationDefinition/Slot-hold", timeout=60)
	assert "OperationDefinition Slot-hold inconnue" in outcome(unknown, 404).issue[0].diagnostics


def cancel_appointment(server, token, appointment, reason="Patient orienté vers les urgences"):
	body = {"resourceType": "Parameters", "parameter": [{"name": "reason", "valueString": reason}]}
	return requests.post(
		f"{server}/fhir/Appointment/{appointment}/$cancel",
		data=json.dumps(body),
		headers={**auth(token), "Content-Type": "application/fhir+json"},
		timeout=60,
	)


def test_the_sas_platform_cancels_its_own_appointment_and_the_slot_is_offered_again(server, committed, partners):
	slot = make_slot(committed.professional(), future_start(DAY, 16)).name
	frappe.db.commit()
	appointment = Appointment.model_validate_json(post_appointment(server, partners.a.token, slot).text).id

	assert outcome(cancel_appointment(server, partners.b.token, appointment), 404).issue[0].code == "not-found"
	assert outcome(cancel_appointment(server, partners.a.token, appointment, reason=" "), 400)
	response = cancel_appointment(server, partners.a.token, appointment)
	assert response.status_code == 200, response.text
	assert Appointment.model_validate_json(response.text).status == "cancelled"
	frappe.db.rollback()
	assert frappe.db.get_value("SNP Booking", appointment, "cancellation_reason") == "Patient orienté vers les urgences"
	assert frappe.db.get_value("SNP Slot", slot, "status") == "Available"


def test_the_sites_other_addresses_resolve_as_frappe_resolves_them(server):
	# FHIR addresses skip Frappe's route map (cpts_snp.api.fhir.resolve_website_path); the others do not
	assert requests.get(f"{server}/fhir/metadata", timeout=60).json()["resourceType"] == "CapabilityStatement"
	portal = requests.get(f"{server}/snp/rendez-vous", allow_redirects=False, timeout=60)
	assert portal.status_code in (301, 302) and "redirect-to=/snp/rendez-vous" in portal.headers["Location"]
	merged = requests.get(f"{server}/snp//rendez-vous", allow_redirects=False, timeout=60)
	assert merged.status_code == 308 and merged.headers["Location"].endswith("/snp/rendez-vous")
	assert requests.get(f"{server}/page-qui-n-existe-pas", timeout=60).status_code == 404
