"""INT_R02 « Gestion des comptes régulateurs »: the SAS platform creates (`POST [base]/Practitioner`) and updates
(`PUT [base]/Practitioner?identifier=system|value`, idempotent) the accounts of its regulators, over HTTP against
the test server: the guide's four examples, the attachment of a national id to an account known by its SAS
technical id, malformed resources (400), e-mails that are not the partner's to give (422), callers who are not a
SAS / SAMU partner (401 / 403), and the regulator then named by his row's identifier in the bookings reported
to the SAS (INT_R03)."""

import copy
import json
import uuid

import frappe
import pytest
import requests
from cpts_snp.exports.sas_appointment import OPERATOR_EXTENSION
from cpts_snp.services import sas_booking, sas_feedback
from cpts_snp.services.sas_regulators import NATIONAL_SYSTEM, PROFILE, SAS_SYSTEM, TYPE_SYSTEM
from cpts_snp.tests.factories import PATIENT, TEST_PASSWORD, as_user, future_start, make_slot
from cpts_snp.tests.partner_factories import api_token
from fhir_conformance import assert_conforms
from frappe.utils.password import update_password

OUTCOME = "http://hl7.org/fhir/StructureDefinition/OperationOutcome"
ROW = "SNP Partner User"


def identifier(code: str, system: str, value: str) -> dict:
	return {"type": {"coding": [{"system": TYPE_SYSTEM, "code": code}]}, "system": system, "value": value}


def regulator(identifiers, active, family, given, email, resource_id=None) -> dict:
	resource = {
		"resourceType": "Practitioner",
		"meta": {"profile": [PROFILE], "source": SAS_SYSTEM},
		"identifier": identifiers,
		"active": active,
		"name": [{"family": family, "given": [given]}],
		"telecom": [{"system": "email", "value": email}],
	}
	if resource_id:
		resource = {"resourceType": "Practitioner", "id": resource_id, **resource}
	return resource


# The guide's examples (ans.fhir.fr.sas 1.2.0), as SUSHI compiles them: the slices' fixed type and system
# filled in, telecom.system from the profile's pattern.
# input/fsh/examples/example-practitioner-regul1.fsh
EXAMPLE_1 = regulator(
	[identifier("IDNPS", NATIONAL_SYSTEM, "3456780581/11242343")],
	True,
	"Loridon",
	"Sébastien",
	"sebastien.loridon@test.com",
	"ExamplePractitionerRegul1",
)
# input/fsh/examples/example-practitioner-regul2.fsh
EXAMPLE_2 = regulator(
	[identifier("IDNPS", NATIONAL_SYSTEM, "810002673899")],
	True,
	"MARIUS",
	"Jules",
	"jules.marius@test.com",
	"ExamplePractitionerRegul2",
)
# input/fsh/examples/example-practitioner-regul3.fsh: example 2's regulator, disabled
EXAMPLE_3 = regulator(
	[identifier("IDNPS", NATIONAL_SYSTEM, "810002673899")],
	False,
	"MARIUS",
	"Jules",
	"jules.marius@test.com",
	"ExamplePractitionerRegul3",
)
# input/fsh/examples/example-practitioner-regul4.fsh: identifier[IdentifiantInterne] (INTRN)
EXAMPLE_4 = regulator(
	[identifier("INTRN", SAS_SYSTEM, "1ef1c748-01a3-6180-b098-73283ce4e5b1")],
	True,
	"Loridon",
	"Sébastien",
	"sebastien.loridon@test.com",
	"ExamplePractitionerRegul4",
)
EXAMPLE_EMAILS = ("sebastien.loridon@test.com", "jules.marius@test.com")


def token(value: str, content_type: str = "application/fhir+json") -> dict:
	return {"Authorization": f"token {value}", "Content-Type": content_type}


def content_type_of(body: str) -> str:
	"""Text that is not a JSON document goes as text/plain: with a JSON content type Frappe v15 decodes the body
	before any app code runs and answers 500 (tests/test_fuzz_fhir.py's docstring)."""
	try:
		json.loads(body)
	except ValueError:
		return "text/plain"
	return "application/fhir+json"


