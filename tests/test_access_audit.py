"""Access audit (issue 17 §2): every read of patient data by a staff user — télésecrétaire or coordination — over
any path writes one SNP Access Audit row per record (or one per list) with the user, the document, the record, the
kind of read and the caller's IP address; a doctor's own reads and a partner's reads (logged in the partner access
log) write none; nobody changes or deletes a row; the daily job deletes the rows past their retention period; the
DPO's report lists them with its filters."""

import json
import random
import string

import frappe
import pytest
import requests
from cpts_snp.services import access_audit
from cpts_snp.services.booking import book_slot
from cpts_snp.tests.factories import PATIENT, as_user, future_start, make_absence, make_sector, make_slot
from frappe.utils import add_days, add_months, now_datetime, today

AUDIT = "SNP Access Audit"
STAFF = ("telesecretary", "coordinator")


@pytest.fixture(scope="module")
def world(server):
	"""A doctor with a booking (its patient and call), a booking « à replacer », an absence and a call-back request;
	a télésecrétaire and a coordinator; committed once for the module."""
	from conftest import Committed

	records = Committed()
	world = frappe._dict(records=records)
	world.telesecretary = records.user(["Télésecrétaire"])
	world.coordinator = records.user(["Coordinateur CPTS"])
	world.doctor, world.professional = records.doctor()
	sector = make_sector().name
	world.sector = sector
	# a patient of this module's own (the shared test identity may be deleted meanwhile by another test's cleanup)
	world.phone = "061" + "".join(random.choices(string.digits, k=7))
	patient = {**PATIENT, "patient_last_name": "Audit" + "".join(random.choices(string.ascii_lowercase, k=8))}
	patient["patient_phone"] = world.phone
	world.identity = patient
	booking = book_slot(make_slot(world.professional, future_start(days=25, hour=9)).name, patient)
	world.booking, world.patient = booking.name, booking.patient
	to_rebook = book_slot(make_slot(world.professional, future_start(days=26, hour=9)).name, patient)
	frappe.db.set_value("SNP Booking", to_rebook.name, "to_rebook", 1)
	world.to_rebook = to_rebook.name
	world.call = (
		frappe.get_doc(
			{
				"doctype": "SNP Call",
				"received_at": now_datetime(),
				"caller_type": "Patient",
				"caller_name": "Appelant audit",
				"sector": sector,
				"outcome": "SNP appointment booked",
				"booking": world.booking,
				"patient": world.patient,
			}
		)
		.insert()
		.name
	)
	world.absence = make_absence(world.professional, add_days(today(), 60), add_days(today(), 61)).name
	world.callback = (
		frappe.get_doc(
			{
				"doctype": "SNP Callback",
				"sector": sector,
				"wanted_from": today(),
				"patient_last_name": "Rappel",
				"patient_first_name": "Audit",
				"patient_date_of_birth": "1980-01-01",
				"patient_phone": "0611223355",
			}
		)
		.insert()
		.name
	)
	frappe.db.commit()
	world.sessions = {
		"telesecretary": _login(server, world.telesecretary),
		"coordinator": _login(server, world.coordinator),
	}
	world.users = {"telesecretary": world.telesecretary, "coordinator": world.coordinator}
	yield world
	frappe.db.rollback()
	frappe.db.delete(AUDIT, {"user": ["in", records.users]})
	frappe.db.delete("SNP Call", {"name": world.call})
	callback_patient = frappe.db.get_value("SNP Callback", world.callback, "patient")
	frappe.db.delete("SNP Callback", {"name": world.callback})
	if callback_patient and not frappe.db.exists("SNP Booking", {"patient": callback_patient}):
		frappe.db.delete("SNP Patient", {"name": callback_patient})
	frappe.db.delete("SNP Absence Booking", {"parent": world.absence})
	frappe.db.delete("SNP Absence", {"name": world.absence})
	frappe.db.commit()
	records.cleanup()
	frappe.db.delete("SNP Sector", {"name": sector})
	frappe.db.commit()


def _login(server, user):
	from conftest import login

	return login(server, user)


def audit_rows(user: str) -> list:
	frappe.db.rollback()  # what the server committed
	return frappe.get_all(
		AUDIT,
		{"user": user},
		[
			"user",
			"roles",
			"kind",
			"reference_doctype",
			"reference_name",
			"record_count",
			"records",
			"filters",
			"method",
			"ip_address",
			"user_agent",
		],
		order_by="creation asc",
	)


