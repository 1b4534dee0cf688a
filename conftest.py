"""pytest bootstrap: every test runs against the real test site (MariaDB, Redis) of this bench.

`make test` creates or refreshes the site and sets CPTS_TEST_SITE; tests never mock Frappe or the database.
In-process tests get a clean transaction (rolled back after each test); tests that need committed data
(HTTP, concurrency) use the `committed` fixture of tests/conftest.py, which deletes what they made.
"""

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent
SITES = ROOT / "sites"
SITE = os.environ.get("CPTS_TEST_SITE", "test.localhost")


def pytest_configure(config):
	import frappe

	if not (SITES / SITE / "site_config.json").exists():
		raise pytest.UsageError(f"site {SITE} does not exist: run the tests with `make test`")
	os.chdir(SITES)
	frappe.init(site=SITE, sites_path=str(SITES))
	frappe.connect()
	frappe.flags.in_test = True
	frappe.local.lang = "fr"
	_ensure_site_manager()


def _ensure_site_manager():
	"""A System Manager besides Administrator, as every real site has: otherwise Frappe makes the first desk
	user a test creates a System Manager, and refuses to delete that user afterwards."""
	import frappe

	email = "responsable-systeme@cpts-test.fr"
	if not frappe.db.exists("User", email):
		user = frappe.get_doc(
			{"doctype": "User", "email": email, "first_name": "Responsable", "send_welcome_email": 0}
		).insert()
		user.add_roles("System Manager")
		frappe.db.commit()


def pytest_unconfigure(config):
	import frappe

	frappe.destroy()


@pytest.fixture(autouse=True)
def _clean_transaction():
	"""Each test starts as Administrator in French and leaves nothing behind it did not commit."""
	import frappe

	frappe.set_user("Administrator")
	frappe.local.lang = "fr"
	yield
	frappe.db.rollback()
	frappe.set_user("Administrator")
