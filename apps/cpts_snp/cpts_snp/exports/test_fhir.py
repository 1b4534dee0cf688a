"""The FHIR mapping of the SAS slot search and of bookings, with plain data (no database)."""

import json
from datetime import datetime, timedelta

import pytest
from fhir.resources.R4B.bundle import Bundle

from cpts_snp.exports import fhir

TZ = "Europe/Paris"
NOW = datetime(2026, 12, 1, 8, 0)
HORIZON = timedelta(hours=48)


def params(**values):
	"""Search parameters as the request gives them: {name: [values]}; a list value repeats the parameter."""
	out = {}
	for key, value in values.items():
		key = {"actor": fhir.PRACTITIONER_PARAM, "include": "_include", "iterate": "_include:iterate"}.get(
			key, key
		)
		out[key] = value if isinstance(value, list) else [value]
	return out


def rpps(i: int) -> str:
	return f"{10000000000 + i}"


def actors(n: int) -> str:
	return ",".join(f"{fhir.RPPS_SYSTEM}|8{rpps(i)}" for i in range(n))


def test_a_slot_search_reads_dates_with_their_offset_in_site_time():
	query = fhir.parse_slot_search(
		params(status="free", start=["ge2026-12-01T09:00:00.000+00:00", "le2026-12-02"], actor=actors(2)),
		TZ,
		NOW,
		HORIZON,
	)
	assert query.start_from == datetime(2026, 12, 1, 10, 0)
	assert query.start_to.date() == datetime(2026, 12, 2).date() and query.start_to.hour == 23
	assert query.rpps == [rpps(0), rpps(1)]
	assert not query.include_schedules and not query.include_actors


def test_an_offset_whose_plus_arrived_unencoded_is_read_as_a_plus():
	"""`start=ge2026-12-01T10:00:00.000+01:00` sent raw: URL decoding turned the `+` into a space."""
	query = fhir.parse_slot_search(
		params(start=["ge2026-12-01T10:00:00.000 01:00", "le2026-12-01T18:00:00 01:00"], actor=actors(1)),
		TZ,
		NOW,
		HORIZON,
	)
	assert (query.start_from, query.start_to) == (datetime(2026, 12, 1, 10), datetime(2026, 12, 1, 18))


def test_a_slot_search_never_starts_in_the_past_and_defaults_to_the_horizon():
	query = fhir.parse_slot_search(params(actor=actors(1)), TZ, NOW, HORIZON)
	assert (query.start_from, query.start_to) == (NOW, NOW + HORIZON)


def test_the_guides_own_cpts_request_is_understood():
	"""The request of the guide's CPTS page (INT_R04), with its four includes."""
	query = fhir.parse_slot_search(
		{
			"_include": ["Slot:schedule", "Slot:service-type-reference"],
			"_include:iterate": ["Schedule:actor", "HealthcareService:organization"],
			"start": ["ge2026-12-01T16:20:00.000+02:00", "le2026-12-03T16:20:00.000+02:00"],
			fhir.PRACTITIONER_PARAM: [
				"urn:oid:1.2.250.1.71.4.2.1|810002909371,urn:oid:1.2.250.1.71.4.2.1|810001288385"
			],
			"status": ["free"],
			"_format": ["application/fhir+json"],
		},
		TZ,
		NOW,
		HORIZON,
	)
	assert query.rpps == ["10002909371", "10001288385"]
	assert query.include_schedules and query.include_actors
	assert query.include_services and query.include_organizations
	assert not query.empty


@pytest.mark.parametrize(
	"tokens, rpps_, adeli",
	[
		(f"{fhir.IDNPS_SYSTEM}|810002909371", ["10002909371"], []),
		(f"{fhir.IDNPS_SYSTEM}|0123456789", [], ["123456789"]),  # ADELI, "0" prefixed
		("10002909371, 123456789", ["10002909371"], ["123456789"]),  # bare numbers, space after a comma
		(f"urn:oid:1.2.3|810002909371,{fhir.IDNPS_SYSTEM}|8100", [], []),  # other system, malformed: nobody
	],
)
def test_practitioners_are_searched_by_rpps_or_adeli_and_unknown_ones_are_left_aside(tokens, rpps_, adeli):
	query = fhir.parse_slot_search(params(actor=tokens), TZ, NOW, HORIZON)
	assert (query.rpps, query.adeli) == (rpps_, adeli)
	assert query.empty == (not rpps_ and not adeli)


