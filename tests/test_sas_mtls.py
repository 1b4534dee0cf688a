"""The national SAS platform authenticates by mutual TLS with an IGC-Santé client certificate (guide
ans.fhir.fr.sas, « Sécurité »): through a real nginx configured by scripts/mtls.sh in front of the test web
server, a certificate whose CN and OU are a partner's reads the FHIR interface as that partner; an unknown CN or
OU is refused by the application (403 OperationOutcome); no certificate, an expired or a revoked one, and
TLS 1.1 are refused by nginx; the proxy's headers sent straight to the web server are ignored."""

import datetime
import ipaddress
import os
import secrets
import shutil
import socket
import ssl
import subprocess
import tempfile
import time
from pathlib import Path

import frappe
import pytest
import requests
from cpts_snp.exports.fhir import PRACTITIONER_PARAM, RPPS_SYSTEM
from cpts_snp.services.client_certificates import SECRET_CONFIG_KEY, parse_dn, subject_cn_ou
from cpts_snp.tests.factories import future_start, make_slot, unique_suffix
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from frappe.installer import update_site_config
from frappe.utils import add_days, today

ROOT = Path(__file__).resolve().parent.parent
DAY = 23  # days ahead of the searched slots, away from other tests' days
NOW = datetime.datetime.now(datetime.timezone.utc)
FHIR_JSON = {"Accept": "application/fhir+json"}

pytestmark = pytest.mark.skipif(not shutil.which("nginx"), reason="nginx is installed by make setup")


# --- A test PKI: CA, server certificate for 127.0.0.1, client certificates, CRL -------------------------------


def _key():
	return ec.generate_private_key(ec.SECP256R1())


def _name(cn, ou=None, o="CPTS test"):
	attributes = [
		x509.NameAttribute(NameOID.COUNTRY_NAME, "FR"),
		x509.NameAttribute(NameOID.ORGANIZATION_NAME, o),
	]
	if ou:
		attributes.append(x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, ou))
	attributes.append(x509.NameAttribute(NameOID.COMMON_NAME, cn))
	return x509.Name(attributes)


class PKI:
	def __init__(self, folder: Path):
		self.folder = folder
		self.ca_key = _key()
		self.ca_name = _name("AC test IGC-Santé")
		self.ca_cert = (
			x509.CertificateBuilder()
			.subject_name(self.ca_name)
			.issuer_name(self.ca_name)
			.public_key(self.ca_key.public_key())
			.serial_number(x509.random_serial_number())
			.not_valid_before(NOW - datetime.timedelta(days=30))
			.not_valid_after(NOW + datetime.timedelta(days=365))
			.add_extension(x509.BasicConstraints(ca=True, path_length=1), critical=True)
			.add_extension(
				x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True
			)
			.sign(self.ca_key, hashes.SHA256())
		)
		self.ca = self.write("ca.pem", self.ca_cert)
		self.revoked: list[int] = []

	def write(self, filename, cert, key=None) -> Path:
		path = self.folder / filename
		path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
		if key is not None:
			key_path = self.folder / (filename.removesuffix(".pem") + ".key")
			key_path.write_bytes(
				key.private_bytes(
					serialization.Encoding.PEM,
					serialization.PrivateFormat.PKCS8,
					serialization.NoEncryption(),
				)
			)
		return path

	def issue(self, filename, subject, usage, san=None, not_before=None, not_after=None):
		key = _key()
		builder = (
			x509.CertificateBuilder()
			.subject_name(subject)
			.issuer_name(self.ca_name)
			.public_key(key.public_key())
			.serial_number(x509.random_serial_number())
			.not_valid_before(not_before or NOW - datetime.timedelta(days=1))
			.not_valid_after(not_after or NOW + datetime.timedelta(days=90))
			.add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
			.add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
		)
		if san:
			builder = builder.add_extension(x509.SubjectAlternativeName(san), critical=False)
		cert = builder.sign(self.ca_key, hashes.SHA256())
		path = self.write(filename, cert, key)
		return cert, (str(path), str(path.with_suffix(".key")))

	def client(self, filename, cn, ou, **dates):
		return self.issue(filename, _name(cn, ou), ExtendedKeyUsageOID.CLIENT_AUTH, **dates)

	def crl(self, revoked_certs) -> Path:
		builder = (
			x509.CertificateRevocationListBuilder()
			.issuer_name(self.ca_name)
			.last_update(NOW - datetime.timedelta(hours=1))
			.next_update(NOW + datetime.timedelta(days=7))
		)
		for cert in revoked_certs:
			builder = builder.add_revoked_certificate(
				x509.RevokedCertificateBuilder()
				.serial_number(cert.serial_number)
				.revocation_date(NOW - datetime.timedelta(minutes=30))
				.build()
			)
		path = self.folder / "crl.pem"
		path.write_bytes(builder.sign(self.ca_key, hashes.SHA256()).public_bytes(serialization.Encoding.PEM))
		return path


