"""The run command loads demo data a person can try at once, and loading it again adds nothing twice."""

import frappe
from cpts_snp.demo import loader


def counts():
	doctypes = ("SNP Sector", "SNP Professional", "SNP Slot", "SNP Booking", "User", "SNP Indemnity Scheme")
	return {doctype: frappe.db.count(doctype) for doctype in doctypes}


def test_demo_data_loads_and_is_idempotent():
	loader.load()
	loader.load_finance()
	first = counts()
	loader.load()
	loader.load_finance()
	assert counts() == first
	assert not frappe.get_all("SNP Professional", filters={"iban": ["is", "not set"]})
	assert frappe.db.get_single_value("SNP Settings", "cpts_iban")
	assert "Trésorier CPTS" in frappe.get_roles("tresorerie@cpts-demo.fr")
	assert frappe.db.count("SNP Slot", {"status": "Available"}) > 0
	assert frappe.db.count("SNP Booking", {"booked_by": "telesecretariat@cpts-demo.fr"}) > 0
	assert "Télésecrétaire" in frappe.get_roles("telesecretariat@cpts-demo.fr")
	assert frappe.db.get_value("SNP Professional", {"user": "dr.martin@cpts-demo.fr"}, "full_name") == "Claire Martin"