def clear(user: str) -> None:
	frappe.db.rollback()
	frappe.db.delete(AUDIT, {"user": user})
	frappe.db.commit()


def read(world, key, call):
	"""The rows one request of `key` wrote."""
	user = world.users[key]
	clear(user)
	response = call(world.sessions[key])
	assert response.ok, response.text[:500]
	return audit_rows(user)


def the_row(rows, doctype, kind):
	matching = [row for row in rows if row.reference_doctype == doctype and row.kind == kind]
	assert len(matching) == 1, rows
	return matching[0]


def listed(row) -> list[str]:
	return (row.records or "").split("\n")


def method(session, server, rpc, http="get", **data):
	data = {k: json.dumps(v) if isinstance(v, dict | list) else v for k, v in data.items()}
	if http == "get":
		return session.get(f"{server}/api/method/{rpc}", params=data, timeout=120)
	return session.post(f"{server}/api/method/{rpc}", data=data, timeout=120)


# --- record reads ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("key", STAFF)
def test_the_desk_form_of_a_booking_writes_one_record_row(server, world, key):
	rows = read(
		world,
		key,
		lambda s: method(
			s, server, "frappe.desk.form.load.getdoc", doctype="SNP Booking", name=world.booking
		),
	)
	row = the_row(rows, "SNP Booking", access_audit.RECORD)
	assert (row.user, row.reference_name, row.record_count) == (world.users[key], world.booking, 1)
	assert row.ip_address == "127.0.0.1"
	assert row.method == "/api/method/frappe.desk.form.load.getdoc"
	assert row.user_agent.startswith("python-requests")
	expected_role = "Télésecrétaire" if key == "telesecretary" else "Coordinateur CPTS"
	assert expected_role in row.roles
	assert len(rows) == 1, "one row per record and request"


@pytest.mark.parametrize("key", STAFF)
def test_a_rest_read_of_a_booking_writes_one_record_row(server, world, key):
	rows = read(world, key, lambda s: s.get(f"{server}/api/resource/SNP Booking/{world.booking}", timeout=60))
	row = the_row(rows, "SNP Booking", access_audit.RECORD)
	assert row.reference_name == world.booking
	assert row.ip_address == "127.0.0.1"


@pytest.mark.parametrize("key", STAFF)
def test_frappe_client_get_of_a_call_writes_one_record_row(server, world, key):
	rows = read(
		world, key, lambda s: method(s, server, "frappe.client.get", doctype="SNP Call", name=world.call)
	)
	assert the_row(rows, "SNP Call", access_audit.RECORD).reference_name == world.call


@pytest.mark.parametrize("key", STAFF)
def test_the_form_of_an_absence_writes_one_record_row(server, world, key):
	rows = read(
		world,
		key,
		lambda s: method(
			s, server, "frappe.desk.form.load.getdoc", doctype="SNP Absence", name=world.absence
		),
	)
	assert the_row(rows, "SNP Absence", access_audit.RECORD).reference_name == world.absence


@pytest.mark.parametrize("key", STAFF)
def test_frappe_client_get_value_of_a_patients_phone_writes_a_record_row(server, world, key):
	rows = read(
		world,
		key,
		lambda s: method(
			s,
			server,
			"frappe.client.get_value",
			doctype="SNP Booking",
			fieldname="patient_phone",
			filters={"name": world.booking},
		),
	)
	row = the_row(rows, "SNP Booking", access_audit.RECORD)
	assert (row.reference_name, row.record_count) == (world.booking, 1)


@pytest.mark.parametrize("key", STAFF)
def test_a_link_check_fetching_a_patients_phone_writes_a_record_row_and_without_fields_none(
	server, world, key
):
	rows = read(
		world,
		key,
		lambda s: method(
			s,
			server,
			"frappe.client.validate_link",
			doctype="SNP Booking",
			docname=world.booking,
			fields=["patient_phone"],
		),
	)
	row = the_row(rows, "SNP Booking", access_audit.RECORD)
	assert (row.reference_name, row.record_count) == (world.booking, 1)
	# the desk checking that a link exists reads no patient data
	rows = read(
		world,
		key,
		lambda s: method(
			s, server, "frappe.client.validate_link", doctype="SNP Booking", docname=world.booking
		),
	)
	assert rows == []


