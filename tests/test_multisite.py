"""Many CPTS on one bench (`make add-site`, DNS multitenancy): the test site (A) and a second CPTS site (B,
`cpts2.localhost`, created once by scripts/add_site.sh and kept for later runs) behind the production nginx of
scripts/production.sh (started on free loopback ports, as tests/test_production_stack.py does). Each site is
reached by its own name (TLS SNI and Host header, the certificate naming it); a user of one site reaches nothing
of the other: his session cookie and API token give nothing there, the other site's data is never listed (REST,
FHIR), the same e-mail address has a separate password on each, and a client cannot pick the site himself.
The SAS platform's mTLS entry (scripts/mtls.sh, SAS_MTLS_* set on the stack) serves both by host name too, each
site with its own proxy secret: a partner's certificate reaches its own site's data, is nobody on the other,
an unknown name (Host or SNI) is refused by nginx, and one site's secret means nothing to the other."""

import ipaddress
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import frappe
import pytest
import requests
from requests.adapters import HTTPAdapter

ROOT = Path(__file__).resolve().parent.parent
SITE_B = "cpts2.localhost"
ADMIN_B = "Multisite-B-2026!"  # B's Administrator password (A's is the test site's own)
SHARED_EMAIL = "meme.personne@cpts-multisite.fr"  # a user of both sites, with a password on each
PASSWORD = {"a": "Mot-de-passe-A-2026!", "b": "Mot-de-passe-B-2026!"}
DAY = 26  # days ahead of this module's slots, away from other tests' days

pytestmark = pytest.mark.skipif(
	not (shutil.which("nginx") and shutil.which("supervisord")),
	reason="nginx and supervisor are installed by make setup",
)


# --- what each site holds (run in-process on A, in a subprocess on B) ---


def seed_site(key: str) -> dict:
	"""On the connected site: a place, a doctor sharing his slots individually with the SAS and one free slot
	there, a partner user with an API token, and the shared e-mail address as a coordinator with this site's
	password. Committed; returns the names (for the other site's requests and the clean-up)."""
	from cpts_snp.tests.factories import future_start, make_professional, make_slot, make_user, unique_suffix
	from cpts_snp.tests.partner_factories import api_token, make_partner
	from frappe.utils.password import update_password

	ensure_site_manager()
	clean_site({"users": [SHARED_EMAIL]})
	place = frappe.get_doc(
		{
			"doctype": "SNP Place",
			"place_name": f"Maison de santé {key.upper()} multisite",
			"address_line": "1 place du Marché",
			"postal_code": "44000",
			"city": "Nantes",
		}
	).insert()
	professional = make_professional(sas_individual_sharing=1, place=place.name)
	slot = make_slot(professional.name, future_start(DAY, 10), place=place.name)
	partner_user = make_user(roles=["Partenaire SNP"], desk_user=True)
	# the SAS platform's client certificate for this site (mTLS entry): a CN and OU of this site's partner only
	certificate_cn, certificate_ou = f"sas-{key}-{unique_suffix()}.sante.fr", f"Plateforme SAS {key.upper()}"
	partner = make_partner(
		users=[partner_user],
		partner_type="SAS / SAMU",
		certificate_cn=certificate_cn,
		certificate_ou=certificate_ou,
		certificate_user=partner_user,
	)
	user = frappe.get_doc(
		{
			"doctype": "User",
			"email": SHARED_EMAIL,
			"first_name": "Même",
			"last_name": f"Personne {key.upper()}",
			"send_welcome_email": 0,
			"user_type": "System User",
		}
	).insert()
	user.add_roles("Coordinateur CPTS")
	update_password(SHARED_EMAIL, PASSWORD[key])
	world = {
		"place": place.name,
		"professional": professional.name,
		"rpps": professional.rpps,
		"slot": slot.name,
		"partner": partner.name,
		"users": [partner_user, SHARED_EMAIL],
		"token": api_token(partner_user),
		"certificate": [certificate_cn, certificate_ou],
	}
	frappe.db.commit()
	return world


def ensure_site_manager() -> None:
	"""A System Manager besides Administrator (conftest.py does the same on the test site): otherwise Frappe makes
	the first desk user created a System Manager, and refuses to delete him afterwards."""
	email = "responsable-systeme@cpts-test.fr"
	if not frappe.db.exists("User", email):
		user = frappe.get_doc(
			{"doctype": "User", "email": email, "first_name": "Responsable", "send_welcome_email": 0}
		).insert()
		user.add_roles("System Manager")
		frappe.db.commit()


