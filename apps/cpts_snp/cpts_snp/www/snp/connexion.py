"""/snp/connexion: the doctors' login page, light enough for a phone (Frappe's /login weighs about 850 KB with its
website assets and icon sprite; this one a few KB on templates/snp_base.html).

The form posts to Frappe's own login endpoint (/api/method/login, with its rate limit, lockout and session rules)
through public/js/snp_portal.js, then opens the page the doctor asked for. What this page does not offer sends to
Frappe's full /login: two-factor authentication when the site enables it, « forgotten password », sign-up. The
social logins (Pro Santé Connect) and the labels come from Frappe's own login context, so both pages agree."""

from urllib.parse import quote

import frappe
from frappe import _
from frappe.www import login as frappe_login

no_cache = 1

DEFAULT_TARGET = "/snp"


def get_context(context):
	target = frappe_login.sanitize_redirect(frappe.form_dict.get("redirect-to")) or DEFAULT_TARGET
	if not target.startswith("/") or target.startswith("//"):
		target = DEFAULT_TARGET
	if frappe.session.user != "Guest":
		frappe.local.flags.redirect_location = target
		# 302: a login redirect is not permanent (a browser keeps a 301)
		raise frappe.Redirect(302)
	# Frappe's login context: enabled social logins (with their authorize URLs back to `target`), whether the
	# password login is disabled, the login label
	frappe.form_dict["redirect-to"] = target
	frappe_login.get_context(context)
	context.no_cache = 1
	context.title = _("Log in")
	context.target = target
	context.full_login = "/login?redirect-to=" + quote(target, safe="/")
	context.two_factor = bool(frappe.get_system_settings("enable_two_factor_auth"))
	return context