# --- lists, exports, searches ------------------------------------------------------------------------------------
@pytest.mark.parametrize("key", STAFF)
def test_a_rest_list_of_bookings_writes_one_list_row_with_the_names_and_filters(server, world, key):
	filters = [["professional", "=", world.professional]]
	rows = read(
		world,
		key,
		lambda s: s.get(
			f"{server}/api/resource/SNP Booking", params={"filters": json.dumps(filters)}, timeout=60
		),
	)
	row = the_row(rows, "SNP Booking", access_audit.LIST)
	assert sorted(listed(row)) == sorted([world.booking, world.to_rebook])
	assert row.record_count == 2 and row.reference_name is None
	assert world.professional in row.filters
	assert len(rows) == 1, "a list is one row"


@pytest.mark.parametrize("key", STAFF)
def test_frappe_client_get_list_of_patients_writes_a_list_row(server, world, key):
	rows = read(
		world,
		key,
		lambda s: method(
			s,
			server,
			"frappe.client.get_list",
			doctype="SNP Patient",
			fields=["name", "last_name", "phone"],
			filters={"name": world.patient},
		),
	)
	row = the_row(rows, "SNP Patient", access_audit.LIST)
	assert listed(row) == [world.patient] and row.record_count == 1


@pytest.mark.parametrize("key", STAFF)
def test_the_desk_list_view_writes_a_list_row_and_its_count_none(server, world, key):
	filters = [["SNP Booking", "professional", "=", world.professional]]
	rows = read(
		world,
		key,
		lambda s: method(
			s,
			server,
			"frappe.desk.reportview.get",
			http="post",
			doctype="SNP Booking",
			fields=["`tabSNP Booking`.`name`", "`tabSNP Booking`.`patient_last_name`"],
			filters=filters,
		),
	)
	row = the_row(rows, "SNP Booking", access_audit.LIST)
	assert sorted(listed(row)) == sorted([world.booking, world.to_rebook])
	counted = read(
		world,
		key,
		lambda s: method(
			s, server, "frappe.desk.reportview.get_count", http="post", doctype="SNP Booking", filters=filters
		),
	)
	assert counted == [], "a count reads no record"


@pytest.mark.parametrize("key", STAFF)
def test_an_export_of_bookings_writes_an_export_row(server, world, key):
	rows = read(
		world,
		key,
		lambda s: method(
			s,
			server,
			"frappe.desk.reportview.export_query",
			http="post",
			doctype="SNP Booking",
			file_format_type="CSV",
			fields=["`tabSNP Booking`.`name`", "`tabSNP Booking`.`patient_last_name`"],
			filters=[["SNP Booking", "professional", "=", world.professional]],
		),
	)
	row = the_row(rows, "SNP Booking", access_audit.EXPORT)
	assert sorted(listed(row)) == sorted([world.booking, world.to_rebook]) and row.record_count == 2
	assert world.professional in row.filters
	assert row.method == "/api/method/frappe.desk.reportview.export_query"


@pytest.mark.parametrize("key", STAFF)
def test_a_link_search_of_patients_writes_a_search_row(server, world, key):
	rows = read(
		world,
		key,
		lambda s: method(
			s, server, "frappe.desk.search.search_link", doctype="SNP Patient", txt=world.patient
		),
	)
	row = the_row(rows, "SNP Patient", access_audit.SEARCH)
	assert world.patient in listed(row)
	assert world.patient in row.filters


# --- print and PDF -----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("key", STAFF)
def test_a_pdf_of_a_booking_writes_a_print_row(server, world, key):
	rows = read(
		world,
		key,
		lambda s: method(
			s, server, "frappe.utils.print_format.download_pdf", doctype="SNP Booking", name=world.booking
		),
	)
	assert the_row(rows, "SNP Booking", access_audit.PRINT).reference_name == world.booking


@pytest.mark.parametrize("key", STAFF)
def test_the_print_view_of_a_booking_writes_a_print_row(server, world, key):
	rows = read(
		world,
		key,
		lambda s: s.get(
			f"{server}/printview", params={"doctype": "SNP Booking", "name": world.booking}, timeout=60
		),
	)
	row = the_row(rows, "SNP Booking", access_audit.PRINT)
	assert (row.reference_name, row.method) == (world.booking, "/printview")


