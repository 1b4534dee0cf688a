"""The access model of cpts_snp.permissions, path by path: who owns a record is the server's business, website
users write only through the app's endpoints, record rules judge the stored record, Frappe's generic methods
apply the same rules, expired partners read nothing, a partner's limit is shared by all its users.
(tests/test_attacker_matrix.py crosses every identity with every doctype and endpoint.)"""

import frappe
import pytest
from cpts_snp import permissions
from cpts_snp.services.booking import book_slot
from cpts_snp.tests.factories import PATIENT, as_user, future_start, make_doctor, make_sector, make_slot
from frappe.utils import add_days, today


@pytest.fixture
def world(committed):
	"""Doctors A and B (A with two bookings, B with one), a télésecrétaire; committed for the HTTP server."""
	a_user, a_pro = committed.doctor()
	b_user, b_pro = committed.doctor()
	w = frappe._dict(a_user=a_user, a=a_pro, b_user=b_user, b=b_pro)
	w.a_bookings = [book_slot(make_slot(a_pro, future_start(hour=h)).name, PATIENT).name for h in (9, 10)]
	w.b_booking = book_slot(make_slot(b_pro, future_start(hour=9)).name, PATIENT).name
	w.telesecretary = committed.user(["Télésecrétaire"])
	frappe.db.commit()
	return w


def stored(doctype, name, *fields):
	frappe.db.rollback()
	return frappe.db.get_value(doctype, name, list(fields), as_dict=True)


# --- ownership is the server's -------------------------------------------------------------------------------
def test_a_doctor_cannot_move_another_doctors_booking_to_himself_by_rest_or_set_value(
	server, http_login, world
):
	doctor = http_login(world.a_user)
	before = stored("SNP Booking", world.b_booking, "professional", "modified")
	response = doctor.put(
		f"{server}/api/resource/SNP Booking/{world.b_booking}", json={"professional": world.a}
	)
	assert response.status_code == 403
	response = doctor.post(
		f"{server}/api/method/frappe.client.set_value",
		json={
			"doctype": "SNP Booking",
			"name": world.b_booking,
			"fieldname": "professional",
			"value": world.a,
		},
	)
	assert response.status_code == 403
	# nor his own booking: doctors hold no write right, the portal's endpoints are their way
	own = world.a_bookings[0]
	response = doctor.put(f"{server}/api/resource/SNP Booking/{own}", json={"reason": "changé à la main"})
	assert response.status_code == 403
	assert stored("SNP Booking", world.b_booking, "professional", "modified") == before
	assert stored("SNP Booking", own, "reason").reason is None


def test_the_telesecretariat_edits_a_booking_but_never_whose_it_is(server, http_login, world):
	desk = http_login(world.telesecretary)
	url = f"{server}/api/resource/SNP Booking/{world.b_booking}"
	for change in ({"professional": world.a}, {"channel": "SAS"}, {"supplement_eligible": 1}):
		response = desk.put(url, json=change)
		assert response.status_code == 403, change
		assert "tenu par l'application" in response.text
	assert desk.put(url, json={"reason": "Fièvre depuis hier"}).ok
	row = stored("SNP Booking", world.b_booking, "professional", "channel", "reason")
	assert (row.professional, row.channel, row.reason) == (world.b, "Telesecretariat", "Fièvre depuis hier")


def test_the_coordination_reassigns_a_free_slot_but_not_a_booking():
	(_a_user, a), (_b_user, b) = make_doctor(), make_doctor()
	slot = make_slot(a, future_start(hour=14))
	slot.professional = b
	slot.save()  # as Administrator: the coordination may hand a free slot to another doctor
	assert frappe.db.get_value("SNP Slot", slot.name, "professional") == b
	booking = book_slot(make_slot(a, future_start(hour=15)).name, PATIENT)
	booking.professional = b
	with pytest.raises(frappe.PermissionError):
		booking.save()


def test_a_child_row_cannot_be_moved_to_another_record(server, http_login, world):
	sector = make_sector().name
	for professional in (world.a, world.b):
		doc = frappe.get_doc("SNP Professional", professional)
		doc.append("sectors", {"sector": sector})
		doc.save()
	frappe.db.commit()
	row = frappe.db.get_value("SNP Professional Sector", {"parent": world.b}, "name")
	desk = http_login(world.telesecretary)
	response = desk.put(f"{server}/api/resource/SNP Professional Sector/{row}", json={"parent": world.a})
	assert response.status_code == 403
	assert stored("SNP Professional Sector", row, "parent").parent == world.b