def post(server, caller, resource, base="/fhir"):
	body = resource if isinstance(resource, str) else json.dumps(resource)
	headers = token(caller.token, content_type_of(body))
	return requests.post(f"{server}{base}/Practitioner", data=body, headers=headers, timeout=60)


def put(server, caller, resource, match, base="/fhir"):
	body = resource if isinstance(resource, str) else json.dumps(resource)
	return requests.put(
		f"{server}{base}/Practitioner",
		params={"identifier": match},
		data=body,
		headers=token(caller.token, content_type_of(body)),
		timeout=60,
	)


def stored(response, server, base="/fhir") -> dict:
	"""The Practitioner answered, checked: profile, Location, and read back by GET."""
	body = response.json()
	assert_conforms(body, PROFILE)
	location = response.headers["Location"]
	assert location == f"{server}{base}/Practitioner/{body['id']}"
	return body


def refused(response, status: int) -> dict:
	assert response.status_code == status, response.text
	body = response.json()
	assert body["resourceType"] == "OperationOutcome"
	assert_conforms(body, OUTCOME)
	return body


def rows_of(partner) -> list:
	frappe.db.rollback()
	return frappe.get_all(
		ROW,
		filters={"parenttype": "SNP Partner", "parent": partner, "sas_managed": 1},
		fields=[
			"name",
			"user",
			"full_name",
			"national_id",
			"sas_id",
			"active",
			"sas_managed",
			"sas_updated_on",
		],
	)


def unique_account(**values) -> dict:
	"""A FrPractitionerRegul resource of a regulator no test uses (a fresh e-mail, a fresh SAS id)."""
	resource = regulator(
		[identifier("INTRN", SAS_SYSTEM, str(uuid.uuid4()))],
		True,
		"Test",
		"Régulateur",
		f"regul-{uuid.uuid4().hex[:10]}@cpts-test.fr",
	)
	resource.update(values)
	return resource


def forget(emails) -> None:
	for email in emails:
		name = frappe.db.get_value("User", {"email": email}, "name")
		if name:
			frappe.db.delete(ROW, {"user": name})
			frappe.delete_doc("User", name, force=True, ignore_permissions=True)


@pytest.fixture
def sas(partners):
	"""Partner A (SAS / SAMU), its accounts created by the tests removed afterwards (and before: a run stopped
	midway)."""
	forget(EXAMPLE_EMAILS)
	frappe.db.commit()
	yield partners
	frappe.db.rollback()
	users = [row.user for row in rows_of(partners.a.partner)]
	forget(EXAMPLE_EMAILS)
	for user in users:
		frappe.db.delete("SNP Partner Access Log", {"user": user})
		frappe.db.delete(ROW, {"user": user})
		if frappe.db.exists("User", user):
			frappe.delete_doc("User", user, force=True, ignore_permissions=True)
	frappe.db.commit()


def test_examples_1_and_2_create_enabled_accounts_on_both_bases(server, sas):
	first = post(server, sas.a, EXAMPLE_1)
	assert first.status_code == 201, first.text
	body = stored(first, server)
	assert body["identifier"] == EXAMPLE_1["identifier"]
	assert (body["active"], body["name"], body["telecom"]) == (True, EXAMPLE_1["name"], EXAMPLE_1["telecom"])
	second = post(server, sas.a, EXAMPLE_2, base="/fhir/ps")
	assert second.status_code == 201, second.text
	stored(second, server, "/fhir/ps")

	rows = {row.national_id: row for row in rows_of(sas.a.partner)}
	assert set(rows) == {"3456780581/11242343", "810002673899"}
	for row, example in ((rows["3456780581/11242343"], EXAMPLE_1), (rows["810002673899"], EXAMPLE_2)):
		user = frappe.get_doc("User", row.user)
		assert (user.email, user.first_name, user.last_name) == (
			example["telecom"][0]["value"],
			example["name"][0]["given"][0],
			example["name"][0]["family"],
		)
		assert user.enabled and "Partenaire SNP" in frappe.get_roles(user.name)
		assert (row.active, row.sas_managed, row.sas_id) == (1, 1, None) and row.sas_updated_on
		assert row.full_name == f"{user.first_name} {user.last_name}"
	# no password e-mail for a new account
	assert not frappe.db.exists("Email Queue Recipient", {"recipient": ("in", EXAMPLE_EMAILS)})

	read = requests.get(first.headers["Location"], headers=token(sas.a.token), timeout=60)
	assert read.status_code == 200 and read.json() == body
	# another partner never reads it
	assert requests.get(first.headers["Location"], headers=token(sas.b.token), timeout=60).status_code == 404
	actions = frappe.get_all("SNP Partner Access Log", {"user": sas.a.user}, pluck="action")
	assert actions.count("Regulator account") == 2


