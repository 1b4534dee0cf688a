"""The demo of interns and permanences loads on the demo doctors, and loading it again adds nothing."""

import frappe
from cpts_snp.demo import interns, loader

COUNTED = ("SNP Intern", "SNP Supervision Shift", "SNP Protocol", "SNP Permanence", "SNP Slot")


def test_the_interns_and_permanences_demo_loads_and_is_idempotent():
	loader.load()
	# one reference day for both loads: the demo's weeks roll at midnight (CI once ran across it)
	day = frappe.utils.today()
	interns.load(commit=False, on=day)
	counts = {doctype: frappe.db.count(doctype) for doctype in COUNTED}
	assert frappe.db.count("SNP Intern", {"email": ["like", "interne.%@cpts-demo.fr"]}) == 2
	assert frappe.db.count("SNP Permanence", {"starts_at": [">=", day]}) >= 26
	interns.load(commit=False, on=day)
	assert {doctype: frappe.db.count(doctype) for doctype in COUNTED} == counts
	assert "Interne SNP" in frappe.get_roles("interne.lambert@cpts-demo.fr")