def clean_site(world: dict) -> None:
	"""Removes what seed_site committed on the connected site."""
	from cpts_snp.tests.partner_factories import delete_partners

	frappe.db.rollback()
	if world.get("partner"):
		delete_partners([world["partner"]])
	if world.get("professional"):
		frappe.db.delete("SNP Slot", {"professional": world["professional"]})
		frappe.db.delete("SNP Professional Sector", {"parent": world["professional"]})
		frappe.db.delete("SNP Professional", world["professional"])
	if world.get("place"):
		frappe.db.delete("SNP Place", world["place"])
	for user in world.get("users", []):
		if frappe.db.exists("User", user):
			frappe.delete_doc("User", user, force=True, ignore_permissions=True)
	frappe.db.commit()


def on_site_b(function: str, argument) -> dict:
	"""Runs this module's `function(argument)` on site B in a process of its own; returns its JSON result."""
	code = f"""
import json, sys
sys.path.insert(0, {str(ROOT / "tests")!r})
import frappe
frappe.init(site={SITE_B!r}, sites_path={str(ROOT / "sites")!r})
frappe.connect()
frappe.flags.in_test = True
frappe.flags.mute_emails = True
frappe.local.lang = "fr"
frappe.set_user("Administrator")
import test_multisite
result = getattr(test_multisite, {function!r})(json.loads(sys.argv[1]))
print("RESULT " + json.dumps(result))
frappe.destroy()
"""
	done = subprocess.run(
		[str(ROOT / "env" / "bin" / "python"), "-c", code, json.dumps(argument)],
		cwd=ROOT / "sites",
		capture_output=True,
		text=True,
		timeout=120,
	)
	assert done.returncode == 0, done.stdout + done.stderr
	line = next(line for line in done.stdout.splitlines() if line.startswith("RESULT "))
	return json.loads(line[len("RESULT ") :])


# --- HTTPS to one site by its name, through the one nginx on loopback ---


class NameAdapter(HTTPAdapter):
	"""Sends `name` as TLS SNI and checks that the certificate names it (or names `check`), whatever address the
	URL has."""

	def __init__(self, name: str, check: str | None = None):
		self.name, self.check = name, check or name
		super().__init__()

	def init_poolmanager(self, *args, **kwargs):
		kwargs["server_hostname"] = self.name
		kwargs["assert_hostname"] = self.check
		super().init_poolmanager(*args, **kwargs)


class VerifiedSession(requests.Session):
	"""Checks the server's certificate against `ca` (a session's own `verify` would lose to REQUESTS_CA_BUNDLE)."""

	def __init__(self, ca: str):
		super().__init__()
		self.ca = ca

	def request(self, *args, **kwargs):
		kwargs.setdefault("verify", self.ca)
		return super().request(*args, **kwargs)


class Site:
	def __init__(self, stack, name: str):
		self.stack, self.name = stack, name

	def session(self) -> requests.Session:
		session = VerifiedSession(self.stack.ca)
		session.mount("https://", NameAdapter(self.name))
		session.headers["Host"] = self.name
		return session

	def get(self, path, session=None, **kwargs) -> requests.Response:
		return (session or self.session()).get(f"{self.stack.base}{path}", timeout=60, **kwargs)

	def login(self, user, password) -> requests.Response:
		session = self.session()
		response = session.post(
			f"{self.stack.base}/api/method/login", data={"usr": user, "pwd": password}, timeout=60
		)
		response.session = session
		return response

	def logged_in(self, user, password) -> requests.Session:
		response = self.login(user, password)
		assert response.ok, response.text
		return response.session


def fhir_slots(site: Site, token: str, *rpps: str) -> list[str]:
	from cpts_snp.exports.fhir import PRACTITIONER_PARAM, RPPS_SYSTEM
	from cpts_snp.tests.factories import future_start

	day = str(future_start(DAY).date())
	response = site.get(
		"/fhir/ps/Slot",
		headers={"Authorization": f"token {token}", "Accept": "application/fhir+json"},
		params={
			"status": "free",
			"start": [f"ge{day}", f"le{day}"],
			PRACTITIONER_PARAM: ",".join(f"{RPPS_SYSTEM}|8{number}" for number in rpps),
		},
	)
	assert response.status_code == 200, response.text
	bundle = response.json()
	assert bundle["resourceType"] == "Bundle"
	return [e["resource"]["id"] for e in bundle.get("entry", []) if e["resource"]["resourceType"] == "Slot"]


