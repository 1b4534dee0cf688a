"""Fixtures of the system tests: a real HTTP server on the test site, and committed records for tests that
cross process or connection boundaries (cleaned up afterwards)."""

import socket
import subprocess
import time
from pathlib import Path

import frappe
import pytest
import requests

from cpts_snp.tests.factories import TEST_PASSWORD, make_professional, make_user

ROOT = Path(__file__).resolve().parent.parent
SITES = ROOT / "sites"


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
		frappe.db.rollback()
		frappe.set_user("Administrator")
		for professional in self.professionals:
			frappe.db.delete("SNP Booking", {"professional": professional})
			frappe.db.delete("SNP Slot", {"professional": professional})
			frappe.db.delete("SNP Professional", professional)
		for user in self.users:
			frappe.delete_doc("User", user, force=True, ignore_permissions=True)
		frappe.db.commit()


@pytest.fixture
def committed():
	records = Committed()
	yield records
	records.cleanup()
