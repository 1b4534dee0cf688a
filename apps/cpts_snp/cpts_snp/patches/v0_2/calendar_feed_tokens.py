"""Professionals created before the calendar feed get their secret token."""

import frappe
from frappe.utils.password import get_decrypted_password, set_encrypted_password

from cpts_snp.services.portal import new_feed_token


def execute():
	for name in frappe.get_all("SNP Professional", pluck="name"):
		if not get_decrypted_password("SNP Professional", name, "ics_token", raise_exception=False):
			set_encrypted_password("SNP Professional", name, new_feed_token(), "ics_token")