# --- Frappe's generic methods apply the record rules ---------------------------------------------------------
def test_a_doctor_counts_only_his_own_bookings(server, http_login, world):
	doctor = http_login(world.a_user)
	for method in ("frappe.client.get_count", "frappe.desk.reportview.get_count"):
		response = doctor.get(f"{server}/api/method/{method}", params={"doctype": "SNP Booking"})
		assert response.ok and response.json()["message"] == 2, method
		# a count is no oracle on another doctor's patients
		response = doctor.get(
			f"{server}/api/method/{method}",
			params={"doctype": "SNP Booking", "filters": frappe.as_json({"name": world.b_booking})},
		)
		assert response.json()["message"] == 0, method
	response = doctor.get(f"{server}/api/method/frappe.client.get_count", params={"doctype": "SNP Call"})
	assert response.status_code == 403


def test_child_rows_are_listed_only_for_the_records_one_may_read(server, http_login, world):
	sector = make_sector().name
	for professional in (world.a, world.b):
		doc = frappe.get_doc("SNP Professional", professional)
		doc.append("sectors", {"sector": sector})
		doc.save()
	frappe.db.commit()
	doctor = http_login(world.a_user)
	response = doctor.get(
		f"{server}/api/resource/SNP Professional Sector",
		params={"parent": "SNP Professional", "fields": '["parent"]', "limit_page_length": 0},
	)
	assert response.ok
	assert {row["parent"] for row in response.json()["data"]} == {world.a}
	row_b = frappe.db.get_value("SNP Professional Sector", {"parent": world.b}, "name")
	response = doctor.get(
		f"{server}/api/method/frappe.client.get",
		params={"doctype": "SNP Professional Sector", "name": row_b, "parent": "SNP Professional"},
	)
	assert response.status_code == 403


def test_every_doctype_of_the_app_is_covered_by_the_access_model_by_default():
	doctypes = set(
		frappe.get_all(
			"DocType",
			filters={"module": ("in", frappe.get_all("Module Def", {"app_name": "cpts_snp"}, pluck="name"))},
			pluck="name",
		)
	)
	assert doctypes == set(permissions.APP_DOCTYPES)
	hooks = frappe.get_hooks("has_permission")
	queries = frappe.get_hooks("permission_query_conditions")
	guard = frappe.get_hooks("doc_events")
	for doctype in doctypes:
		assert "cpts_snp.permissions.has_permission" in hooks.get(doctype, []), doctype
		assert "cpts_snp.permissions.query" in queries.get(doctype, []), doctype
		assert "cpts_snp.permissions.guard_server_owned" in guard[doctype]["before_validate"], doctype
	# a doctype without a rule of its own is for staff only
	assert permissions.RECORD_RULES["SNP Call"][0] is permissions.staff_only_query
	_user, doctor = make_doctor()
	with as_user(frappe.db.get_value("SNP Professional", doctor, "user")):
		assert permissions.query(doctype="SNP Paid Item") == "1 = 0"


def test_website_users_hold_no_write_right_on_any_app_doctype():
	website_roles = ("Médecin SNP", "Interne SNP", "Partenaire SNP")
	rights = ("write", "create", "delete", "submit", "cancel", "amend", "import", "share")
	granted = frappe.get_all(
		"DocPerm",
		filters={"parent": ("in", list(permissions.APP_DOCTYPES)), "role": ("in", website_roles)},
		fields=["parent", "role", *rights],
	)
	assert granted, "doctors read their records"
	assert [(p.parent, p.role) for p in granted if any(p.get(r) for r in rights)] == []


