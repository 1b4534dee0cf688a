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
		params(status="free", start=["ge2026-12-01T09:00:00+00:00", "le2026-12-02"], actor=actors(2)),
		TZ,
		NOW,
		HORIZON,
	)
	assert query.start_from == datetime(2026, 12, 1, 10, 0)
	assert query.start_to.date() == datetime(2026, 12, 2).date() and query.start_to.hour == 23
	assert query.rpps == [rpps(0), rpps(1)]
	assert not query.include_schedules and not query.include_actors


def test_a_slot_search_never_starts_in_the_past_and_defaults_to_the_horizon():
	query = fhir.parse_slot_search(params(actor=actors(1)), TZ, NOW, HORIZON)
	assert (query.start_from, query.start_to) == (NOW, NOW + HORIZON)


@pytest.mark.parametrize(
	"bad",
	[
		params(actor=actors(26)),
		params(actor=""),
		params(start="ge2026-13-01", actor=actors(1)),
		params(start="ge01/12/2026", actor=actors(1)),
		params(start=["ge2026-12-05", "le2026-12-02"], actor=actors(1)),
		params(start=["ge2026-12-01", "le2027-03-01"], actor=actors(1)),
		params(status="busy", actor=actors(1)),
		params(foo="bar", actor=actors(1)),
		params(include="Slot:location", actor=actors(1)),
		params(actor="urn:oid:1.2.3|810000000001"),
		params(actor="8100"),
		params(_count="0", actor=actors(1)),
		params(status=["free", "free"], actor=actors(1)),
	],
)
def test_malformed_or_unknown_slot_search_parameters_are_refused_with_400(bad):
	with pytest.raises(fhir.FHIRRequestError) as refused:
		fhir.parse_slot_search(bad, TZ, NOW, HORIZON)
	assert refused.value.status == 400


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
					"location": "Cabinet A" if j < 2 else None,
					"sector": "Nantes Nord",
				}
			)
	return professionals, slots


def test_a_bundle_for_25_practitioners_validates_with_schedules_roles_and_practitioners():
	professionals, slots = _world(25)
	query = fhir.parse_slot_search(
		params(actor=actors(25), include="Slot:schedule", iterate="Schedule:actor"), TZ, NOW, HORIZON
	)
	bundle = fhir.slot_bundle(slots, professionals, query, "http://x/fhir", "http://x/fhir/Slot?…", TZ)
	again = Bundle.model_validate_json(fhir.to_json(bundle))
	kinds = [entry.resource.get_resource_type() for entry in again.entry]
	assert (again.type, again.total) == ("searchset", 75)
	assert kinds.count("Slot") == 75
	# One Schedule per practitioner role and place: the office and the home visit share "Cabinet A".
	assert kinds.count("Schedule") == 50
	assert kinds.count("PractitionerRole") == kinds.count("Practitioner") == 25
	slot = json.loads(again.entry[0].resource.json())
	assert {c["code"] for c in slot["meta"]["security"]} == {"SNP", "CPTS"}
	assert slot["start"] == "2026-12-01T10:00:00+01:00"
	assert [entry.resource.serviceType[0].coding[0].code for entry in again.entry[:3]] == ["AMB", "HH", "VR"]
	practitioner = next(e.resource for e in again.entry if e.resource.get_resource_type() == "Practitioner")
	assert practitioner.identifier[0].system == fhir.RPPS_SYSTEM
	assert practitioner.identifier[0].value == "8" + rpps(0)


def test_without_include_the_bundle_holds_only_slots():
	professionals, slots = _world(2)
	query = fhir.parse_slot_search(params(actor=actors(2)), TZ, NOW, HORIZON)
	bundle = Bundle.model_validate_json(
		fhir.to_json(fhir.slot_bundle(slots, professionals, query, "http://x/fhir", "http://x/fhir/Slot", TZ))
	)
	assert {entry.resource.get_resource_type() for entry in bundle.entry} == {"Slot"}
	assert {entry.search.mode for entry in bundle.entry} == {"match"}


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
	assert json.loads(fhir.to_json(answers[Bundle])) == {
		"resourceType": "Bundle",
		"type": "searchset",
		"total": 0,
		"link": [{"relation": "self", "url": "http://x/fhir/Appointment"}],
	}