def _free_port() -> int:
	with socket.socket() as s:
		s.bind(("127.0.0.1", 0))
		return s.getsockname()[1]


def _wait_for_port(port: int, proc, log: Path):
	deadline = time.monotonic() + 20
	while time.monotonic() < deadline:
		if proc.poll() is not None:
			raise RuntimeError(f"nginx stopped: {log.read_text() if log.exists() else ''}")
		with socket.socket() as s:
			if s.connect_ex(("127.0.0.1", port)) == 0:
				return
		time.sleep(0.1)
	raise RuntimeError("nginx did not listen")


@pytest.fixture(scope="module")
def sas(server):
	"""A partner (SAS regulation) whose certificate CN and OU are registered, its certificate user, a test PKI
	and a real nginx rendered by scripts/mtls.sh in front of the test server, with the proxy secret in the test
	site's config; all removed afterwards."""
	from cpts_snp.tests.partner_factories import delete_partners, make_partner

	from conftest import Committed

	folder = Path(tempfile.mkdtemp(prefix="cpts-mtls-"))
	folder.chmod(0o755)  # nginx's workers (nobody when run as root) reach their temporary files
	pki = PKI(folder)
	suffix = unique_suffix()
	cn = f"sas-{suffix}.sante.fr"
	# RFC 2253 escaping on the way: a comma, a plus sign and non-ASCII letters in the OU
	ou = f"Plateforme SAS Région {suffix}, essai+1"
	records = Committed()
	user = records.user(["Partenaire SNP"])
	partner = make_partner(
		users=[user], certificate_cn=cn, certificate_ou=ou, certificate_user=user, partner_type="SAS / SAMU"
	)
	frappe.db.commit()

	_server_cert, server_pair = pki.issue(
		"server.pem",
		_name("127.0.0.1"),
		ExtendedKeyUsageOID.SERVER_AUTH,
		san=[x509.IPAddress(ipaddress.ip_address("127.0.0.1"))],
	)
	clients = {
		"valid": pki.client("valid.pem", cn, ou)[1],
		"wrong_cn": pki.client("wrong-cn.pem", f"autre-{suffix}.sante.fr", ou)[1],
		"wrong_ou": pki.client("wrong-ou.pem", cn, f"Autre service {suffix}")[1],
		"expired": pki.client(
			"expired.pem",
			cn,
			ou,
			not_before=NOW - datetime.timedelta(days=60),
			not_after=NOW - datetime.timedelta(days=1),
		)[1],
	}
	revoked_cert, clients["revoked"] = pki.client("revoked.pem", cn, ou)
	crl = pki.crl([revoked_cert])

	secret = secrets.token_urlsafe(32)
	update_site_config(SECRET_CONFIG_KEY, secret)
	port = _free_port()
	prefix = folder / "nginx"
	prefix.mkdir()
	prefix.chmod(0o755)
	env = {
		**os.environ,
		"SAS_MTLS_CERT": server_pair[0],
		"SAS_MTLS_KEY": server_pair[1],
		"SAS_MTLS_CLIENT_CA": str(pki.ca),
		"SAS_MTLS_CRL": str(crl),
		"SAS_MTLS_LISTEN": f"127.0.0.1:{port}",
	}
	subprocess.run(
		[
			"bash",
			"-c",
			'source scripts/mtls.sh && render_sas_mtls_server "$1/sas-mtls.conf" "$2" "$3" "$4" '
			'&& write_nginx_main_conf "$1" "$1/sas-mtls.conf" off',
			"render",
			str(prefix),
			frappe.local.site,
			server,
			secret,
		],
		cwd=ROOT,
		env=env,
		check=True,
	)
	error_log = prefix / "error.log"
	nginx = subprocess.Popen(
		["nginx", "-p", str(prefix), "-e", str(error_log), "-c", str(prefix / "nginx.conf")],
		stdout=subprocess.DEVNULL,
		stderr=subprocess.DEVNULL,
	)
	try:
		_wait_for_port(port, nginx, error_log)
		yield frappe._dict(
			base=f"https://127.0.0.1:{port}",
			port=port,
			ca=str(pki.ca),
			clients=clients,
			partner=partner.name,
			user=user,
			cn=cn,
			ou=ou,
			secret=secret,
			conf=(prefix / "sas-mtls.conf").read_text(),
		)
	finally:
		nginx.terminate()
		nginx.wait(10)
		update_site_config(SECRET_CONFIG_KEY, "None")
		delete_partners([partner.name], [user])
		records.cleanup()
		shutil.rmtree(folder, ignore_errors=True)


