"""The national SAS platform authenticates with an IGC-Santé client certificate (mTLS), not with a Frappe login.

nginx (scripts/mtls.sh, template scripts/templates/nginx-sas-mtls.conf) terminates TLS, verifies the client
certificate against the IGC-Santé CA bundle (and its CRL) and passes on what it found:

	X-SSL-Client-Verify   $ssl_client_verify  (SUCCESS, NONE or FAILED:reason)
	X-SSL-Client-S-DN     $ssl_client_s_dn    (the certificate's subject, RFC 2253)
	X-CPTS-Proxy-Secret   the shared secret of the site config key `cpts_proxy_secret`

Those headers are believed only when the secret matches (anyone can send them straight to the web server); a
request carrying them without the right secret is logged as a warning and stays anonymous. A verified
certificate whose CN and OU are those of one partner (SNP Partner: certificate_cn, certificate_ou) acts, for
this request, as that partner's certificate user; any other verified certificate is refused (403).
"""

import hmac
import logging

import frappe
from frappe import _

VERIFY_HEADER = "X-SSL-Client-Verify"
DN_HEADER = "X-SSL-Client-S-DN"
SECRET_HEADER = "X-CPTS-Proxy-Secret"
SECRET_CONFIG_KEY = "cpts_proxy_secret"
HEX = frozenset("0123456789abcdefABCDEF")


def certificate_partner() -> frappe._dict | None:
	"""The partner whose client certificate the trusted proxy verified for this request, after making its
	certificate user the request's user; None when no trusted proxy vouches for a certificate (the request stays
	anonymous). A verified certificate that names no partner raises frappe.PermissionError."""
	headers = {name: frappe.get_request_header(name) for name in (VERIFY_HEADER, DN_HEADER, SECRET_HEADER)}
	if not any(headers.values()):
		return None
	if not from_trusted_proxy(headers[SECRET_HEADER]):
		logger().warning(
			"client certificate headers ignored: not sent by the trusted proxy (ip %s, dn %r)",
			getattr(frappe.local, "request_ip", None),
			headers[DN_HEADER],
		)
		return None
	verify = headers[VERIFY_HEADER] or "NONE"
	if verify == "NONE":
		return None
	if verify != "SUCCESS":
		logger().warning("client certificate refused by the proxy: %s (dn %r)", verify, headers[DN_HEADER])
		frappe.throw(_("The client certificate was not accepted"), frappe.PermissionError)
	cn, ou = subject_cn_ou(headers[DN_HEADER] or "")
	partner = partner_for(cn, ou)
	if not partner:
		logger().warning("client certificate of no partner: %r", headers[DN_HEADER])
		frappe.throw(
			_("The client certificate (CN {0}, OU {1}) is not registered for any partner of the CPTS").format(
				cn or "-", ", ".join(ou) or "-"
			),
			frappe.PermissionError,
		)
	if not frappe.db.get_value("User", partner.certificate_user, "enabled"):
		logger().warning(
			"client certificate of %s: its user %s is disabled", partner.name, partner.certificate_user
		)
		frappe.throw(
			_("The user {0} the client certificate acts as is disabled").format(partner.certificate_user),
			frappe.PermissionError,
		)
	# What Frappe does for an API key: the request acts as that user (set_user clears the form: keep it).
	form_dict = frappe.local.form_dict
	frappe.set_user(partner.certificate_user)
	frappe.local.form_dict = form_dict
	frappe.flags.cpts_client_certificate = partner.name
	return partner


def from_trusted_proxy(secret: str | None) -> bool:
	expected = frappe.conf.get(SECRET_CONFIG_KEY)
	if not expected or not secret:
		return False
	return hmac.compare_digest(str(secret).encode(), str(expected).encode())


def partner_for(cn: str | None, ou: list[str]) -> frappe._dict | None:
	"""The one partner whose certificate CN is `cn` and whose certificate OU is one of `ou`, compared exactly
	(the database compares without case: the candidates are compared again here)."""
	if not cn or not ou:
		return None
	rows = frappe.get_all(
		"SNP Partner",
		filters={"certificate_cn": cn, "certificate_ou": ("in", ou)},
		fields=["name", "certificate_cn", "certificate_ou", "certificate_user"],
	)
	rows = [
		row for row in rows if row.certificate_cn == cn and row.certificate_ou in ou and row.certificate_user
	]
	return rows[0] if len(rows) == 1 else None


def subject_cn_ou(dn: str) -> tuple[str | None, list[str]]:
	"""(CN, [OU, …]) of an RFC 2253 subject; CN is None unless the subject has exactly one."""
	try:
		pairs = parse_dn(dn)
	except ValueError:
		return None, []
	cns = [value for key, value in pairs if key == "CN"]
	return (cns[0] if len(cns) == 1 else None), [value for key, value in pairs if key == "OU"]


def parse_dn(dn: str) -> list[tuple[str, str]]:
	"""The (attribute type, value) pairs of an RFC 2253 distinguished name, as OpenSSL writes it for nginx's
	$ssl_client_s_dn: RDNs separated by ',' (attributes of one RDN by '+'), special characters escaped by a
	backslash ('\\,' '\\+' '\\"' '\\\\' '\\<' '\\>' '\\;' '\\=' '\\#' '\\ '), other bytes (non-ASCII UTF-8) as
	'\\XX' hex pairs. A value starting with '#' (hex-encoded DER) is kept as written. ValueError if malformed."""
	pairs = []
	i, n = 0, len(dn)
	while i < n:
		equals = dn.find("=", i)
		if equals < 0:
			raise ValueError(f"no '=' in {dn[i:]!r}")
		key = dn[i:equals].strip().upper()
		if not key:
			raise ValueError("empty attribute type")
		i = equals + 1
		value = bytearray()
		while i < n and dn[i] not in ",+":
			char = dn[i]
			if char == "\\":
				pair = dn[i + 1 : i + 3]
				if len(pair) == 2 and set(pair) <= HEX:
					value += bytes.fromhex(pair)
					i += 3
				elif i + 1 < n:
					value += dn[i + 1].encode()
					i += 2
				else:
					raise ValueError("a trailing backslash")
			else:
				value += char.encode()
				i += 1
		try:
			pairs.append((key, value.decode("utf-8")))
		except UnicodeDecodeError as e:
			raise ValueError("a value is not UTF-8") from e
		if i < n:
			i += 1  # the separator
			if i == n:
				raise ValueError("a trailing separator")
	return pairs


def logger():
	"""Warnings of the mTLS entry, in logs/cpts_snp.mtls.log (and the site's logs/), whatever Frappe's level."""
	log = frappe.logger("cpts_snp.mtls", allow_site=True)
	log.setLevel(min(log.level or logging.WARNING, logging.WARNING))
	return log