# --- the app's own endpoints and reports ---------------------------------------------------------------------
@pytest.mark.parametrize("key", STAFF)
def test_finding_a_patient_on_the_desk_page_writes_his_record_bookings_and_calls(server, world, key):
	rows = read(
		world,
		key,
		lambda s: method(s, server, "cpts_snp.api.telesecretariat.find_patient", phone=world.phone),
	)
	assert world.patient in listed(the_row(rows, "SNP Patient", access_audit.SEARCH))
	assert world.booking in listed(the_row(rows, "SNP Booking", access_audit.SEARCH))
	assert world.call in listed(the_row(rows, "SNP Call", access_audit.SEARCH))
	assert world.phone in the_row(rows, "SNP Patient", access_audit.SEARCH).filters


@pytest.mark.parametrize("key", STAFF)
def test_the_call_back_panel_writes_a_list_row(server, world, key):
	rows = read(world, key, lambda s: method(s, server, "cpts_snp.api.telesecretariat.waiting_callbacks"))
	assert world.callback in listed(the_row(rows, "SNP Callback", access_audit.LIST))


@pytest.mark.parametrize("key", STAFF)
def test_the_report_a_replacer_writes_a_report_row(server, world, key):
	rows = read(
		world,
		key,
		lambda s: method(
			s,
			server,
			"frappe.desk.query_report.run",
			report_name="A replacer",
			filters={},
			ignore_prepared_report=1,
		),
	)
	row = the_row(rows, "SNP Booking", access_audit.REPORT)
	assert world.to_rebook in listed(row) and world.booking not in listed(row)


@pytest.mark.parametrize("key", STAFF)
def test_the_report_a_replacer_exported_writes_an_export_row(server, world, key):
	rows = read(
		world,
		key,
		lambda s: method(
			s,
			server,
			"frappe.desk.query_report.export_query",
			http="post",
			report_name="A replacer",
			file_format_type="CSV",
			filters={},
			visible_idx=[],
		),
	)
	assert world.to_rebook in listed(the_row(rows, "SNP Booking", access_audit.EXPORT))


# --- who is not audited here ---------------------------------------------------------------------------------
def test_a_doctors_reads_of_his_own_bookings_write_no_audit_row(server, world):
	session = _login(server, world.doctor)
	clear(world.doctor)
	assert session.get(f"{server}/api/resource/SNP Booking/{world.booking}", timeout=60).ok
	assert session.get(f"{server}/api/resource/SNP Booking", timeout=60).ok
	assert session.get(f"{server}/snp/rendez-vous", timeout=60).ok
	assert audit_rows(world.doctor) == []


def test_a_partners_read_goes_to_the_partner_access_log_not_to_the_audit(server, world, partners):
	p = partners.a
	frappe.db.rollback()
	slot = make_slot(world.professional, future_start(days=27, hour=11)).name
	with as_user(p.user):
		booking = book_slot(slot, world.identity).name
	frappe.db.commit()
	try:
		clear(p.user)
		response = requests.get(
			f"{server}/api/resource/SNP Booking/{booking}",
			headers={"Authorization": f"token {p.token}"},
			timeout=30,
		)
		assert response.ok, response.text[:300]
		assert audit_rows(p.user) == []
		assert frappe.db.count("SNP Partner Access Log", {"user": p.user, "action": "Read bookings"}) >= 1
	finally:
		frappe.db.rollback()
		frappe.db.delete("SNP Booking", {"name": booking})
		frappe.db.commit()


def test_server_code_without_a_request_writes_no_audit_row(world):
	before = frappe.db.count(AUDIT, {"user": world.telesecretary})
	with as_user(world.telesecretary):
		frappe.get_doc("SNP Booking", world.booking).check_permission("read")
		frappe.get_list("SNP Booking", filters={"professional": world.professional})
	access_audit.write_pending(response=frappe._dict(status_code=200))
	assert frappe.db.count(AUDIT, {"user": world.telesecretary}) == before


