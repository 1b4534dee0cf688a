"""`make production` as CI runs it: scripts/production.sh renders nginx (TLS, HTTP → HTTPS, gzip, long cache for
hashed assets, security headers) and supervisord (gunicorn, socketio, worker, scheduler, Redis watchers, nginx)
for the test site, on free loopback ports and in a directory of its own; through HTTPS a staff member logs into
the desk, a doctor opens his portal, the FHIR interface answers, a partner books; the web server killed, the
supervisor brings it back and the site answers again; a second run reloads instead of starting twice."""

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import frappe
import pytest
import requests
from cpts_snp.exports.fhir import PRACTITIONER_PARAM, RPPS_SYSTEM
from cpts_snp.tests.factories import PATIENT, TEST_PASSWORD, future_start, make_slot

ROOT = Path(__file__).resolve().parent.parent
DAY = 24  # days ahead of this module's slots, away from other tests' days

pytestmark = pytest.mark.skipif(
	not (shutil.which("nginx") and shutil.which("supervisord")),
	reason="nginx and supervisor are installed by make setup",
)


def _free_port() -> int:
	with socket.socket() as s:
		s.bind(("127.0.0.1", 0))
		return s.getsockname()[1]


def _script(env, *steps, check=True):
	"""Runs steps (shell functions of scripts/production.sh) after production_settings; returns stdout."""
	command = "source scripts/production.sh && production_settings && " + " && ".join(steps)
	done = subprocess.run(
		["bash", "-c", command], cwd=ROOT, env=env, capture_output=True, text=True, timeout=180, check=False
	)
	if check:
		assert done.returncode == 0, done.stdout + done.stderr
	return done.stdout


class Stack:
	def __init__(self, folder: Path):
		self.folder = folder
		self.https_port, self.http_port = _free_port(), _free_port()
		self.env = {
			**os.environ,
			"PROD_SITE": frappe.local.site,
			"PROD_HOST": "127.0.0.1",
			"PROD_BIND": "127.0.0.1",
			"PROD_HTTPS_PORT": str(self.https_port),
			"PROD_HTTP_PORT": str(self.http_port),
			"PROD_WEB_PORT": str(_free_port()),
			"PROD_SOCKETIO_PORT": str(_free_port()),
			"PROD_GUNICORN_WORKERS": "2",
			"PROD_WORKERS": "1",
			"PROD_CONFIG_DIR": str(folder / "config"),
			"PROD_LOG_DIR": str(folder / "logs"),
		}
		for name in ("TLS_CERT", "TLS_KEY", "SAS_MTLS_CERT"):
			self.env.pop(name, None)
		self.base = f"https://127.0.0.1:{self.https_port}"
		self.ca = str(folder / "config" / "tls" / "cert.pem")
		self.supervisor_conf = str(folder / "config" / "supervisor" / "supervisord.conf")

	def up(self):
		return _script(
			self.env,
			"ensure_tls_certificate",
			"render_production_nginx",
			"render_production_supervisor",
			"render_production_systemd",
			"start_production",
			"wait_for_production 90",
		)

	def down(self):
		_script(self.env, "stop_production", check=False)

	def ctl(self, *args) -> str:
		return subprocess.run(
			["supervisorctl", "-c", self.supervisor_conf, *args], capture_output=True, text=True, timeout=60
		).stdout.strip()

	def pid(self, program) -> int:
		value = self.ctl("pid", program)
		return int(value) if value.isdigit() else 0

	def get(self, path, session=None, **kwargs):
		return (session or requests).get(f"{self.base}{path}", verify=self.ca, timeout=60, **kwargs)

	def login(self, user) -> requests.Session:
		session = requests.Session()
		response = session.post(
			f"{self.base}/api/method/login",
			data={"usr": user, "pwd": TEST_PASSWORD},
			verify=self.ca,
			timeout=60,
		)
		assert response.ok, response.text
		return session

	def answers(self) -> bool:
		try:
			return self.get("/api/method/ping").json() == {"message": "pong"}
		except (requests.ConnectionError, ValueError):
			return False


@pytest.fixture(scope="module")
def stack():
	folder = Path(tempfile.mkdtemp(prefix="cpts-production-"))
	folder.chmod(0o755)  # nginx's workers (an unprivileged user) read their temporary files
	stack = Stack(folder)
	try:
		stack.up()
		yield stack
	finally:
		stack.down()
		shutil.rmtree(folder, ignore_errors=True)
	# everything it started is stopped: nothing answers on its ports any more
	for port in (stack.https_port, int(stack.env["PROD_WEB_PORT"])):
		with socket.socket() as s:
			assert s.connect_ex(("127.0.0.1", port)) != 0, port


def _quiet_scheduler(stack):
	"""The scheduler, seen running, is stopped: its first tick (a minute after its start) would enqueue the jobs
	of every site of the bench, the demo site's included, while other test runs use the test site."""
	assert "stopped" in stack.ctl("stop", "cpts-workers:cpts-frappe-schedule")