# --- partners ----------------------------------------------------------------------------------------------------
def test_an_expired_partner_reads_nothing_through_the_rest_api(server, partners, committed):
	import requests

	p = partners.a
	frappe.db.rollback()
	slot = make_slot(committed.doctor()[1], future_start(hour=11)).name
	with as_user(p.user):
		booking = book_slot(slot, PATIENT).name
	frappe.db.commit()
	headers = {"Authorization": f"token {p.token}"}
	listed = requests.get(f"{server}/api/resource/SNP Booking", headers=headers, timeout=30)
	assert [row["name"] for row in listed.json()["data"]] == [booking]
	frappe.db.set_value("SNP Partner", p.partner, "active_to", add_days(today(), -1))
	frappe.db.commit()
	try:
		listed = requests.get(f"{server}/api/resource/SNP Booking", headers=headers, timeout=30)
		assert listed.ok and listed.json()["data"] == []
		one = requests.get(f"{server}/api/resource/SNP Booking/{booking}", headers=headers, timeout=30)
		assert one.status_code == 403
		slots = requests.get(f"{server}/api/resource/SNP Slot", headers=headers, timeout=30)
		assert slots.json()["data"] == []
	finally:
		frappe.db.set_value("SNP Partner", p.partner, "active_to", None)
		frappe.db.delete("SNP Booking", {"name": booking})
		frappe.db.commit()


def test_a_partners_rate_limit_counts_all_its_users_and_generic_reads(server, partners, committed):
	import requests
	from cpts_snp.tests.partner_factories import api_token

	p = partners.b
	second = committed.user(["Partenaire SNP"])
	doc = frappe.get_doc("SNP Partner", p.partner)
	doc.append("users", {"user": second})
	doc.rate_limit_per_minute = 3
	doc.save()
	second_token = api_token(second)
	frappe.db.commit()
	try:
		api = f"{server}/api/method/cpts_snp.api.partners.my_bookings"
		first = {"Authorization": f"token {p.token}"}
		other = {"Authorization": f"token {second_token}"}
		assert requests.get(api, headers=first, timeout=30).ok
		assert requests.get(f"{server}/api/resource/SNP Booking", headers=other, timeout=30).ok
		assert requests.get(api, headers=other, timeout=30).ok
		# the fourth request of the partner, whoever sends it and by whichever path, is refused
		assert (
			requests.get(f"{server}/api/resource/SNP Booking", headers=first, timeout=30).status_code == 429
		)
		assert requests.get(api, headers=other, timeout=30).status_code == 429
		logged = frappe.get_all("SNP Partner Access Log", {"partner": p.partner}, pluck="action")
		assert "Read bookings" in logged
	finally:
		frappe.db.rollback()
		doc = frappe.get_doc("SNP Partner", p.partner)
		doc.users = [row for row in doc.users if row.user != second]
		doc.save()
		frappe.db.commit()


def test_every_child_table_of_the_app_is_judged_on_the_record_it_is_stored_in():
	from frappe.model.base_document import get_controller

	children = [doctype for doctype, parents in permissions.CHILD_PARENTS.items() if parents]
	assert "SNP Indemnity Payment Line" in children
	for doctype in children:
		assert issubclass(get_controller(doctype), permissions.ChildRow), doctype


def test_a_list_cannot_be_filtered_or_sorted_on_a_field_one_may_not_read(server, http_login, world):
	"""A télésecrétaire does not read IBANs: filtering on one (`like FR76%`) would reveal it piece by piece."""
	frappe.db.set_value("SNP Professional", world.b, "iban", "FR7630006000011234567890189")
	frappe.db.commit()
	desk = http_login(world.telesecretary)
	url = f"{server}/api/resource/SNP Professional"
	plain = desk.get(url, params={"filters": frappe.as_json([["name", "=", world.b]])}).json()["data"]
	assert [row["name"] for row in plain] == [world.b]
	for params in (
		{"filters": frappe.as_json([["iban", "like", "FR76%"], ["name", "=", world.b]])},
		{
			"or_filters": frappe.as_json([["iban", "like", "FR76%"]]),
			"filters": frappe.as_json({"name": world.b}),
		},
		{"filters": frappe.as_json({"name": world.b}), "order_by": "iban asc"},
	):
		assert desk.get(url, params=params).json()["data"] == [], params
	count = desk.get(
		f"{server}/api/method/frappe.client.get_count",
		params={"doctype": "SNP Professional", "filters": frappe.as_json([["iban", "like", "FR76%"]])},
	)
	assert count.json()["message"] == 0
	# the doctor himself may: his own IBAN is his
	doctor = http_login(world.b_user)
	mine = doctor.get(url, params={"filters": frappe.as_json([["iban", "like", "FR76%"]])}).json()["data"]
	assert [row["name"] for row in mine] == [world.b]
