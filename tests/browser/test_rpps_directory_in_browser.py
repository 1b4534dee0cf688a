"""In the desk: the coordinator types an RPPS number on a new professional's form and « Rechercher dans l'annuaire
RPPS » fills the names and the profession from the imported national directory."""

from pathlib import Path

import frappe
from cpts_snp.services import directory
from cpts_snp.tests.factories import TEST_PASSWORD

from .conftest import fill, screenshot

SAMPLE = Path(__file__).resolve().parents[1] / "data" / "PS_LibreAcces_Personne_activite_sample.txt"


def test_the_coordinator_fills_a_new_professional_from_the_rpps_directory(
	server, page, desk_login, committed
):
	coordinator = committed.user(["Coordinateur CPTS"])
	directory.import_path(str(SAMPLE))
	try:
		desk_login(coordinator, TEST_PASSWORD)
		page.goto(f"{server}/app/snp-professional/new")
		rpps = page.locator('.frappe-control[data-fieldname="rpps"] input:visible')
		fill(rpps, "19900000034")
		page.get_by_role("button", name="Rechercher dans l'annuaire RPPS").click()
		last_name = page.locator('.frappe-control[data-fieldname="last_name"] input:visible')
		page.wait_for_function(
			"() => cur_frm && cur_frm.doc.last_name === 'De La Fontaine-Dupré'", timeout=30_000
		)
		assert last_name.input_value() == "De La Fontaine-Dupré"
		assert page.evaluate("cur_frm.doc.first_name") == "Marie-Claire"
		assert page.evaluate("cur_frm.doc.profession") == "Specialist physician"
		page.get_by_text("Trouvé dans l'annuaire RPPS").first.wait_for()
		screenshot(page, "rpps-directory-lookup")
	finally:
		frappe.db.rollback()
		frappe.db.delete("SNP Directory Entry")
		frappe.db.delete("SNP Directory Import")
		frappe.db.commit()
		directory.check_professionals(commit=True)