# --- the audit itself ----------------------------------------------------------------------------------------
def test_nobody_changes_or_deletes_an_audit_row_through_rest_or_frappe_client(server, world):
	read(world, "telesecretary", lambda s: s.get(f"{server}/api/resource/SNP Booking/{world.booking}"))
	name = frappe.get_all(AUDIT, {"user": world.telesecretary}, pluck="name")[0]
	clear(world.coordinator)
	before = frappe.db.get_value(AUDIT, name, "*", as_dict=True)
	for key in STAFF:
		s = world.sessions[key]
		attempts = [
			s.put(f"{server}/api/resource/{AUDIT}/{name}", json={"user": "pirate@example.com"}, timeout=60),
			method(
				s,
				server,
				"frappe.client.set_value",
				http="post",
				doctype=AUDIT,
				name=name,
				fieldname={"reference_name": "X"},
			),
			method(s, server, "frappe.client.delete", http="post", doctype=AUDIT, name=name),
			s.delete(f"{server}/api/resource/{AUDIT}/{name}", timeout=60),
			s.post(
				f"{server}/api/resource/{AUDIT}",
				json={"user": world.coordinator, "kind": access_audit.RECORD},
				timeout=60,
			),
			method(
				s,
				server,
				"frappe.client.insert",
				http="post",
				doc={"doctype": AUDIT, "user": world.coordinator, "kind": access_audit.RECORD},
			),
			method(
				s,
				server,
				"frappe.client.rename_doc",
				http="post",
				doctype=AUDIT,
				old_name=name,
				new_name=f"{name}-x",
			),
		]
		for response in attempts:
			assert response.status_code in (403, 417), (key, response.status_code, response.text[:300])
	frappe.db.rollback()
	assert frappe.db.get_value(AUDIT, name, "*", as_dict=True) == before
	assert frappe.db.count(AUDIT, {"owner": world.coordinator}) == 0
	assert frappe.db.count(AUDIT, {"owner": world.telesecretary}) == 1
	# nor Administrator, whom Frappe lets do everything: the controller refuses
	doc = frappe.get_doc(AUDIT, name)
	doc.ip_address = "10.0.0.1"
	with pytest.raises(frappe.PermissionError):
		doc.save()
	with pytest.raises(frappe.PermissionError):
		frappe.delete_doc(AUDIT, name)


def test_the_audit_is_read_by_the_coordination_not_by_the_telesecretariat(server, world):
	read(world, "telesecretary", lambda s: s.get(f"{server}/api/resource/SNP Booking/{world.booking}"))
	coordinator = world.sessions["coordinator"].get(
		f"{server}/api/resource/{AUDIT}",
		params={"filters": json.dumps({"user": world.telesecretary}), "fields": '["name"]'},
		timeout=60,
	)
	assert coordinator.ok and len(coordinator.json()["data"]) == 1
	telesecretary = world.sessions["telesecretary"].get(f"{server}/api/resource/{AUDIT}", timeout=60)
	assert telesecretary.status_code == 403 or telesecretary.json()["data"] == []


def test_the_data_protection_officer_reads_the_audit_and_its_report_but_no_patient_data(server, world):
	read(world, "telesecretary", lambda s: s.get(f"{server}/api/resource/SNP Booking/{world.booking}"))
	dpo = world.records.user(["Délégué à la protection des données"])
	frappe.db.commit()
	session = _login(server, dpo)
	report = method(
		session,
		server,
		"frappe.desk.query_report.run",
		report_name="Consultations de donnees patients",
		filters={"from_date": today(), "to_date": today(), "user": world.telesecretary},
		ignore_prepared_report=1,
	)
	assert report.ok, report.text[:300]
	assert [row["reference_name"] for row in report.json()["message"]["result"]] == [world.booking]
	listed_rows = session.get(
		f"{server}/api/resource/{AUDIT}", params={"filters": json.dumps({"user": world.telesecretary})}
	)
	assert listed_rows.ok and len(listed_rows.json()["data"]) == 1
	assert session.get(f"{server}/api/resource/SNP Booking/{world.booking}").status_code == 403
	assert audit_rows(dpo) == []


