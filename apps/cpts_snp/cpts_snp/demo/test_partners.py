"""The demo partners: SAS 44 books, the CHU's emergency department only views; loading twice adds nothing."""

import frappe

from cpts_snp.demo import partners
from cpts_snp.services.partners import can_book, partner_of


def test_demo_partners_load_idempotently_with_their_access():
	partners.load()
	first = (frappe.db.count("SNP Partner"), frappe.db.count("User"), frappe.db.count("SNP Partner User"))
	partners.load()
	assert (
		frappe.db.count("SNP Partner"),
		frappe.db.count("User"),
		frappe.db.count("SNP Partner User"),
	) == first
	sas = partner_of("sas44@cpts-demo.fr")
	assert (sas.name, sas.partner_type) == ("SAS 44 – SAMU de Loire-Atlantique", "SAS / SAMU")
	assert can_book(sas)
	assert "Partenaire SNP" in frappe.get_roles("sas44@cpts-demo.fr")
	assert not can_book(partner_of("urgences.chu@cpts-demo.fr"))