def test_every_process_runs_supervised_and_systemd_units_are_written(stack):
	status = stack.ctl("status")
	for program in (
		"cpts-web:cpts-frappe-web",
		"cpts-web:cpts-node-socketio",
		"cpts-web:cpts-nginx",
		"cpts-workers:cpts-frappe-worker-0",
		"cpts-workers:cpts-frappe-schedule",
		"cpts-redis:cpts-redis-cache",
		"cpts-redis:cpts-redis-queue",
	):
		assert f"{program} " in status and "RUNNING" in status.split(program)[1].splitlines()[0], status
	_quiet_scheduler(stack)
	units = stack.folder / "config" / "systemd"
	web = (units / "cpts-snp-web.service").read_text()
	assert f"-b 127.0.0.1:{stack.env['PROD_WEB_PORT']}" in web and not re.search("@@[A-Z_]+@@", web)
	assert "cpts-snp-worker@1.service" in (units / "cpts-snp.target").read_text()
	nginx = (stack.folder / "config" / "nginx-production" / "cpts-production.conf").read_text()
	# the SAS mTLS entry's secret header is never passed on from the public entry
	assert 'proxy_set_header X-CPTS-Proxy-Secret "";' in nginx and not re.search("@@[A-Z_]+@@", nginx)


def test_http_is_redirected_to_https_and_every_answer_carries_the_security_headers(stack):
	redirect = requests.get(f"http://127.0.0.1:{stack.http_port}/app?x=1", allow_redirects=False, timeout=30)
	assert redirect.status_code == 301
	assert redirect.headers["Location"] == f"{stack.base}/app?x=1"

	for path in ("/login", "/api/method/ping", "/permanences"):
		response = stack.get(path)
		assert response.status_code == 200, path
		assert response.headers["Strict-Transport-Security"].startswith("max-age=63072000"), path
		assert response.headers["X-Frame-Options"] == "SAMEORIGIN", path
		# one nosniff, even where the application sets its own
		assert response.headers["X-Content-Type-Options"] == "nosniff", path
	# the public page keeps the application's Content-Security-Policy, not a second one from nginx
	policy = stack.get("/permanences").headers["Content-Security-Policy"]
	assert "script-src 'self'" in policy and "," not in policy


def test_text_is_gzipped_and_hashed_assets_are_cached_for_a_year(stack):
	page = stack.get("/login", headers={"Accept-Encoding": "gzip"})
	assert page.headers.get("Content-Encoding") == "gzip"
	assert "Se connecter" in page.text or "Login" in page.text

	assets = json.loads((ROOT / "sites" / "assets" / "assets.json").read_text())
	script = stack.get(assets["desk.bundle.js"], headers={"Accept-Encoding": "gzip"})
	assert script.status_code == 200
	assert script.headers["Content-Type"] == "application/javascript"
	assert script.headers.get("Content-Encoding") == "gzip"
	max_age = int(script.headers["Cache-Control"].split("max-age=")[1].split(",")[0])
	assert max_age >= 365 * 86400
	assert script.headers["Strict-Transport-Security"]  # kept on nginx's own answers
	assert stack.get("/assets/frappe/dist/js/no-such-file.js").status_code == 404


def test_socketio_answers_behind_nginx(stack):
	handshake = stack.get("/socket.io/", params={"EIO": "4", "transport": "polling"})
	assert handshake.status_code == 200 and '"sid"' in handshake.text


def test_a_staff_member_logs_into_the_desk_and_a_doctor_opens_his_portal(stack, committed):
	staff = committed.user(["Coordinateur CPTS"])
	doctor, _professional = committed.doctor()
	frappe.db.commit()

	desk = stack.login(staff)
	response = stack.get("/app", session=desk)
	assert response.status_code == 200 and "frappe.boot" in response.text
	assert all(cookie.secure for cookie in desk.cookies if cookie.name == "sid")  # HTTPS seen behind nginx

	portal = stack.login(doctor)
	page = stack.get("/snp", session=portal)
	assert page.status_code == 200 and "Mes créneaux" in page.text


def _committed(make):
	"""make() committed, tried again when another test run's inserts deadlock it."""
	for attempt in range(5):
		try:
			made = make()
			frappe.db.commit()
			return made
		except frappe.QueryDeadlockError:
			frappe.db.rollback()
			if attempt == 4:
				raise
			time.sleep(0.2 * (attempt + 1))