def test_a_window_in_the_past_or_another_status_matches_nothing_without_an_error():
	past = fhir.parse_slot_search(
		params(start=["ge2026-11-01", "le2026-11-02"], actor=actors(1)), TZ, NOW, HORIZON
	)
	busy = fhir.parse_slot_search(params(status="busy", actor=actors(1)), TZ, NOW, HORIZON)
	assert past.empty and busy.empty


def test_unknown_parameters_are_ignored_unless_the_client_asks_for_strict_handling():
	lenient = fhir.parse_slot_search(
		params(foo="bar", include="Slot:location", actor=actors(1)), TZ, NOW, HORIZON
	)
	assert not lenient.empty and not lenient.include_schedules
	with pytest.raises(fhir.FHIRRequestError) as refused:
		fhir.parse_slot_search(params(foo="bar", actor=actors(1)), TZ, NOW, HORIZON, strict=True)
	assert refused.value.status == 400


@pytest.mark.parametrize(
	"bad",
	[
		params(actor=actors(26)),
		params(actor=""),
		params(start="ge2026-13-01", actor=actors(1)),
		params(start="ge01/12/2026", actor=actors(1)),
		params(start=["ge2026-12-05", "le2026-12-02"], actor=actors(1)),
		params(start=["ge2026-12-01", "le2027-03-01"], actor=actors(1)),
		params(_count="0", actor=actors(1)),
		params(status=["free", "free"], actor=actors(1)),
	],
)
def test_malformed_slot_search_parameters_are_refused_with_400(bad):
	with pytest.raises(fhir.FHIRRequestError) as refused:
		fhir.parse_slot_search(bad, TZ, NOW, HORIZON)
	assert refused.value.status == 400


def test_only_json_is_offered():
	fhir.check_format({"_format": ["json"]})
	with pytest.raises(fhir.FHIRRequestError) as refused:
		fhir.check_format({"_format": ["application/fhir+xml"]})
	assert refused.value.status == 406


PLACES = {
	"LIEU-00001": {
		"name": "LIEU-00001",
		"place_name": "Maison de santé des Tilleuls",
		"address_line": "12 rue des Tilleuls",
		"postal_code": "44400",
		"city": "Rezé",
		"phone": "02 40 12 34 56",
		"finess": "440012345",
	},
	"LIEU-00002": {
		"name": "LIEU-00002",
		"place_name": "Cabinet du Port",
		"address_line": "3 quai du Port",
		"postal_code": "44340",
		"city": "Bouguenais",
		"siret": "73282932000074",
	},
}
CPTS = {"finess": "440099999", "name": "CPTS Sud-Loire", "phone": "02 40 00 00 00"}


def _world(n_practitioners: int):
	professionals = {
		f"PRO-{i:05d}": {
			"name": f"PRO-{i:05d}",
			"rpps": rpps(i),
			"first_name": "Jeanne",
			"last_name": f"Médecin{i}",
			"full_name": f"Jeanne Médecin{i}",
			"profession": "General practitioner",
			"active": 1,
			"place": "LIEU-00001",
		}
		for i in range(n_practitioners)
	}
	slots = []
	for i, pro in enumerate(professionals):
		for j, modality in enumerate(("Office", "Home visit", "Teleconsultation")):
			start = NOW + timedelta(hours=2 + j, minutes=i)
			slots.append(
				{
					"name": f"CR-2026-{i:03d}{j}",
					"professional": pro,
					"starts_at": start,
					"ends_at": start + timedelta(minutes=20),
					"modality": modality,
					"place": "LIEU-00001" if j < 2 else "LIEU-00002",
				}
			)
	return professionals, slots


def _bundle(query, professionals, slots, flow=fhir.CPTS_FLOW):
	return fhir.slot_bundle(
		slots,
		professionals,
		PLACES,
		CPTS,
		query,
		"http://x/fhir",
		"http://x/fhir/Slot?status=free",
		TZ,
		lambda pro: f"http://x/sas/agenda/{pro}",
		flow,
	)


FULL = {
	"include": ["Slot:schedule", "Slot:service-type-reference"],
	"iterate": ["Schedule:actor", "HealthcareService:organization"],
}