def get(sas, path, client=None, headers=None, **kwargs):
	cert = sas.clients[client] if client else None
	headers = {**FHIR_JSON, **(headers or {})}
	return requests.get(f"{sas.base}{path}", cert=cert, verify=sas.ca, headers=headers, timeout=60, **kwargs)


def outcome(response, status):
	assert response.status_code == status, response.text
	body = response.json()
	assert body["resourceType"] == "OperationOutcome", body
	return body


# --- Through nginx -------------------------------------------------------------------------------------------


def test_the_sas_certificate_reads_the_fhir_interface_as_its_partner_and_the_search_is_logged(sas, committed):
	professional = committed.professional()
	make_slot(professional, future_start(DAY, 10))
	frappe.db.commit()
	rpps = frappe.db.get_value("SNP Professional", professional, "rpps")

	metadata = get(sas, "/fhir/metadata", "valid")
	assert metadata.status_code == 200 and metadata.json()["resourceType"] == "CapabilityStatement"

	day = str(future_start(DAY).date())
	search = get(
		sas,
		"/fhir/ps/Slot",  # the practitioners' flow: no CPTS identity needed in settings
		"valid",
		params={
			"status": "free",
			"start": [f"ge{day}", f"le{day}"],
			PRACTITIONER_PARAM: f"{RPPS_SYSTEM}|8{rpps}",
		},
	)
	assert search.status_code == 200, search.text
	assert search.json()["resourceType"] == "Bundle"

	frappe.db.rollback()
	logged = frappe.get_all(
		"SNP Partner Access Log", filters={"user": sas.user}, fields=["partner", "action", "parameters"]
	)
	assert [(row.partner, row.action) for row in logged] == [(sas.partner, "Search slots")]
	assert rpps in logged[0].parameters


@pytest.mark.parametrize("client", ["wrong_cn", "wrong_ou"])
def test_a_valid_certificate_of_no_partner_is_refused_by_the_application(sas, client):
	logged = frappe.db.count("SNP Partner Access Log", {"user": sas.user})
	body = outcome(get(sas, "/fhir/Slot", client, params={"status": "free"}), 403)
	assert "n'est enregistré pour aucun partenaire" in body["issue"][0]["diagnostics"]
	frappe.db.rollback()
	assert frappe.db.count("SNP Partner Access Log", {"user": sas.user}) == logged


def test_the_certificate_of_an_expired_partner_or_of_a_disabled_user_is_refused(sas):
	params = {"status": "free"}
	frappe.db.set_value("SNP Partner", sas.partner, "active_to", add_days(today(), -1))
	frappe.db.commit()
	try:
		assert (
			"pas actif"
			in outcome(get(sas, "/fhir/Slot", "valid", params=params), 403)["issue"][0]["diagnostics"]
		)
	finally:
		frappe.db.set_value("SNP Partner", sas.partner, "active_to", None)
		frappe.db.commit()
	frappe.db.set_value("User", sas.user, "enabled", 0)
	frappe.db.commit()
	try:
		assert (
			"désactivé"
			in outcome(get(sas, "/fhir/Slot", "valid", params=params), 403)["issue"][0]["diagnostics"]
		)
	finally:
		frappe.db.set_value("User", sas.user, "enabled", 1)
		frappe.db.commit()


@pytest.mark.parametrize("client", [None, "expired", "revoked"])
def test_no_certificate_an_expired_or_a_revoked_one_is_refused_by_nginx(sas, client):
	response = get(sas, "/fhir/metadata", client)
	assert response.status_code == 400
	assert "CapabilityStatement" not in response.text


def test_only_the_fhir_interface_is_served_on_the_mtls_entry(sas):
	assert get(sas, "/api/method/ping", "valid").status_code == 404
	assert get(sas, "/app", "valid").status_code == 404


def test_headers_a_client_sends_never_pass_nginx_and_a_frappe_login_does_not_count(sas):
	forged = {
		"X-SSL-Client-Verify": "SUCCESS",
		"X-SSL-Client-S-DN": f"CN={sas.cn},OU=x",
		"X-CPTS-Proxy-Secret": "forged",
		"Authorization": "token forged:forged",
	}
	# the wrong-OU certificate with the partner's DN forged in headers: still the certificate's own DN
	assert outcome(get(sas, "/fhir/Slot", "wrong_ou", headers=forged), 403)
	for header in (
		"X-SSL-Client-Verify",
		"X-SSL-Client-S-DN",
		"X-CPTS-Proxy-Secret",
		"Authorization",
		"Cookie",
	):
		assert f"proxy_set_header {header} " in sas.conf