def test_a_meetings_minutes_read_by_the_coordination_are_recorded_not_the_finances_read_without_them(
	server, world
):
	doc = frappe.get_doc(
		{
			"doctype": "SNP Meeting",
			"meeting_type": "Complex case concertation",
			"title": "Concertation audit " + frappe.generate_hash(length=6),
			"meeting_date": add_days(today(), -2),
			"start_time": "18:00:00",
			"duration_hours": 1,
			"status": "Held",
			"minutes": "Situation de Mme Audit, 84 ans, isolée à domicile",
			"participants": [{"kind": "Professional", "professional": world.professional, "present": 1}],
		}
	).insert()
	accountant = world.records.user(["Comptable CPTS"])
	frappe.db.commit()
	try:
		rows = read(world, "coordinator", lambda s: s.get(f"{server}/api/resource/SNP Meeting/{doc.name}"))
		assert the_row(rows, "SNP Meeting", access_audit.RECORD).reference_name == doc.name
		clear(accountant)
		session = _login(server, accountant)
		answer = session.get(f"{server}/api/resource/SNP Meeting/{doc.name}")
		assert answer.ok and "minutes" not in answer.json()["data"], answer.text[:300]
		assert session.get(f"{server}/api/resource/SNP Meeting", params={"fields": '["name"]'}).ok
		assert audit_rows(accountant) == []
	finally:
		frappe.db.rollback()
		frappe.delete_doc("SNP Meeting", doc.name, force=True, ignore_permissions=True)
		frappe.db.commit()


def _row(user, timestamp, **values):
	now = now_datetime()
	row = {
		"name": frappe.generate_hash(length=10),
		"owner": user,
		"creation": now,
		"modified": now,
		"modified_by": user,
		"timestamp": timestamp,
		"user": user,
		"kind": access_audit.RECORD,
		"reference_doctype": "SNP Booking",
		"record_count": 1,
		**values,
	}
	frappe.db.bulk_insert(AUDIT, list(row), [tuple(row.values())])
	return row["name"]


def test_the_daily_job_deletes_only_the_rows_past_their_retention(world):
	user = world.coordinator
	months = frappe.db.get_single_value("SNP Settings", "access_audit_retention_months")
	assert months == 12, "the retention of the settings, 12 months by default"
	try:
		old = _row(user, add_months(now_datetime(), -13), reference_name="OLD")
		recent = _row(user, add_months(now_datetime(), -11), reference_name="RECENT")
		assert access_audit.purge_expired(months=0) == 0
		assert frappe.db.exists(AUDIT, old), "0 keeps the audit forever"
		assert access_audit.purge_expired() >= 1  # the settings' 12 months
		assert not frappe.db.exists(AUDIT, old)
		assert frappe.db.exists(AUDIT, recent)
	finally:
		frappe.db.rollback()
		frappe.db.delete(AUDIT, {"user": user})
		frappe.db.commit()


def test_the_dpo_report_lists_the_reads_with_its_filters(world):
	from cpts_snp.privacy.report.consultations_de_donnees_patients.consultations_de_donnees_patients import (
		execute,
	)

	tele, coord = world.telesecretary, world.coordinator
	frappe.db.delete(AUDIT, {"user": ["in", [tele, coord]]})
	now = now_datetime()
	_row(tele, now, reference_name=world.booking)
	_row(
		tele,
		now,
		kind=access_audit.LIST,
		reference_name=None,
		record_count=2,
		records=f"{world.to_rebook}\n{world.booking}",
	)
	_row(coord, now, reference_doctype="SNP Call", reference_name=world.call)
	_row(coord, add_days(now, -40), reference_name=world.booking)
	period = {"from_date": add_days(today(), -1), "to_date": today()}

	def names_of(filters):
		_columns, rows = execute({**period, **filters})
		return sorted((row.user, row.reference_name or "list") for row in rows if row.user in (tele, coord))

	assert names_of({}) == sorted([(tele, world.booking), (tele, "list"), (coord, world.call)])
	assert names_of({"user": coord}) == [(coord, world.call)]
	assert names_of({"reference_doctype": "SNP Call"}) == [(coord, world.call)]
	assert names_of({"reference_name": world.to_rebook}) == [(tele, "list")]
	# a patient's records: his bookings and his call (the list naming one of them too)
	assert names_of({"patient": world.patient}) == sorted(
		[(tele, world.booking), (tele, "list"), (coord, world.call)]
	)
	_columns, rows = execute({**period, "kind": access_audit.LIST})
	assert {row.kind for row in rows} == {"Liste"}
	assert len(execute({"from_date": add_days(today(), -41), "to_date": today(), "user": coord})[1]) == 2
	_columns, summary = execute({**period, "per_user": 1})
	totals = {row.user: row for row in summary}
	assert (totals[tele].reads, totals[tele].records, totals[tele].lists) == (2, 3, 1)
	assert totals[coord].reads == 1
