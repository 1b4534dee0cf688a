"""The run command loads demo data a person can try at once, and loading it again adds nothing twice."""

import frappe

from cpts_snp.demo import loader


def counts():
	return {doctype: frappe.db.count(doctype) for doctype in ("SNP Sector", "SNP Professional", "SNP Slot", "SNP Booking", "User")}


def test_demo_data_loads_and_is_idempotent():
	loader.load()
	first = counts()
	loader.load()
	assert counts() == first
	assert frappe.db.count("SNP Slot", {"status": "Available"}) > 0
	assert frappe.db.count("SNP Booking", {"booked_by": "telesecretariat@cpts-demo.fr"}) > 0
	assert "Télésecrétaire" in frappe.get_roles("telesecretariat@cpts-demo.fr")
	assert frappe.db.get_value("SNP Professional", {"user": "dr.martin@cpts-demo.fr"}, "full_name") == "Claire Martin"