def test_tls_1_1_is_refused(sas):
	context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
	context.load_verify_locations(sas.ca)
	context.load_cert_chain(*sas.clients["valid"])
	try:
		context.minimum_version = ssl.TLSVersion.TLSv1_1
		context.maximum_version = ssl.TLSVersion.TLSv1_1
		context.set_ciphers("DEFAULT:@SECLEVEL=0")
	except (ValueError, ssl.SSLError) as e:
		pytest.skip(f"the local OpenSSL cannot offer TLS 1.1: {e}")
	with socket.create_connection(("127.0.0.1", sas.port), timeout=10) as raw:
		try:
			with context.wrap_socket(raw, server_hostname="127.0.0.1") as tls:
				pytest.fail(f"TLS 1.1 accepted ({tls.version()})")
		except ssl.SSLError as e:
			if "NO_PROTOCOLS_AVAILABLE" in str(e) or "no protocols available" in str(e):
				pytest.skip(f"the local OpenSSL cannot offer TLS 1.1: {e}")
			assert "PROTOCOL_VERSION" in str(e).upper() or "VERSION" in str(e).upper(), e
	with socket.create_connection(("127.0.0.1", sas.port), timeout=10) as raw:
		modern = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
		modern.load_verify_locations(sas.ca)
		modern.load_cert_chain(*sas.clients["valid"])
		modern.minimum_version = modern.maximum_version = ssl.TLSVersion.TLSv1_2
		with modern.wrap_socket(raw, server_hostname="127.0.0.1") as tls:
			assert tls.version() == "TLSv1.2"


# --- Straight to the web server (bypassing nginx) ------------------------------------------------------------


@pytest.mark.parametrize("secret", [None, "wrong-secret", ""])
def test_proxy_headers_sent_straight_to_the_web_server_are_ignored(sas, server, secret):
	marker = unique_suffix()
	dn = f"CN={sas.cn},OU={sas.ou},L={marker}"
	headers = {**FHIR_JSON, "X-SSL-Client-Verify": "SUCCESS", "X-SSL-Client-S-DN": dn}
	if secret is not None:
		headers["X-CPTS-Proxy-Secret"] = secret
	response = requests.get(f"{server}/fhir/Slot", params={"status": "free"}, headers=headers, timeout=60)
	assert outcome(response, 401)["issue"][0]["code"] == "login"
	log = ROOT / "logs" / "cpts_snp.mtls.log"
	warning = next(line for line in log.read_text().splitlines() if marker in line)
	assert "not sent by the trusted proxy" in warning


# --- The certificate settings of a partner and the subject's parsing (in process) ----------------------------


def test_a_partner_certificate_needs_cn_ou_and_a_user_of_the_partner():
	from cpts_snp.tests.partner_factories import make_partner, make_partner_user

	user, stranger = make_partner_user(), make_partner_user()
	with pytest.raises(frappe.ValidationError, match="le CN et l'OU"):
		make_partner(users=[user], certificate_cn="sas.sante.fr")
	with pytest.raises(frappe.ValidationError, match="utilisateurs du partenaire"):
		make_partner(
			users=[user], certificate_cn="sas.sante.fr", certificate_ou="SAS", certificate_user=stranger
		)
	first = make_partner(
		users=[user], certificate_cn=" sas.sante.fr ", certificate_ou="SAS 44", certificate_user=user
	)
	assert (first.certificate_cn, first.certificate_ou) == ("sas.sante.fr", "SAS 44")
	with pytest.raises(frappe.ValidationError, match="appartiennent déjà"):
		make_partner(
			users=[stranger],
			certificate_cn="sas.sante.fr",
			certificate_ou="SAS 44",
			certificate_user=stranger,
		)


@pytest.mark.parametrize(
	"dn, cn, ou",
	[
		("CN=sas.sante.fr,OU=318751,O=ANS,C=FR", "sas.sante.fr", ["318751"]),
		(r"CN=Jos\C3\A9 \2C SAS,OU=a\,b\+c+OU=d,C=FR", "José , SAS", ["a,b+c", "d"]),
		(r"CN=x\\y\"z\<\>\;\=,OU=\#1\ ", 'x\\y"z<>;=', ["#1 "]),
		("CN=a,CN=b,OU=c", None, ["c"]),
		("OU=c", None, ["c"]),
		("CN=a\\", None, []),
		("garbage", None, []),
	],
)
def test_the_subject_is_read_as_rfc_2253_writes_it(dn, cn, ou):
	assert subject_cn_ou(dn) == (cn, ou)


def test_nginx_writes_the_subject_in_rfc_2253_with_non_ascii_as_utf_8_escapes():
	assert parse_dn(r"CN=R\C3\A9gion") == [("CN", "Région")]
	with pytest.raises(ValueError):
		parse_dn(r"CN=\C3")
