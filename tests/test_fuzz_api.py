"""Fuzzing: every whitelisted method of the app, fed generated input over HTTP, never answers a server error,
and a refused call writes nothing. (`make test-long` runs more examples.)"""

import importlib
import inspect
import json
import os
import pkgutil

import cpts_snp
import frappe
import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

EXAMPLES = 60 if os.environ.get("CPTS_LONG") == "1" else 8
WATCHED = ["SNP Booking", "SNP Slot", "SNP Call", "SNP Absence", "SNP Payment Run", "SNP Professional",
	"SNP Availability Template", "SNP Paid Item", "SNP Indemnity Payment"]


def app_methods() -> list[tuple[str, list[str]]]:
	for module in pkgutil.walk_packages(cpts_snp.__path__, "cpts_snp."):
		if ".test" not in module.name and ".www." not in module.name and not module.name.endswith("hooks"):
			importlib.import_module(module.name)
	methods = []
	for fn in frappe.whitelisted:
		if fn.__module__.startswith("cpts_snp"):
			params = [p for p in inspect.signature(fn).parameters if p not in ("args", "kwargs")]
			methods.append((f"{fn.__module__}.{fn.__name__}", params))
	return sorted(methods)


METHODS = app_methods()

values = st.one_of(
	st.none(),
	st.text(max_size=40),
	st.integers(min_value=-(10**12), max_value=10**12).map(str),
	st.sampled_from([
		"2026-02-30", "1900-01-01", "9999-12-31 25:61:00", "' OR 1=1 --", "<script>alert(1)</script>",
		"{}", "[]", '{"patient_last_name": null}', "null", "CR-2026-00001", "RDV-2026-00001", "Honoured", "SAS",
		"FR76 3000 6000 0112 3456 7890 189", "../../etc/passwd", "é" * 300,
	]),
)


def counts():
	return {doctype: frappe.db.count(doctype) for doctype in WATCHED}


@pytest.fixture(scope="module")
def coordinator_session(server):
	from cpts_snp.tests.factories import TEST_PASSWORD, make_user

	user = make_user(["Coordinateur CPTS", "Comptable CPTS"], desk_user=True)
	frappe.db.commit()
	session = requests.Session()
	assert session.post(f"{server}/api/method/login", data={"usr": user, "pwd": TEST_PASSWORD}).ok
	yield session
	frappe.db.rollback()
	frappe.db.delete("User", user)
	frappe.db.commit()


def test_the_app_has_whitelisted_methods_to_fuzz():
	assert len(METHODS) >= 20


@pytest.mark.parametrize("method, params", METHODS, ids=[m for m, _ in METHODS])
def test_generated_input_never_breaks_a_method(server, coordinator_session, method, params):
	@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), database=None)
	@given(st.fixed_dictionaries({name: values for name in params}))
	def check(args):
		payload = {k: v for k, v in args.items() if v is not None}
		frappe.db.rollback()
		before = counts()
		response = coordinator_session.post(f"{server}/api/method/{method}", data=payload, timeout=60)
		assert response.status_code < 500, f"{method}({json.dumps(payload)[:300]}) → {response.status_code}: {response.text[:500]}"
		if response.status_code >= 400:
			frappe.db.rollback()
			assert counts() == before, f"{method} wrote rows although it refused {payload}"

	check()
