"""Builders of territorial partners for tests (unique names, valid FINESS), API tokens of their users, and
the clean-up of committed partners."""

import frappe
from frappe.core.doctype.user.user import generate_keys

from cpts_snp.services.partners import PARTNER_ROLE, reset_rate_limit
from cpts_snp.tests.factories import make_user, unique_suffix

FINESS = "440000289"
VALID_SIRET = "73282932000074"


def make_partner(users=(), partner_type: str = "SAS / SAMU", access_level: str = "Book", **values):
	doc = frappe.get_doc(
		{
			"doctype": "SNP Partner",
			"partner_name": "Partenaire test " + unique_suffix(),
			"partner_type": partner_type,
			"access_level": access_level,
			"finess": FINESS,
			**values,
		}
	)
	for user in users:
		doc.append("users", {"user": user})
	return doc.insert()


def make_partner_user() -> str:
	"""A desk user with the role Partenaire SNP (not yet attached to a partner)."""
	return make_user(roles=[PARTNER_ROLE], desk_user=True)


def api_token(user: str) -> str:
	"""`key:secret` of `user` for `Authorization: token key:secret` (commit to use it over HTTP)."""
	previous = frappe.session.user
	frappe.set_user("Administrator")
	try:
		secret = generate_keys(user)["api_secret"]
	finally:
		frappe.set_user(previous)
	return f"{frappe.db.get_value('User', user, 'api_key')}:{secret}"


def delete_partners(names, users=()):
	"""Remove committed partners, their bookings' partner link, their access log and rate counters."""
	frappe.db.rollback()
	for name in names:
		frappe.db.delete("SNP Partner Access Log", {"partner": name})
		frappe.db.set_value("SNP Booking", {"partner": name}, "partner", None, update_modified=False)
		frappe.delete_doc("SNP Partner", name, force=True, ignore_permissions=True)
		reset_rate_limit(name)
	for user in users:
		frappe.db.delete("SNP Partner Access Log", {"user": user})
	frappe.db.commit()
