"""The demo of interns and permanences loads on the demo doctors, and loading it again adds nothing."""

import frappe
from cpts_snp.demo import interns, loader

COUNTED = ("SNP Intern", "SNP Supervision Shift", "SNP Protocol", "SNP Permanence", "SNP Slot")


def test_the_interns_and_permanences_demo_loads_and_is_idempotent():
	loader.load()
	interns.load(commit=False)
	counts = {doctype: frappe.db.count(doctype) for doctype in COUNTED}
	assert frappe.db.count("SNP Intern", {"email": ["like", "interne.%@cpts-demo.fr"]}) == 2
	assert frappe.db.count("SNP Permanence", {"starts_at": [">=", frappe.utils.today()]}) >= 26
	interns.load(commit=False)
	assert {doctype: frappe.db.count(doctype) for doctype in COUNTED} == counts
	assert "Interne SNP" in frappe.get_roles("interne.lambert@cpts-demo.fr")
