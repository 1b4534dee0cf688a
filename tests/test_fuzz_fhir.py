"""Fuzzing the FHIR facade (/fhir/…, a page renderer, not a whitelisted method): generated addresses, search
parameters and Appointment bodies never get a server error, every answer of the facade is an FHIR resource, and
a refused request writes nothing but its line in the partner access log. (`make test-long` runs more examples.)

Bodies that are not a JSON object or array are sent as text/plain: with a JSON content type, Frappe v15's request
set-up (`frappe.app.make_form_dict`) decodes the body before any app code runs and answers 500 for every address
(/api/method/ping included) when it is not valid JSON or is a bare scalar; later Frappe versions answer « Invalid
request body » there instead. A FHIR client always sends a resource, that is a JSON object."""

import copy
import json
import os
import urllib.parse

import frappe
import pytest
import requests
from cpts_snp.exports.fhir import PRACTITIONER_PARAM, RPPS_SYSTEM
from cpts_snp.tests.factories import future_start, make_slot
from cpts_snp.tests.partner_factories import api_token, delete_partners, make_partner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import Committed

EXAMPLES = 150 if os.environ.get("CPTS_LONG") == "1" else 25
WATCHED = ["SNP Booking", "SNP Slot", "SNP Call", "SNP Professional", "SNP Partner", "User"]
ANSWERS = {
	"Bundle",
	"OperationOutcome",
	"Appointment",
	"CapabilityStatement",
	"OperationDefinition",
	"Slot",
	"Schedule",
	"Practitioner",
	"PractitionerRole",
	"HealthcareService",
	"Organization",
}
FUZZ = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), database=None)

PARAMS = [
	"status",
	"start",
	PRACTITIONER_PARAM,
	"_include",
	"_include:iterate",
	"_count",
	"date",
	"_id",
	"slot",
	"specialty",
	"service-type",
	"_format",
	"_elements",
	"identifier",
]
tricky = st.sampled_from(
	[
		"ge2026-02-30",
		"le9999-12-31T25:61:00",
		"gt2026-12-01T10:00:00+01:00",
		"eq2026-12-01",
		"sa2026",
		"ge",
		"",
		"free",
		"busy",
		"booked,cancelled",
		"Slot:schedule",
		"Schedule:actor",
		"Slot:*",
		"0",
		"-1",
		"99999999999",
		f"{RPPS_SYSTEM}|810000000001",
		f"{RPPS_SYSTEM}|",
		"|810000000001",
		"urn:oid:x|1",
		",,,",
		"RDV-2026-00001",
		"CR-2026-00001",
		"' OR 1=1 --",
		"<script>alert(1)</script>",
		"../../etc/passwd",
		"%00",
		"é" * 300,
		"null",
	]
)
values = st.one_of(tricky, st.text(max_size=60), st.integers(-(10**15), 10**15).map(str))
queries = st.lists(
	st.tuples(st.one_of(st.sampled_from(PARAMS), st.text(min_size=1, max_size=20)), values), max_size=6
)
segments = st.one_of(
	st.sampled_from(
		[
			"Slot",
			"Appointment",
			"Patient",
			"metadata",
			"Schedule",
			"",
			"RDV-2026-00001",
			"..",
			"%2e%2e",
			"ps",
			"Practitioner",
			"PractitionerRole",
			"HealthcareService",
			"Organization",
			"cpts",
			"PRO-00001.LIEU-00001",
		]
	),
	st.text(
		alphabet=st.characters(blacklist_categories=["Cs", "Cc"], blacklist_characters="/?#"), max_size=30
	),
)
json_values = st.recursive(
	st.one_of(
		st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text(max_size=30), tricky
	),
	lambda children: st.one_of(
		st.lists(children, max_size=4), st.dictionaries(st.text(max_size=12), children, max_size=4)
	),
	max_leaves=12,
)


@pytest.fixture(scope="module")
def world(server):
	"""A SAS partner (may book) with an API token and no rate limit, a doctor with free slots; committed."""
	records = Committed()
	user = records.user(["Partenaire SNP"])
	partner = make_partner(users=[user], rate_limit_per_minute=0).name
	finess = frappe.db.get_single_value("SNP Settings", "cpts_finess")
	frappe.db.set_single_value("SNP Settings", "cpts_finess", "440099999")
	place = frappe.get_doc(
		{
			"doctype": "SNP Place",
			"place_name": "Cabinet Fuzz",
			"address_line": "1 rue du Test",
			"postal_code": "44000",
			"city": "Nantes",
		}
	).insert()
	professional = records.professional()
	frappe.db.set_value("SNP Professional", professional, "place", place.name)
	slots = [make_slot(professional, future_start(33, hour)).name for hour in (9, 10, 11)]
	token = api_token(user)
	frappe.db.commit()
	yield frappe._dict(
		token=token,
		slots=slots,
		rpps=frappe.db.get_value("SNP Professional", professional, "rpps"),
		headers={"Authorization": f"token {token}", "Accept": "application/fhir+json"},
	)
	delete_partners([partner], [user])
	records.cleanup()
	frappe.delete_doc("SNP Place", place.name, force=True, ignore_permissions=True)
	frappe.db.set_single_value("SNP Settings", "cpts_finess", finess)
	frappe.db.commit()