def test_example_3_disables_the_account_of_example_2(server, sas):
	created = post(server, sas.a, EXAMPLE_2)
	assert created.status_code == 201, created.text
	user = rows_of(sas.a.partner)[0].user
	update_password(user, TEST_PASSWORD)
	keys = {"Authorization": f"token {api_token(user)}"}
	frappe.db.commit()
	whoami = f"{server}/api/method/frappe.auth.get_logged_user"
	assert requests.get(whoami, headers=keys, timeout=30).json()["message"] == user
	login = {"usr": "jules.marius@test.com", "pwd": TEST_PASSWORD}
	session = requests.Session()
	assert session.post(f"{server}/api/method/login", data=login, timeout=30).ok
	assert session.get(f"{server}/api/method/frappe.auth.get_logged_user", timeout=30).ok

	disabled = put(server, sas.a, EXAMPLE_3, f"{NATIONAL_SYSTEM}|810002673899")
	assert disabled.status_code == 200, disabled.text
	body = stored(disabled, server)
	assert disabled.headers["Location"] == created.headers["Location"] and body["active"] is False
	[row] = rows_of(sas.a.partner)
	assert (row.user, row.active) == (user, 0)
	assert not frappe.db.get_value("User", user, "enabled")
	# his session ended, his login is refused
	assert session.get(f"{server}/api/method/frappe.auth.get_logged_user", timeout=30).status_code in (
		401,
		403,
	)
	assert requests.post(f"{server}/api/method/login", data=login, timeout=30).status_code == 401
	# his API keys are revoked
	assert requests.get(whoami, headers=keys, timeout=30).status_code in (401, 403)
	# and his account cannot book through the SAS link any more
	with as_user(user):
		assert not sas_booking.caller("sas").can_book


def test_example_4_creates_an_intrn_account_and_an_update_attaches_the_national_id(server, sas):
	created = post(server, sas.a, EXAMPLE_4)
	assert created.status_code == 201, created.text
	stored(created, server)
	[row] = rows_of(sas.a.partner)
	assert (row.sas_id, row.national_id) == ("1ef1c748-01a3-6180-b098-73283ce4e5b1", None)

	both = copy.deepcopy(EXAMPLE_4)
	both["identifier"] = EXAMPLE_1["identifier"] + EXAMPLE_4["identifier"]
	updated = put(server, sas.a, both, f"{SAS_SYSTEM}|1ef1c748-01a3-6180-b098-73283ce4e5b1")
	assert updated.status_code == 200, updated.text
	body = stored(updated, server)
	assert updated.headers["Location"] == created.headers["Location"]
	assert {i["system"]: i["value"] for i in body["identifier"]} == {
		NATIONAL_SYSTEM: "3456780581/11242343",
		SAS_SYSTEM: "1ef1c748-01a3-6180-b098-73283ce4e5b1",
	}
	[row] = rows_of(sas.a.partner)  # one account, not two
	assert (row.national_id, row.sas_id) == ("3456780581/11242343", "1ef1c748-01a3-6180-b098-73283ce4e5b1")
	# the national id now finds him too
	again = put(server, sas.a, EXAMPLE_1, f"{NATIONAL_SYSTEM}|3456780581/11242343")
	assert again.status_code == 200 and again.headers["Location"] == created.headers["Location"]
	assert len(rows_of(sas.a.partner)) == 1


def test_example_4_after_example_1_is_the_same_regulator_known_by_his_email(server, sas):
	first = post(server, sas.a, EXAMPLE_1)
	fourth = post(server, sas.a, EXAMPLE_4)
	assert (first.status_code, fourth.status_code) == (201, 200), fourth.text
	assert fourth.headers["Location"] == first.headers["Location"]
	[row] = rows_of(sas.a.partner)
	assert (row.national_id, row.sas_id) == ("3456780581/11242343", "1ef1c748-01a3-6180-b098-73283ce4e5b1")