def sas_mtls_pki(stack, folder: Path):
	"""The test CA of tests/test_sas_mtls.py, a server certificate naming both sites, and the SAS_MTLS_* settings
	of the stack: its nginx then serves the SAS platform's mTLS entry too, on a port of its own."""
	from cryptography import x509
	from cryptography.x509.oid import ExtendedKeyUsageOID
	from test_production_stack import _free_port
	from test_sas_mtls import PKI, _name

	(folder / "pki").mkdir()
	pki = PKI(folder / "pki")
	_cert, (cert, key) = pki.issue(
		"server.pem",
		_name("127.0.0.1"),
		ExtendedKeyUsageOID.SERVER_AUTH,
		san=[x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName(SITE_B)],
	)
	port = _free_port()
	stack.env.update(
		{
			"SAS_MTLS_CERT": cert,
			"SAS_MTLS_KEY": key,
			"SAS_MTLS_CLIENT_CA": str(pki.ca),
			"SAS_MTLS_LISTEN": f"127.0.0.1:{port}",
		}
	)
	return frappe._dict(pki=pki, port=port, base=f"https://127.0.0.1:{port}", ca=str(pki.ca), clients={})


def proxy_secret(site: str) -> str | None:
	from cpts_snp.services.client_certificates import SECRET_CONFIG_KEY

	return json.loads((ROOT / "sites" / site / "site_config.json").read_text()).get(SECRET_CONFIG_KEY)


@pytest.fixture(scope="module")
def world():
	from cpts_snp.services.client_certificates import SECRET_CONFIG_KEY
	from frappe.installer import update_site_config
	from test_production_stack import Stack

	folder = Path(tempfile.mkdtemp(prefix="cpts-multisite-"))
	folder.chmod(0o755)  # nginx's workers (an unprivileged user) read their temporary files
	stack = Stack(folder)
	mtls = sas_mtls_pki(stack, folder)
	# the production stack gives the test site (A) a proxy secret of its own: removed afterwards if it had none
	had_secret = bool(proxy_secret(frappe.local.site))
	seeded = {}
	try:
		stack.up()
		# the scheduler's first tick would enqueue every site's jobs while other test runs use the test site
		stack.ctl("stop", "cpts-workers:cpts-frappe-schedule")
		# `make add-site` with the stack's settings: creates B (or migrates it), re-renders and reloads nginx
		added = subprocess.run(
			["bash", "scripts/add_site.sh", SITE_B],
			cwd=ROOT,
			env={**stack.env, "ADMIN_PASSWORD": ADMIN_B},
			capture_output=True,
			text=True,
			timeout=600,
		)
		assert added.returncode == 0, added.stdout + added.stderr
		a, b = Site(stack, frappe.local.site), Site(stack, SITE_B)
		deadline = time.monotonic() + 30
		while True:  # nginx's new workers (HUP) present the certificate naming B
			try:
				if b.get("/api/method/ping").ok:
					break
			except requests.exceptions.SSLError:
				if time.monotonic() > deadline:
					raise
			time.sleep(0.3)
		frappe.set_user("Administrator")
		seeded["a"] = seed_site("a")
		seeded["b"] = on_site_b("seed_site", "b")
		for key in ("a", "b"):  # each site's SAS certificate, as IGC-Santé would issue it
			mtls.clients[key] = mtls.pki.client(f"sas-{key}.pem", *seeded[key]["certificate"])[1]
		yield frappe._dict(stack=stack, a=a, b=b, seeded=seeded, add_site_output=added.stdout, mtls=mtls)
	finally:
		if "a" in seeded:
			clean_site(seeded["a"])
		if "b" in seeded:
			on_site_b("clean_site", seeded["b"])
		stack.down()
		if not had_secret:
			update_site_config(SECRET_CONFIG_KEY, "None")
		shutil.rmtree(folder, ignore_errors=True)


