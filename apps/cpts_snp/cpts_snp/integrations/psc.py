"""Pro Santé Connect (PSC), the national OpenID Connect provider of health professionals, through Frappe's
Social Login Key « Pro Santé Connect » (created disabled by `ensure_social_login_key`; the CPTS fills in the
client id and secret ANS gives it, README « Lien de prise de rendez-vous et Pro Santé Connect »).

Frappe's login page shows the button and builds the authorization request from the Social Login Key as for any
provider (`auth_url_data`: scope `openid scope_all`, `acr_values` `eidas1`). Its own callback cannot serve PSC:
it finds the user by the e-mail of the identity, which PSC may not give, and may create users. PSC identifies a
professional by `SubjectNameID`, his national identifier ("8" + RPPS): this callback logs in the partner user
whose SNP Partner User row carries that RPPS, refuses any other identity with a clear message, and never creates
a user.
"""

import base64
import json
import re

import frappe
import requests
from frappe import _
from frappe.utils import escape_html

from cpts_snp.rules.identifiers import is_rpps

PROVIDER_NAME = "Pro Santé Connect"
CALLBACK = "/api/method/cpts_snp.integrations.psc.login_via_psc"
TIMEOUT = 15
# ANS's production environment (the "bas" sandbox: README)
DEFAULTS = {
	"social_login_provider": "Custom",
	"custom_base_url": 0,
	"base_url": "https://auth.esw.esante.gouv.fr/auth/realms/esante-wallet",
	"authorize_url": "https://wallet.esw.esante.gouv.fr/auth",
	"access_token_url": "https://auth.esw.esante.gouv.fr/auth/realms/esante-wallet/protocol/openid-connect/token",
	"api_endpoint": "https://auth.esw.esante.gouv.fr/auth/realms/esante-wallet/protocol/openid-connect/userinfo",
	"redirect_url": CALLBACK,
	"auth_url_data": json.dumps(
		{"response_type": "code", "scope": "openid scope_all", "acr_values": "eidas1"}
	),
	"user_id_property": "SubjectNameID",
	"sign_ups": "Deny",
}


def ensure_social_login_key() -> None:
	"""after_migrate: the Social Login Key « Pro Santé Connect », disabled, when the site has none (an existing
	one, configured by the CPTS, is left as it is)."""
	if provider():
		return
	doc = frappe.get_doc(
		{"doctype": "Social Login Key", "provider_name": PROVIDER_NAME, "enable_social_login": 0, **DEFAULTS}
	)
	doc.insert(ignore_permissions=True)


def provider() -> str | None:
	"""The name of the Social Login Key of PSC."""
	return frappe.db.get_value("Social Login Key", {"provider_name": PROVIDER_NAME}, "name")


# --- The callback ------------------------------------------------------------------------------------------------


@frappe.whitelist(allow_guest=True, methods=["GET"])
def login_via_psc(code: str | None = None, state: str | None = None, **kwargs):
	"""Redirect URI of PSC: the authorization code is exchanged for the professional's identity, which logs in
	the partner user with that RPPS, then goes back to the page he came from (`redirect_to` of the state)."""
	name = provider()
	if not name or not frappe.db.get_value("Social Login Key", name, "enable_social_login"):
		return refuse(_("Login with Pro Santé Connect is not enabled on this site"), 403)
	if not code or not state:
		return refuse(_("Pro Santé Connect did not authenticate you: please try again"), 401)
	redirect_to = redirect_of(state)
	if redirect_to is False:
		return refuse(_("The answer of Pro Santé Connect is not valid: please try again"), 417)
	claims = identity(name, code)
	if claims is None:
		return refuse(_("Pro Santé Connect did not authenticate you: please try again"), 401)
	rpps = rpps_of(claims)
	user = user_for_rpps(rpps) if rpps else None
	if not user:
		return refuse(
			_(
				"No partner account of the CPTS is registered for your Pro Santé Connect identity (RPPS {0}): "
				"ask the CPTS coordination to add your RPPS number to your partner user"
			).format(rpps or _("unknown")),
			403,
		)
	from frappe.utils.oauth import redirect_post_login

	frappe.local.login_manager.login_as(user)
	frappe.db.commit()  # a GET request
	redirect_post_login(
		desk_user=frappe.db.get_value("User", user, "user_type") == "System User",
		redirect_to=redirect_to or None,
		provider=name,
	)


def refuse(message: str, status: int):
	frappe.respond_as_web_page(
		_("Pro Santé Connect"), escape_html(message), http_status_code=status, indicator_color="red"
	)


def redirect_of(state: str):
	"""The page to go back to, from the state Frappe's login page put in the authorization request (a path or
	an address of this site only); False when the state is not readable."""
	from frappe.www.login import sanitize_redirect

	try:
		data = json.loads(base64.b64decode(state).decode("utf-8"))
	except (ValueError, TypeError):
		return False
	if not isinstance(data, dict) or not data.get("token"):
		return False
	redirect_to = data.get("redirect_to")
	return sanitize_redirect(redirect_to) if isinstance(redirect_to, str) else None


def identity(name: str, code: str) -> dict | None:
	"""The professional's claims: the code exchanged at PSC's token endpoint (client id and secret of the Social
	Login Key), then its userinfo endpoint with the access token (JSON, or a JWT when PSC signs the answer: it
	comes straight from PSC over TLS, with our token)."""
	import jwt
	from frappe.utils.oauth import get_oauth2_providers, get_oauth_keys, get_redirect_uri

	config = get_oauth2_providers()[name]
	keys = get_oauth_keys(name)
	try:
		token = requests.post(
			config["flow_params"]["access_token_url"],
			data={
				"grant_type": "authorization_code",
				"code": code,
				"redirect_uri": get_redirect_uri(name),
				"client_id": keys["client_id"],
				"client_secret": keys["client_secret"],
			},
			headers={"Accept": "application/json"},
			timeout=TIMEOUT,
		)
		access_token = token.json().get("access_token") if token.ok else None
		if not access_token:
			return None
		answer = requests.get(
			config["api_endpoint"],
			headers={"Authorization": f"Bearer {access_token}", "Accept": "application/json"},
			timeout=TIMEOUT,
		)
		if not answer.ok:
			return None
		if answer.headers.get("Content-Type", "").startswith("application/jwt"):
			claims = jwt.decode(answer.text.strip(), options={"verify_signature": False})
		else:
			claims = answer.json()
	except (requests.RequestException, ValueError, jwt.PyJWTError):
		return None
	return claims if isinstance(claims, dict) else None


def rpps_of(claims: dict) -> str | None:
	"""The RPPS number of a PSC identity: `SubjectNameID` is the national identifier, "8" + RPPS (11 digits)."""
	value = re.sub(r"\s", "", str(claims.get("SubjectNameID") or claims.get("preferred_username") or ""))
	if len(value) == 12 and value.startswith("8"):
		value = value[1:]
	return value if is_rpps(value) else None


def user_for_rpps(rpps: str) -> str | None:
	"""The enabled user of the one partner user row carrying this RPPS (none when two rows claim it)."""
	Row = frappe.qb.DocType("SNP Partner User")
	users = {
		user
		for (user,) in frappe.qb.from_(Row)
		.select(Row.user)
		.where(Row.parenttype == "SNP Partner")
		.where(Row.rpps == rpps)
		.run()
	}
	if len(users) != 1:
		return None
	user = users.pop()
	return user if frappe.db.get_value("User", user, "enabled") else None