def test_a_put_of_an_unknown_identifier_creates_and_a_post_of_a_known_one_updates(server, sas):
	account = unique_account()
	sas_id = account["identifier"][0]["value"]
	created = put(server, sas.a, account, f"{SAS_SYSTEM}|{sas_id}")
	assert created.status_code == 201, created.text
	stored(created, server)
	renamed = copy.deepcopy(account)
	renamed["name"] = [{"family": "Nouveau", "given": ["Nom"]}]
	updated = post(server, sas.a, renamed)
	assert updated.status_code == 200, updated.text
	assert stored(updated, server)["name"] == renamed["name"]
	assert updated.headers["Location"] == created.headers["Location"]
	[row] = rows_of(sas.a.partner)
	assert row.full_name == "Nom Nouveau"
	assert frappe.db.get_value("User", row.user, ["first_name", "last_name"]) == ("Nom", "Nouveau")


def without(path):
	def change(resource):
		*parents, last = path
		target = resource
		for key in parents:
			target = target[key]
		del target[last]

	return change


def setting(path, value):
	def change(resource):
		*parents, last = path
		target = resource
		for key in parents:
			target = target[key]
		target[last] = value

	return change


MALFORMED = {
	"no identifier": without(["identifier"]),
	"empty identifier list": setting(["identifier"], []),
	"wrong system": setting(["identifier", 0, "system"], "urn:oid:1.2.3.4"),
	"wrong type": setting(["identifier", 0, "type", "coding", 0, "code"], "IDNPS"),
	"sas id not a uuid": setting(["identifier", 0, "value"], "not-a-uuid"),
	"no family": without(["name", 0, "family"]),
	"no given": without(["name", 0, "given"]),
	"no email": without(["telecom"]),
	"telecom not an email": setting(["telecom", 0, "system"], "phone"),
	"invalid email": setting(["telecom", 0, "value"], "not an email"),
	"active missing": without(["active"]),
	"active not a boolean": setting(["active"], "true"),
	"wrong meta.source": setting(["meta", "source"], "urn:oid:1.2.250.1.71"),
	"no meta": without(["meta"]),
	"not a Practitioner": setting(["resourceType"], "Patient"),
}


@pytest.mark.parametrize("variant", [*MALFORMED, "invalid JSON", "not an object"])
def test_a_malformed_account_is_refused_with_400_and_nothing_written(server, sas, variant):
	account = unique_account()
	email = account["telecom"][0]["value"]
	sas_id = account["identifier"][0]["value"]
	if variant == "invalid JSON":
		body = json.dumps(account)[:-2]
	elif variant == "not an object":
		body = json.dumps([account])
	else:
		MALFORMED[variant](account)
		body = account
	for response in (post(server, sas.a, body), put(server, sas.a, body, f"{SAS_SYSTEM}|{sas_id}")):
		refused(response, 400)
	assert not rows_of(sas.a.partner)
	assert not frappe.db.exists("User", {"email": email})
	actions = frappe.get_all("SNP Partner Access Log", {"user": sas.a.user}, pluck="action")
	assert "Regulator account" not in actions


def test_a_put_needs_one_known_identifier_matching_the_resource(server, sas):
	account = unique_account()
	for match in ("", "urn:oid:1.2.3|x", f"{SAS_SYSTEM}|", f"{SAS_SYSTEM}|{uuid.uuid4()}"):
		refused(put(server, sas.a, account, match), 400)
	assert not rows_of(sas.a.partner)


def test_the_email_of_a_staff_user_or_a_doctor_is_refused_with_422(server, sas, committed):
	secretary = committed.user(["Télésecrétaire"])
	doctor, _professional = committed.doctor()
	frappe.db.commit()
	for user in (secretary, doctor, sas.b.user, sas.a.user):
		before = frappe.db.get_value("User", user, ["enabled", "first_name", "last_name"])
		roles = sorted(frappe.get_roles(user))
		account = unique_account(telecom=[{"system": "email", "value": user}])
		body = refused(post(server, sas.a, account), 422)
		assert body["issue"][0]["code"] == "business-rule"
		frappe.db.rollback()
		assert frappe.db.get_value("User", user, ["enabled", "first_name", "last_name"]) == before
		assert sorted(frappe.get_roles(user)) == roles
	assert not rows_of(sas.a.partner)
	# an account may not move onto such an e-mail either
	created = post(server, sas.a, unique_account())
	assert created.status_code == 201
	moved = copy.deepcopy(created.json())
	moved["telecom"] = [{"system": "email", "value": doctor}]
	refused(post(server, sas.a, moved), 422)
	[row] = rows_of(sas.a.partner)
	assert frappe.db.get_value("User", row.user, "email") != doctor