def test_each_site_is_reached_by_its_own_name_with_its_own_administrator(world):
	"""B answers under its name (the certificate names it: SNI checked), with the Administrator password
	`make add-site` was given; that password opens nothing on A."""
	assert f"CPTS site {SITE_B}: https://{SITE_B}:{world.stack.https_port}" in world.add_site_output
	config = json.loads((ROOT / "sites" / SITE_B / "site_config.json").read_text())
	assert config["host_name"] == f"https://{SITE_B}:{world.stack.https_port}" and config["cpts_multisite"]
	common = json.loads((ROOT / "sites" / "common_site_config.json").read_text())
	assert common["dns_multitenant"] is True
	assert config["db_name"] != frappe.conf.db_name  # a database of its own

	admin_b = world.b.logged_in("Administrator", ADMIN_B)
	assert (
		world.b.get("/api/method/frappe.auth.get_logged_user", admin_b).json()["message"] == "Administrator"
	)
	assert world.a.login("Administrator", ADMIN_B).status_code == 401


def test_the_same_email_has_a_separate_password_on_each_site(world):
	assert world.a.login(SHARED_EMAIL, PASSWORD["a"]).ok
	assert world.b.login(SHARED_EMAIL, PASSWORD["b"]).ok
	assert world.a.login(SHARED_EMAIL, PASSWORD["b"]).status_code == 401
	assert world.b.login(SHARED_EMAIL, PASSWORD["a"]).status_code == 401


def test_a_session_of_one_site_gives_nothing_on_the_other(world):
	for here, there in ((world.a, world.b), (world.b, world.a)):
		session = here.logged_in(SHARED_EMAIL, PASSWORD["a" if here is world.a else "b"])
		sid = session.cookies["sid"]
		assert here.get("/api/method/frappe.auth.get_logged_user", session).json()["message"] == SHARED_EMAIL
		assert here.get("/api/resource/SNP Professional", session).status_code == 200

		# the same cookie sent to the other site, by the same user of the same address: a guest there
		stolen = there.session()
		stolen.headers["Cookie"] = f"sid={sid}"
		assert there.get("/api/method/frappe.auth.get_logged_user", stolen).status_code in (401, 403)
		listing = there.get("/api/resource/SNP Professional", stolen)
		assert listing.status_code in (401, 403) and "data" not in listing.json()
		assert there.get("/api/resource/User", stolen).status_code in (401, 403)


def test_an_api_token_of_one_site_gives_nothing_on_the_other(world):
	a, b = world.seeded["a"], world.seeded["b"]
	# each partner finds his own site's slot by FHIR
	assert fhir_slots(world.a, a["token"], a["rpps"], b["rpps"]) == [a["slot"]]
	assert fhir_slots(world.b, b["token"], a["rpps"], b["rpps"]) == [b["slot"]]
	# the token of A's partner on B (and B's on A): refused, nothing listed
	for site, token in ((world.b, a["token"]), (world.a, b["token"])):
		headers = {"Authorization": f"token {token}", "Accept": "application/fhir+json"}
		response = site.get("/fhir/ps/Slot", headers=headers, params={"status": "free"})
		assert response.status_code in (401, 403), response.text
		assert '"Bundle"' not in response.text
		resource = site.get("/api/resource/SNP Slot", headers={"Authorization": f"token {token}"})
		assert resource.status_code in (401, 403) and "data" not in resource.json()


def test_the_other_sites_data_is_never_listed(world):
	a, b = world.seeded["a"], world.seeded["b"]
	for site, mine, key, other in ((world.a, a, "a", "b"), (world.b, b, "b", "a")):
		session = site.logged_in(SHARED_EMAIL, PASSWORD[key])
		listed = site.get(
			"/api/resource/SNP Professional",
			session,
			params={
				"filters": json.dumps([["rpps", "in", [a["rpps"], b["rpps"]]]]),
				"fields": '["name", "rpps"]',
			},
		).json()["data"]
		assert [row["rpps"] for row in listed] == [mine["rpps"]]
		# (names come from each site's own sequences and may be the same on both: compared by content)
		places = site.get(
			"/api/resource/SNP Place", session, params={"fields": '["place_name"]', "limit_page_length": 0}
		).json()["data"]
		names = {row["place_name"] for row in places}
		assert f"Maison de santé {key.upper()} multisite" in names
		assert f"Maison de santé {other.upper()} multisite" not in names


