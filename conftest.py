"""pytest bootstrap: every test runs against the real test site (MariaDB, Redis) of this bench.

`make test` creates or refreshes the site and sets CPTS_TEST_SITE; tests never mock Frappe or the database.
In-process tests get a clean transaction (rolled back after each test); tests that need committed data
(HTTP, concurrency) use the `committed` fixture below, which deletes what they made.
"""

import os
import socket
import subprocess
import time
from pathlib import Path

import frappe
import pytest
import requests
from cpts_snp.tests.factories import TEST_PASSWORD, make_professional, make_user

ROOT = Path(__file__).resolve().parent
SITES = ROOT / "sites"
SITE = os.environ.get("CPTS_TEST_SITE", "test.localhost")


def pytest_configure(config):
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
	email = "responsable-systeme@cpts-test.fr"
	if not frappe.db.exists("User", email):
		user = frappe.get_doc(
			{"doctype": "User", "email": email, "first_name": "Responsable", "send_welcome_email": 0}
		).insert()
		user.add_roles("System Manager")
		frappe.db.commit()


def pytest_unconfigure(config):
	frappe.destroy()


@pytest.fixture(autouse=True)
def _clean_transaction():
	"""Each test starts as Administrator in French and leaves nothing behind it did not commit."""
	frappe.set_user("Administrator")
	frappe.local.lang = "fr"
	yield
	frappe.db.rollback()
	frappe.set_user("Administrator")


# --- HTTP server and committed records (tests that cross process or connection boundaries) ---


def _free_port() -> int:
	with socket.socket() as s:
		s.bind(("127.0.0.1", 0))
		return s.getsockname()[1]


@pytest.fixture(scope="session")
def server():
	"""`bench serve` (Frappe's threaded dev server) on the test site; yields its base URL."""
	site = frappe.local.site
	port = _free_port()
	log = open(ROOT / "logs" / "test-server.log", "w")
	proc = subprocess.Popen(
		[str(ROOT / "env" / "bin" / "python"), "-m", "frappe.utils.bench_helper", "frappe", "--site", site]
		+ ["serve", "--port", str(port), "--noreload"],
		cwd=SITES,
		stdout=log,
		stderr=subprocess.STDOUT,
	)
	base = f"http://127.0.0.1:{port}"
	deadline = time.monotonic() + 60
	while True:
		try:
			if requests.get(f"{base}/api/method/ping", timeout=2).ok:
				break
		except requests.ConnectionError:
			pass
		if proc.poll() is not None or time.monotonic() > deadline:
			proc.kill()
			raise RuntimeError(f"test server did not start, see {log.name}")
		time.sleep(0.3)
	yield base
	proc.terminate()
	proc.wait(10)
	log.close()


def login(base: str, user: str, password: str = TEST_PASSWORD) -> requests.Session:
	session = requests.Session()
	response = session.post(f"{base}/api/method/login", data={"usr": user, "pwd": password}, timeout=30)
	assert response.ok, response.text
	return session


@pytest.fixture(scope="session")
def http_login(server):
	"""http_login(user) -> a requests.Session logged in on the test server."""
	return lambda user, password=TEST_PASSWORD: login(server, user, password)


class Committed:
	"""Records committed for the length of one test (other connections and the HTTP server see them)."""

	def __init__(self):
		self.users: list[str] = []
		self.professionals: list[str] = []

	def user(self, roles, desk_user=True) -> str:
		email = make_user(roles=roles, desk_user=desk_user)
		self.users.append(email)
		return email

	def doctor(self) -> tuple[str, str]:
		user = self.user(["Médecin SNP"], desk_user=False)
		professional = make_professional(user=user).name
		self.professionals.append(professional)
		return user, professional

	def professional(self) -> str:
		professional = make_professional().name
		self.professionals.append(professional)
		return professional

	def cleanup(self):
		for attempt in range(3):
			try:
				return self._cleanup()
			except frappe.QueryDeadlockError:
				# another process of the machine (a second test run) deleted users at the same moment
				if attempt == 2:
					raise
				time.sleep(0.5)

	def _cleanup(self):
		frappe.db.rollback()
		frappe.set_user("Administrator")
		for professional in self.professionals:
			patients = {p for p in frappe.get_all("SNP Booking", {"professional": professional}, pluck="patient") if p}
			frappe.db.delete("SNP Booking", {"professional": professional})
			# the patients their bookings made (cpts_snp.services.patients), unless other records still point at them
			for patient in patients:
				if not any(frappe.db.exists(dt, {"patient": patient}) for dt in ("SNP Booking", "SNP Call", "SNP Callback")):
					frappe.db.delete("SNP Patient", patient)
			frappe.db.delete("SNP Slot", {"professional": professional})
			frappe.db.delete("SNP Professional Sector", {"parenttype": "SNP Professional", "parent": professional})
			frappe.db.delete("SNP Professional", professional)
		for user in self.users:
			frappe.delete_doc("User", user, force=True, ignore_permissions=True)
		frappe.db.commit()


@pytest.fixture
def committed():
	records = Committed()
	yield records
	records.cleanup()


# --- Territorial partners over HTTP (partner API, FHIR) ---


@pytest.fixture(scope="module")
def partner_world(server):
	"""Partner A (SAS regulation) and B (emergency department) may book, V (hospital) may only view; one user
	and API token each; committed once per module (users are slow to create), removed afterwards."""
	from cpts_snp.tests.partner_factories import api_token, delete_partners, make_partner

	records = Committed()
	world = frappe._dict()
	for key, values in (
		("a", {"partner_type": "SAS / SAMU"}),
		("b", {"partner_type": "Emergency department"}),
		("v", {"partner_type": "Hospital", "access_level": "View availability"}),
	):
		user = records.user(["Partenaire SNP"])
		partner = make_partner(users=[user], **values)
		world[key] = frappe._dict(user=user, partner=partner.name, token=api_token(user))
	frappe.db.commit()
	yield world
	delete_partners([p.partner for p in world.values()], [p.user for p in world.values()])
	records.cleanup()


@pytest.fixture
def partners(partner_world):
	"""The partners of the module, as new for each test: no access log, no request counted, default limits."""
	from cpts_snp.services.partners import reset_rate_limit

	frappe.db.rollback()
	default_limit = frappe.get_meta("SNP Partner").get_field("rate_limit_per_minute").default
	for p in partner_world.values():
		frappe.db.delete("SNP Partner Access Log", {"user": p.user})
		frappe.db.set_value("SNP Partner", p.partner, "rate_limit_per_minute", default_limit)
		reset_rate_limit(p.partner)
	frappe.db.commit()
	return partner_world