def test_only_a_user_of_an_active_sas_partner_manages_regulator_accounts(server, sas, committed):
	account = unique_account()
	refused(requests.post(f"{server}/fhir/Practitioner", data=json.dumps(account), timeout=60), 401)
	doctor, _professional = committed.doctor()
	secretary = committed.user(["Télésecrétaire"])
	frappe.db.commit()
	callers = [
		sas.b,  # an emergency department
		sas.v,  # a hospital
		frappe._dict(token=api_token(doctor)),
		frappe._dict(token=api_token(secretary)),
	]
	frappe.db.commit()
	for caller in callers:
		refused(post(server, caller, account), 403)
		refused(put(server, caller, account, f"{SAS_SYSTEM}|{account['identifier'][0]['value']}"), 403)
	assert not frappe.db.exists("User", {"email": account["telecom"][0]["value"]})
	# a regulator account the SAS created does not manage the others
	created = post(server, sas.a, account)
	assert created.status_code == 201
	regulator_user = rows_of(sas.a.partner)[0].user
	as_regulator = frappe._dict(token=api_token(regulator_user))
	frappe.db.commit()
	refused(post(server, as_regulator, unique_account()), 403)
	# the doctors' directory is unchanged
	assert requests.get(f"{server}/fhir/Practitioner/unknown", headers=token(sas.a.token)).status_code == 404


def test_the_server_owned_fields_of_a_regulator_row_are_not_edited_in_the_desk(server, sas, committed):
	created = post(server, sas.a, unique_account())
	assert created.status_code == 201
	coordinator = committed.user(["Coordinateur CPTS"])
	frappe.db.commit()
	with as_user(coordinator):
		partner = frappe.get_doc("SNP Partner", sas.a.partner)
		row = next(r for r in partner.users if r.sas_managed)
		row.national_id = "810001234567"
		with pytest.raises(frappe.PermissionError):
			partner.save()
		frappe.db.rollback()
		partner = frappe.get_doc("SNP Partner", sas.a.partner)
		partner.append("users", {"user": coordinator, "sas_id": str(uuid.uuid4()), "sas_managed": 1})
		with pytest.raises(frappe.PermissionError):
			partner.save()
	frappe.db.rollback()


def test_a_regulator_booking_through_the_sas_is_reported_with_the_identifier_of_his_row(
	server, sas, committed
):
	professional = committed.professional()
	frappe.db.commit()
	national = unique_account(
		identifier=[identifier("IDNPS", NATIONAL_SYSTEM, "3456780581/11242343")], telecom=EXAMPLE_1["telecom"]
	)
	technical = unique_account()
	for account in (national, technical):
		assert post(server, sas.a, account).status_code == 201
	rows = {row.national_id or row.sas_id: row for row in rows_of(sas.a.partner)}
	expected = {
		"3456780581/11242343": ("IDNPS", NATIONAL_SYSTEM),
		technical["identifier"][0]["value"]: ("INTRN", SAS_SYSTEM),
	}
	for hour, (value, (code, system)) in zip((9, 10), expected.items(), strict=True):
		slot = make_slot(professional, future_start(1, hour)).name
		frappe.db.commit()
		user = rows[value].user
		with as_user(user):
			booking = sas_booking.book(professional, slot, "sas", PATIENT)
		assert (booking.operator_id_type, booking.operator_id) == (code, value)
		resource = sas_feedback.build_appointment(frappe.get_doc("SNP Booking", booking.name))
		[operator] = [e for e in resource["extension"] if e["url"] == OPERATOR_EXTENSION]
		assert operator["valueReference"]["identifier"] == identifier(code, system, value)
		frappe.db.rollback()