def counts() -> dict:
	frappe.db.rollback()
	return {doctype: frappe.db.count(doctype) for doctype in WATCHED}


def check_answer(response, what: str) -> None:
	assert response.status_code < 500, f"{what} → {response.status_code}: {response.text[:500]}"
	if not urllib.parse.urlsplit(response.url).path.startswith("/fhir"):
		return  # a « .. » segment normalised by the client: another page of the site
	assert response.headers.get("Content-Type", "").startswith("application/fhir+json"), (
		f"{what}: {response.text[:300]}"
	)
	resource = response.json()
	assert resource.get("resourceType") in ANSWERS, what
	if response.status_code >= 400:
		assert resource["resourceType"] == "OperationOutcome", what


def valid_appointment(slot: str) -> dict:
	return {
		"resourceType": "Appointment",
		"status": "booked",
		"slot": [{"reference": f"Slot/{slot}"}],
		"contained": [
			{
				"resourceType": "Patient",
				"id": "patient",
				"name": [{"family": "Fuzz", "given": ["Louise"]}],
				"birthDate": "1987-03-12",
				"telecom": [{"system": "phone", "value": "06 11 22 33 44"}],
			}
		],
		"participant": [{"actor": {"reference": "#patient"}, "status": "accepted"}],
		"description": "Fièvre",
	}


def paths(document, prefix=()):
	"""Every address (tuple of keys and indexes) inside a JSON document."""
	yield prefix
	children = (
		document.items()
		if isinstance(document, dict)
		else enumerate(document)
		if isinstance(document, list)
		else ()
	)
	for key, child in children:
		yield from paths(child, (*prefix, key))


def mutate(document: dict, path: tuple, value, delete: bool) -> dict:
	document = copy.deepcopy(document)
	if not path:
		return value
	parent = document
	for key in path[:-1]:
		parent = parent[key]
	if delete:
		del parent[path[-1]]
	else:
		parent[path[-1]] = value
	return document


@FUZZ
@given(path=st.lists(segments, max_size=3), query=queries)
def test_generated_searches_and_reads_never_break_the_facade(server, world, path, query):
	before = counts()
	url = f"{server}/fhir/" + "/".join(requests.utils.quote(part, safe="") for part in path)
	response = requests.get(url, params=query, headers=world.headers, timeout=60)
	check_answer(response, f"GET {url} {query}")
	assert counts() == before


@FUZZ
@given(query=queries)
def test_a_valid_slot_search_with_generated_extra_parameters_never_breaks(server, world, query):
	base = [
		("status", "free"),
		("start", "ge" + str(future_start(33, 0).date())),
		(PRACTITIONER_PARAM, f"{RPPS_SYSTEM}|8{world.rpps}"),
	]
	response = requests.get(f"{server}/fhir/Slot", params=base + query, headers=world.headers, timeout=60)
	check_answer(response, f"GET /fhir/Slot {query}")


@FUZZ
@given(data=st.data())
def test_generated_appointments_book_only_when_valid_and_write_nothing_when_refused(server, world, data):
	document = valid_appointment(data.draw(st.sampled_from(world.slots)))
	addresses = list(paths(document))
	body = data.draw(
		st.one_of(
			st.builds(
				lambda p, v, d: json.dumps(mutate(document, p, v, d and bool(p))),
				st.sampled_from(addresses),
				json_values,
				st.booleans(),
			),
			json_values.map(json.dumps),
			st.binary(max_size=200),
			st.sampled_from(["", "{", "[]", "null", '{"resourceType": "Appointment"}', "\x00"]),
		)
	)
	try:
		is_json_document = isinstance(json.loads(body), dict | list)
	except ValueError:
		is_json_document = False
	content_type = "application/fhir+json" if is_json_document else "text/plain"  # see the module's docstring
	before = counts()
	response = requests.post(
		f"{server}/fhir/Appointment",
		data=body,
		timeout=60,
		headers={**world.headers, "Content-Type": content_type},
	)
	check_answer(response, f"POST /fhir/Appointment {body[:300]!r}")
	after = counts()
	if response.status_code == 201:
		# A body that still means « book this slot for this patient » books it, once.
		booking = response.json()["id"]
		assert after["SNP Booking"] == before["SNP Booking"] + 1
		assert frappe.db.get_value("SNP Booking", booking, "status") == "Booked"
		frappe.db.set_value(
			"SNP Booking",
			booking,
			{"status": "Cancelled", "active_slot": None, "cancellation_reason": "fuzz"},
		)
		frappe.db.set_value(
			"SNP Slot", frappe.db.get_value("SNP Booking", booking, "slot"), "status", "Available"
		)
		frappe.db.delete("SNP Booking", booking)
		frappe.db.commit()
	else:
		assert after == before, f"rows written although refused: {body[:300]!r}"


@pytest.mark.parametrize("method", ["PUT", "PATCH", "DELETE"])
def test_other_http_methods_are_refused_without_a_server_error(server, world, method):
	before = counts()
	for path in ("Appointment", f"Appointment/{world.slots[0]}", "Slot", "Patient/1"):
		response = requests.request(
			method, f"{server}/fhir/{path}", headers=world.headers, data="{}", timeout=60
		)
		assert 400 <= response.status_code < 500, f"{method} /fhir/{path} → {response.status_code}"
	assert counts() == before
