"""Fuzzing of the doctors' portal endpoints (cpts_snp.api.portal.*) logged in as a doctor and as an intern:
other people's record names, junk, huge strings, markup and past dates never give a server error, and never
change another doctor's records. (`CPTS_LONG=1` runs more examples.)"""

import inspect
import json
import os
from datetime import timedelta

import frappe
import pytest
from cpts_snp.interns.factories import INTERN_ROLES, make_intern, make_shift, make_supervisor
from cpts_snp.services.booking import book_slot
from cpts_snp.tests.factories import (
	PATIENT,
	future_start,
	make_absence,
	make_slot,
	make_template,
	make_user,
	next_weekday,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

EXAMPLES = 60 if os.environ.get("CPTS_LONG") == "1" else 8
# The doctor's records the fuzzed callers must never change (whole rows, by professional).
WATCHED = ["SNP Slot", "SNP Booking", "SNP Availability Template", "SNP Absence", "SNP Professional"]
NOISE_COLUMNS = {"_seen", "_comments", "_liked_by", "_assign", "_user_tags"}


def portal_methods() -> list[tuple[str, list[str], str]]:
	import cpts_snp.api.portal

	methods = []
	for fn in frappe.whitelisted:
		if fn.__module__ == "cpts_snp.api.portal":
			params = [p for p in inspect.signature(fn).parameters if p not in ("args", "kwargs")]
			http = frappe.allowed_http_methods_for_whitelisted_func.get(fn, ["GET", "POST"])
			methods.append((f"{fn.__module__}.{fn.__name__}", params, "POST" if "POST" in http else "GET"))
	return sorted(methods)


METHODS = portal_methods()


@pytest.fixture(scope="module")
def victims(server):
	"""Doctor B (the victim: slots free and booked, a template, an absence) and, as callers, doctor A and an
	intern supervised by S; committed for the server, removed afterwards."""
	frappe.set_user("Administrator")
	made = frappe._dict(users=[], professionals=[])

	def professional(user, **values):
		from cpts_snp.tests.factories import make_professional

		name = make_professional(user=user, **values).name
		made.professionals.append(name)
		return name

	try:
		doctor_a = make_user()
		doctor_b = make_user()
		intern_user = make_user(roles=INTERN_ROLES)
		made.users += [doctor_a, doctor_b, intern_user]
		a = professional(doctor_a)
		b = professional(doctor_b)
		supervisor = make_supervisor()
		made.professionals.append(supervisor)
		intern = make_intern([supervisor], user=intern_user)
		made.professionals.append(intern.professional)
		make_shift(supervisor, future_start(days=20, hour=8), future_start(days=20, hour=13))
		make_slot(intern.professional, future_start(days=20, hour=9))
		free = make_slot(b, future_start(days=21, hour=9)).name
		booked = make_slot(b, future_start(days=21, hour=10)).name
		booking = book_slot(booked, {**PATIENT, "patient_last_name": "Victime"}).name
		template = make_template(b).name
		later = next_weekday(2, 12)
		absence = make_absence(b, later, later + timedelta(days=1)).name
		frappe.db.commit()
	except BaseException:
		_cleanup(made)
		raise
	world = frappe._dict(
		made=made,
		a=a,
		b=b,
		doctor_a=doctor_a,
		intern_user=intern_user,
		intern=intern.name,
		names=[free, booked, booking, template, absence, b, a, intern.name, supervisor],
	)
	yield world
	_cleanup(made)


def _cleanup(made):
	frappe.db.rollback()
	pros = made.professionals or [""]
	interns = frappe.get_all("SNP Intern", {"professional": ["in", pros]}, pluck="name") or [""]
	for doctype, filters in (
		("SNP Intern Supervisor", {"parent": ["in", interns]}),
		("SNP Intern", {"name": ["in", interns]}),
		("SNP Supervision Shift", {"supervisor": ["in", pros]}),
		(
			"SNP Absence Booking",
			{
				"parent": [
					"in",
					frappe.get_all("SNP Absence", {"professional": ["in", pros]}, pluck="name") or [""],
				]
			},
		),
		("SNP Absence", {"professional": ["in", pros]}),
		("SNP Availability Template", {"professional": ["in", pros]}),
		("SNP Booking", {"professional": ["in", pros]}),
		("SNP Slot", {"professional": ["in", pros]}),
		("SNP Professional Sector", {"parent": ["in", pros]}),
		("SNP Professional", {"name": ["in", pros]}),
	):
		frappe.db.delete(doctype, filters)
	for user in made.users:
		frappe.delete_doc("User", user, force=True, ignore_permissions=True)
	frappe.db.commit()


def rows_of(professional: str) -> dict:
	"""Every row of the doctor's records, as stored."""
	state = {}
	for doctype in WATCHED:
		column = "name" if doctype == "SNP Professional" else "professional"
		for row in frappe.db.sql(
			f"SELECT * FROM `tab{doctype}` WHERE `{column}` = %s ORDER BY name", professional, as_dict=True
		):
			state[(doctype, row.name)] = {k: v for k, v in row.items() if k not in NOISE_COLUMNS}
	return state


def values(world):
	today = frappe.utils.getdate()
	return st.one_of(
		st.none(),
		st.sampled_from(world.names),
		st.text(max_size=40),
		st.integers(min_value=-(10**12), max_value=10**12).map(str),
		st.sampled_from(
			[
				str(today - timedelta(days=400)),
				str(today - timedelta(days=1)),
				f"{today - timedelta(days=3)} 10:00:00",
				"2026-02-30",
				"1900-01-01",
				"9999-12-31 25:61:00",
				"' OR 1=1 --",
				"<script>alert(1)</script>",
				'<img src=x onerror="alert(1)">',
				"{{ frappe.session.user }}",
				"{}",
				"[]",
				'["Secteur"]',
				"null",
				"FR76 3000 6000 0112 3456 7890 189",
				"../../etc/passwd",
				"é" * 300,
				"x" * 20000,
				json.dumps({"professional": world.b}),
				"Honoured",
				"Cancelled",
				"Teleconsultation",
			]
		),
	)


@pytest.mark.parametrize("caller", ["doctor", "intern"])
@pytest.mark.parametrize("method, params, http", METHODS, ids=[m for m, _p, _h in METHODS])
def test_fuzzed_portal_calls_never_break_nor_touch_another_doctors_records(
	server, http_login, victims, caller, method, params, http
):
	session = http_login(victims.doctor_a if caller == "doctor" else victims.intern_user)

	@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), database=None)
	@given(st.fixed_dictionaries({name: values(victims) for name in params}))
	def check(args):
		payload = {k: v for k, v in args.items() if v is not None}
		frappe.db.rollback()
		before = rows_of(victims.b)
		url = f"{server}/api/method/{method}"
		response = (
			session.post(url, data=payload, timeout=60)
			if http == "POST"
			else session.get(url, params=payload, timeout=60)
		)
		where = (
			f"{caller}: {method}({json.dumps(payload, ensure_ascii=False)[:300]}) → {response.status_code}"
		)
		assert response.status_code < 500, f"{where}: {response.text[:500]}"
		frappe.db.rollback()
		after = rows_of(victims.b)
		changed = sorted({key for key in before.keys() | after.keys() if before.get(key) != after.get(key)})
		assert not changed, f"{where} changed another doctor's records: {changed}"

	check()


def test_the_portal_has_endpoints_to_fuzz():
	assert len(METHODS) >= 8, METHODS