def test_a_cpts_bundle_for_25_practitioners_has_one_schedule_and_role_per_place():
	professionals, slots = _world(25)
	query = fhir.parse_slot_search(params(actor=actors(25), **FULL), TZ, NOW, HORIZON)
	bundle = _bundle(query, professionals, slots)
	again = Bundle.model_validate_json(fhir.to_json(bundle))
	kinds = [entry.resource.get_resource_type() for entry in again.entry]
	assert (again.type, again.total) == ("searchset", 75)
	assert kinds.count("Slot") == 75
	# one Schedule per practitioner and place: the office and the home visit share the Tilleuls
	assert kinds.count("Schedule") == kinds.count("PractitionerRole") == 50
	assert kinds.count("Practitioner") == 25
	assert kinds.count("HealthcareService") == kinds.count("Organization") == 1
	assert bundle["meta"]["profile"] == [fhir.PROFILES["cpts-bundle"]]
	slot = json.loads(fhir.to_json(bundle))["entry"][0]["resource"]
	assert slot["meta"]["profile"] == [fhir.PROFILES["cpts-slot"]]
	assert {c["code"] for c in slot["meta"]["security"]} == {"SNP", "CPTS"}
	assert slot["start"] == "2026-12-01T10:00:00.000+01:00"
	assert slot["comment"] == "http://x/sas/agenda/PRO-00000"
	assert slot["serviceType"][1]["coding"][0]["code"] == "604"
	assert slot["serviceType"][1]["extension"][0]["valueReference"]["reference"] == "HealthcareService/cpts"
	assert [entry.resource.serviceType[0].coding[0].code for entry in again.entry[:3]] == ["AMB", "HH", "VR"]
	role = next(e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "PractitionerRole")
	assert role["contained"][0]["address"] == {
		"use": "work",
		"type": "physical",
		"line": ["12 rue des Tilleuls"],
		"city": "Rezé",
		"postalCode": "44400",
		"country": "FRA",
	}
	assert role["organization"]["identifier"]["value"] == "1440012345"  # FINESS, prefixed
	assert role["telecom"] == [{"system": "phone", "value": "+33240123456"}]
	organization = next(
		e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "Organization"
	)
	assert organization["identifier"][0]["value"] == "1440099999"


def test_the_individual_flow_has_no_cpts_service_and_its_own_profiles():
	professionals, slots = _world(2)
	query = fhir.parse_slot_search(params(actor=actors(2), **FULL), TZ, NOW, HORIZON, flow=fhir.PS_FLOW)
	bundle = _bundle(query, professionals, slots, fhir.PS_FLOW)
	kinds = {entry["resource"]["resourceType"] for entry in bundle["entry"]}
	assert kinds == {"Slot", "Schedule", "Practitioner", "PractitionerRole"}
	assert bundle["meta"]["profile"] == [fhir.PROFILES["ps-bundle"]]
	slot = bundle["entry"][0]["resource"]
	assert slot["meta"]["profile"] == [fhir.PROFILES["ps-slot"]]
	assert [c["code"] for c in slot["meta"]["security"]] == ["SNP"]
	assert len(slot["serviceType"]) == 1


def test_without_include_the_bundle_holds_only_slots():
	professionals, slots = _world(2)
	query = fhir.parse_slot_search(params(actor=actors(2)), TZ, NOW, HORIZON)
	bundle = Bundle.model_validate_json(fhir.to_json(_bundle(query, professionals, slots)))
	assert {entry.resource.get_resource_type() for entry in bundle.entry} == {"Slot"}
	assert {entry.search.mode for entry in bundle.entry} == {"match"}


def test_count_cuts_the_slots_and_gives_the_next_page():
	professionals, slots = _world(3)
	query = fhir.parse_slot_search(params(actor=actors(3), _count="4", **FULL), TZ, NOW, HORIZON)
	first = _bundle(query, professionals, slots)
	assert first["total"] == 9
	assert [e["resource"]["id"] for e in first["entry"] if e["search"]["mode"] == "match"] == [
		s["name"] for s in slots[:4]
	]
	(next_link,) = [link["url"] for link in first["link"] if link["relation"] == "next"]
	assert next_link == "http://x/fhir/Slot?status=free&_offset=4"
	last = fhir.parse_slot_search(params(actor=actors(3), _count="4", _offset="8"), TZ, NOW, HORIZON)
	bundle = _bundle(last, professionals, slots)
	assert len(bundle["entry"]) == 1 and [link["relation"] for link in bundle["link"]] == ["self"]