def test_the_fhir_interface_answers_and_a_partner_books_through_https(stack, committed):
	from cpts_snp.tests.partner_factories import api_token, delete_partners, make_partner

	user = committed.user(["Partenaire SNP"])
	professional = committed.professional()
	frappe.db.commit()
	partner = _committed(lambda: make_partner(users=[user], partner_type="SAS / SAMU"))
	headers = {"Authorization": f"token {_committed(lambda: api_token(user))}"}
	slot = _committed(lambda: make_slot(professional, future_start(DAY, 10)).name)
	try:
		metadata = stack.get("/fhir/metadata", headers={"Accept": "application/fhir+json"})
		assert metadata.status_code == 200 and metadata.json()["resourceType"] == "CapabilityStatement"

		day = str(future_start(DAY).date())
		rpps = frappe.db.get_value("SNP Professional", professional, "rpps")
		search = stack.get(
			"/fhir/ps/Slot",
			headers={**headers, "Accept": "application/fhir+json"},
			params={
				"status": "free",
				"start": [f"ge{day}", f"le{day}"],
				PRACTITIONER_PARAM: f"{RPPS_SYSTEM}|8{rpps}",
			},
		)
		assert search.status_code == 200, search.text
		assert search.json()["resourceType"] == "Bundle"

		booked = requests.post(
			f"{stack.base}/api/method/cpts_snp.api.partners.book",
			data={**PATIENT, "slot": slot},
			headers=headers,
			verify=stack.ca,
			timeout=60,
		)
		assert booked.ok, booked.text
		assert booked.json()["message"]["partner"] == partner.name
		frappe.db.rollback()
		assert frappe.db.get_value("SNP Slot", slot, "status") != "Available"
	finally:
		delete_partners([partner.name], [user])


def _children(pid: int) -> list[int]:
	children = []
	for status in Path("/proc").glob("[0-9]*/status"):
		try:
			fields = dict(line.split(":\t", 1) for line in status.read_text().splitlines() if ":\t" in line)
		except OSError:
			continue
		if fields.get("PPid", "").strip() == str(pid):
			children.append(int(status.parent.name))
	return children


def _alive(pid: int) -> bool:
	try:
		os.kill(pid, 0)
	except ProcessLookupError:
		return False
	return Path(f"/proc/{pid}/status").exists() and "zombie" not in Path(f"/proc/{pid}/status").read_text()


def test_the_web_server_killed_is_restarted_by_the_supervisor(stack):
	old = stack.pid("cpts-web:cpts-frappe-web")
	workers = _children(old)
	assert old and workers and stack.answers()
	os.kill(old, signal.SIGKILL)  # the gunicorn master dies without a word
	deadline = time.monotonic() + 40
	while time.monotonic() < deadline:
		new = stack.pid("cpts-web:cpts-frappe-web")
		running = "RUNNING" in stack.ctl("status", "cpts-web:cpts-frappe-web")
		if running and new not in (0, old) and not any(map(_alive, workers)) and stack.answers():
			break
		time.sleep(0.5)
	else:
		pytest.fail(f"the web server was not restarted: {stack.ctl('status')}")
	# the new master's own workers answer (the orphans of the killed one are gone)
	assert _children(new) and stack.answers()


def test_a_second_run_reloads_instead_of_starting_twice(stack):
	supervisord = int((stack.folder / "config" / "supervisor" / "supervisord.pid").read_text())
	nginx = stack.pid("cpts-web:cpts-nginx")
	web = stack.pid("cpts-web:cpts-frappe-web")
	output = stack.up()
	assert "Reloading" in output
	assert int((stack.folder / "config" / "supervisor" / "supervisord.pid").read_text()) == supervisord
	assert stack.pid("cpts-web:cpts-nginx") == nginx  # reloaded in place (HUP), never a second nginx
	assert stack.pid("cpts-web:cpts-frappe-web") != web  # the web server restarted on the current code
	assert stack.answers()
	assert "RUNNING" in stack.ctl("status", "cpts-workers:cpts-frappe-schedule")
	_quiet_scheduler(stack)


def test_the_sas_mtls_entry_is_served_by_the_production_nginx_when_configured(stack, tmp_path):
	"""With SAS_MTLS_* set, the production configuration includes scripts/mtls.sh's server (checked by nginx -t)."""
	tls = stack.folder / "config" / "tls"
	env = {
		**stack.env,
		"PROD_CONFIG_DIR": str(tmp_path / "config"),
		"TLS_CERT": str(tls / "cert.pem"),
		"TLS_KEY": str(tls / "key.pem"),
		"SAS_MTLS_CERT": str(tls / "cert.pem"),
		"SAS_MTLS_KEY": str(tls / "key.pem"),
		"SAS_MTLS_CLIENT_CA": str(tls / "cert.pem"),
		"SAS_MTLS_LISTEN": f"127.0.0.1:{_free_port()}",
	}
	_script(env, "ensure_tls_certificate", "render_production_nginx " + "s" * 40)
	prefix = tmp_path / "config" / "nginx-production"
	assert f"include {prefix}/sas-mtls.conf;" in (prefix / "cpts-production.conf").read_text()
	mtls = (prefix / "sas-mtls.conf").read_text()
	assert "ssl_verify_client on;" in mtls
	assert f"proxy_pass http://127.0.0.1:{stack.env['PROD_WEB_PORT']};" in mtls