def test_a_client_cannot_choose_the_site_himself(world):
	"""nginx sets Frappe's X-Frappe-Site-Name from the host name: a client's own header is overwritten, so B's
	password sent to A's name with that header still reaches A (and fails there); an unknown name is A's."""
	forged = world.a.session()
	forged.headers["X-Frappe-Site-Name"] = SITE_B
	response = forged.post(
		f"{world.stack.base}/api/method/login", data={"usr": "Administrator", "pwd": ADMIN_B}, timeout=60
	)
	assert response.status_code == 401

	unknown = Site(world.stack, "127.0.0.1")  # any other name: the main site, never B
	response = unknown.session().post(
		f"{world.stack.base}/api/method/login",
		headers={"Host": "autre-cpts.localhost", "X-Frappe-Site-Name": SITE_B},
		data={"usr": SHARED_EMAIL, "pwd": PASSWORD["b"]},
		timeout=60,
	)
	assert response.status_code == 401
	assert (
		unknown.session()
		.post(
			f"{world.stack.base}/api/method/login",
			headers={"Host": "autre-cpts.localhost"},
			data={"usr": SHARED_EMAIL, "pwd": PASSWORD["a"]},
			timeout=60,
		)
		.ok
	)


# --- The SAS platform's mTLS entry: every site by its host name, each with its own proxy secret ---


def sas_get(world, host, client, path, sni=None, params=None, check=None) -> requests.Response:
	"""GET on the mTLS port with `client`'s certificate (None: none), `Host: host`, TLS SNI `sni` (default
	`host`; no SNI for an IP address, as a browser or curl)."""
	mtls = world.mtls
	session = VerifiedSession(mtls.ca)
	sni = sni or host
	if not sni.replace(".", "").isdigit():
		session.mount("https://", NameAdapter(sni, check))
	session.headers.update({"Host": host, "Accept": "application/fhir+json"})
	cert = mtls.clients[client] if client else None
	return session.get(f"{mtls.base}{path}", cert=cert, params=params, timeout=60)


def slot_search(*rpps: str) -> dict:
	from cpts_snp.exports.fhir import PRACTITIONER_PARAM, RPPS_SYSTEM
	from cpts_snp.tests.factories import future_start

	day = str(future_start(DAY).date())
	return {
		"status": "free",
		"start": [f"ge{day}", f"le{day}"],
		PRACTITIONER_PARAM: ",".join(f"{RPPS_SYSTEM}|8{number}" for number in rpps),
	}


def bundle_slots(response: requests.Response) -> list[str]:
	assert response.status_code == 200, response.text
	bundle = response.json()
	assert bundle["resourceType"] == "Bundle", bundle
	return [e["resource"]["id"] for e in bundle.get("entry", []) if e["resource"]["resourceType"] == "Slot"]


def test_the_mtls_entry_names_every_site_each_with_its_own_secret(world):
	"""`make add-site` re-rendered the entry: both host names, a map to their sites, two different secrets, each
	the one of its site's config; the file holds secrets: mode 600."""
	conf_path = world.stack.folder / "config" / "nginx-production" / "sas-mtls.conf"
	conf = conf_path.read_text()
	assert conf_path.stat().st_mode & 0o777 == 0o600
	secret_a, secret_b = proxy_secret(frappe.local.site), proxy_secret(SITE_B)
	assert secret_a and secret_b and secret_a != secret_b
	assert f"\t127.0.0.1 {frappe.local.site};" in conf and f"\t{SITE_B} {SITE_B};" in conf
	assert f'\t{frappe.local.site} "{secret_a}";' in conf and f'\t{SITE_B} "{secret_b}";' in conf
	assert f"server_name 127.0.0.1 {SITE_B}" in conf and "server_name _;" not in conf
	assert "proxy_set_header X-Frappe-Site-Name $cpts_sas_site;" in conf


def test_a_sites_sas_certificate_reaches_its_own_sites_data_over_mtls(world):
	a, b = world.seeded["a"], world.seeded["b"]
	# B's certificate on B's name: B's slot, and nothing of A's doctor (B has no such professional)
	assert bundle_slots(
		sas_get(world, SITE_B, "b", "/fhir/ps/Slot", params=slot_search(a["rpps"], b["rpps"]))
	) == [b["slot"]]
	assert bundle_slots(sas_get(world, SITE_B, "b", "/fhir/ps/Slot", params=slot_search(a["rpps"]))) == []
	# A's on A's name (the stack's PROD_HOST): A's slot only, the searches in A's partner access log
	frappe.db.rollback()
	logged = frappe.db.count("SNP Partner Access Log", {"partner": a["partner"], "action": "Search slots"})
	assert bundle_slots(
		sas_get(world, "127.0.0.1", "a", "/fhir/ps/Slot", params=slot_search(a["rpps"], b["rpps"]))
	) == [a["slot"]]
	assert (
		bundle_slots(sas_get(world, "127.0.0.1", "a", "/fhir/ps/Slot", params=slot_search(b["rpps"]))) == []
	)
	frappe.db.rollback()
	assert frappe.db.count("SNP Partner Access Log", {"partner": a["partner"], "action": "Search slots"}) == (
		logged + 2
	)