def test_an_empty_answer_is_the_guides_empty_bundle():
	query = fhir.parse_slot_search(params(actor=actors(1), **FULL), TZ, NOW, HORIZON)
	bundle = json.loads(fhir.to_json(_bundle(query, {}, [])))
	assert bundle["total"] == 0 and "entry" not in bundle
	assert bundle["meta"]["profile"] == [fhir.PROFILES["ps-bundle"]]


def appointment_body(**overrides):
	body = {
		"resourceType": "Appointment",
		"status": "booked",
		"slot": [{"reference": "Slot/CR-2026-00001"}],
		"contained": [
			{
				"resourceType": "Patient",
				"id": "p",
				"name": [{"family": "Durand", "given": ["Louise"]}],
				"birthDate": "1987-03-12",
				"telecom": [{"system": "phone", "value": "0611223344"}],
			}
		],
		"participant": [{"actor": {"reference": "#p"}, "status": "accepted"}],
		"description": "Fièvre",
	}
	body.update(overrides)
	return json.dumps(body)


def test_a_booking_request_gives_the_slot_and_the_patient():
	request = fhir.parse_appointment(appointment_body(), TZ)
	assert request.slot == "CR-2026-00001"
	assert request.patient == {
		"patient_last_name": "Durand",
		"patient_first_name": "Louise",
		"patient_date_of_birth": "1987-03-12",
		"patient_phone": "0611223344",
	}
	assert request.reason == "Fièvre"


@pytest.mark.parametrize(
	"body",
	[
		"not json",
		appointment_body(slot=[]),
		appointment_body(slot=[{"reference": "Schedule/x"}]),
		appointment_body(participant=[{"actor": {"display": "Durand"}, "status": "accepted"}]),
		appointment_body(status="cancelled"),
		appointment_body(resourceType="Slot"),
	],
)
def test_a_malformed_booking_request_is_refused_with_400(body):
	with pytest.raises(fhir.FHIRRequestError) as refused:
		fhir.parse_appointment(body, TZ)
	assert refused.value.status == 400


def test_booking_statuses_map_to_fhir_appointment_statuses():
	row = {
		"name": "RDV-2026-00001",
		"slot": "CR-2026-00001",
		"professional": "PRO-00001",
		"slot_start": datetime(2026, 12, 1, 10),
		"slot_end": datetime(2026, 12, 1, 10, 20),
	}
	statuses = [fhir.appointment({**row, "status": s}, TZ)["status"] for s in fhir.APPOINTMENT_STATUS]
	assert statuses == ["booked", "fulfilled", "noshow", "cancelled"]


def test_every_kind_of_answer_is_valid_fhir_without_empty_parts():
	"""Answers are plain dicts serialised by `to_json`: each validates with the FHIR models, with no null."""
	from fhir.resources.R4B.appointment import Appointment
	from fhir.resources.R4B.operationoutcome import OperationOutcome

	row = {
		"name": "RDV-2026-00001",
		"slot": "CR-2026-00001",
		"professional": "PRO-00001",
		"status": "Booked",
		"slot_start": datetime(2026, 12, 1, 10),
		"patient_last_name": "Durand",
		"reason": None,
	}
	answers = {
		Bundle: fhir.appointment_bundle([], "http://x/fhir", "http://x/fhir/Appointment", TZ),
		Appointment: fhir.appointment(row, TZ),
		OperationOutcome: fhir.operation_outcome("Créneau déjà réservé", "conflict"),
	}
	for model, resource in answers.items():
		text = fhir.to_json(resource)
		assert "null" not in text and "[]" not in text and '""' not in text
		model.model_validate_json(text)
	empty = json.loads(fhir.to_json(answers[Bundle]))
	assert fhir.is_resource_id(empty.pop("id"))
	assert empty == {
		"resourceType": "Bundle",
		"type": "searchset",
		"total": 0,
		"link": [{"relation": "self", "url": "http://x/fhir/Appointment"}],
	}