def test_a_sites_sas_certificate_is_nobody_on_the_other_site(world):
	"""Each certificate is registered on its own site only: on the other site's name the application refuses it
	(403, its CN and OU are no partner's there), whatever it asks."""
	for host, client in (("127.0.0.1", "b"), (SITE_B, "a")):
		response = sas_get(
			world, host, client, "/fhir/ps/Slot", params=slot_search(world.seeded[client]["rpps"])
		)
		assert response.status_code == 403, response.text
		body = response.json()
		assert body["resourceType"] == "OperationOutcome"
		assert "n'est enregistré pour aucun partenaire" in body["issue"][0]["diagnostics"]
		assert "Bundle" not in response.text


def test_a_name_the_mtls_entry_does_not_serve_is_refused_by_nginx(world):
	"""An unknown Host, an unknown SNI, an SNI of one site with the Host of the other: 421 from nginx, never
	passed to the application (and no certificate at all is still nginx's 400)."""
	path, params = "/fhir/ps/Slot", slot_search(world.seeded["b"]["rpps"])
	for host, sni in (
		("autre-cpts.localhost", "127.0.0.1"),  # no SNI, an unknown Host
		("autre-cpts.localhost", "autre-cpts.localhost"),
		(SITE_B, "autre-cpts.localhost"),
		("127.0.0.1", SITE_B),
	):
		response = sas_get(world, host, "b", path, sni=sni, params=params, check=SITE_B)
		assert response.status_code == 421, (host, sni, response.text)
		assert (
			"nginx" in response.text
			and "Bundle" not in response.text
			and "OperationOutcome" not in response.text
		)
	response = sas_get(world, SITE_B, None, path, params=params)
	assert response.status_code == 400 and "Bundle" not in response.text


def test_a_sites_proxy_secret_means_nothing_to_the_other_site(world):
	"""Straight to the web server (bypassing nginx): B's partner certificate headers with A's secret, for B,
	are ignored (logged, the request stays anonymous: 401); with B's own secret they would count."""
	from cpts_snp.tests.factories import unique_suffix

	b = world.seeded["b"]
	web = f"http://127.0.0.1:{world.stack.env['PROD_WEB_PORT']}"
	cn, ou = b["certificate"]

	def straight(site, secret, marker=""):
		headers = {
			"Host": site,
			"X-Frappe-Site-Name": site,
			"Accept": "application/fhir+json",
			"X-SSL-Client-Verify": "SUCCESS",
			"X-SSL-Client-S-DN": f"CN={cn},OU={ou}" + (f",L={marker}" if marker else ""),
			"X-CPTS-Proxy-Secret": secret,
		}
		return requests.get(f"{web}/fhir/ps/Slot", params=slot_search(b["rpps"]), headers=headers, timeout=60)

	marker = unique_suffix()
	refused = straight(SITE_B, proxy_secret(frappe.local.site), marker)
	assert refused.status_code == 401, refused.text
	assert refused.json()["issue"][0]["code"] == "login"
	log = ROOT / "logs" / "cpts_snp.mtls.log"
	warning = next(line for line in log.read_text().splitlines() if marker in line)
	assert "not sent by the trusted proxy" in warning
	# the control: B's own secret (what B's nginx entry sends) makes the same headers B's partner
	assert bundle_slots(straight(SITE_B, proxy_secret(SITE_B))) == [b["slot"]]


def test_add_site_refuses_a_name_that_is_not_a_host_name():
	for name in ("", "Cpts_Nord", "cpts nord.fr", "../sites", "-cpts.fr"):
		done = subprocess.run(
			["bash", "scripts/add_site.sh", name],
			cwd=ROOT,
			env={**os.environ},
			capture_output=True,
			text=True,
			timeout=60,
		)
		assert done.returncode != 0 and ("invalid site name" in done.stderr or "usage" in done.stderr), name
		assert not (ROOT / "sites" / name / "site_config.json").exists() or name == ""


if __name__ == "__main__":  # pragma: no cover
	sys.exit("run with: make test ARGS=tests/test_multisite.py")
