import frappe
import pytest

from cpts_snp.exceptions import InvalidPhoneError, InvalidRPPSError
from cpts_snp.tests.factories import make_professional, make_sector, unique_rpps


@pytest.mark.parametrize("rpps", ["1000345678", "100034567890", "10003A56781", ""])
def test_a_bad_rpps_is_refused_with_a_clear_french_message_and_nothing_is_saved(rpps):
	before = frappe.db.count("SNP Professional")
	with pytest.raises(InvalidRPPSError, match="doit comporter exactement 11 chiffres"):
		make_professional(rpps=rpps)
	assert frappe.db.count("SNP Professional") == before


def test_an_rpps_typed_with_spaces_is_stored_without_them():
	rpps = unique_rpps()
	spaced = f"{rpps[:2]} {rpps[2:5]} {rpps[5:8]} {rpps[8:]}"
	assert make_professional(rpps=spaced).rpps == rpps


def test_two_professionals_cannot_share_an_rpps_number():
	rpps = unique_rpps()
	make_professional(rpps=rpps)
	with pytest.raises(frappe.UniqueValidationError):
		make_professional(rpps=rpps)


def test_the_phone_number_is_normalised():
	assert make_professional(phone="06.12.34.56.78").phone == "+33 6 12 34 56 78"


def test_an_invalid_phone_number_is_refused_in_french():
	with pytest.raises(InvalidPhoneError, match="n'est pas valide"):
		make_professional(phone="06 12")


def test_full_name_and_sector_are_kept():
	sector = make_sector(insee_code="44143", postal_code="44400")
	pro = make_professional(first_name=" Claire ", last_name="Martin", sector=sector.name)
	assert pro.full_name == "Claire Martin"
	assert pro.sector == sector.name


def test_changes_to_a_professional_are_kept_in_the_version_history(monkeypatch):
	# Frappe skips version history in tests unless asked; the app relies on it.
	monkeypatch.setattr(frappe.flags, "in_test", False)
	pro = make_professional(phone="0612345678")
	pro.phone = "0698765432"
	pro.save()
	versions = frappe.get_all(
		"Version", filters={"ref_doctype": "SNP Professional", "docname": pro.name}, fields=["data"]
	)
	assert any("+33 6 98 76 54 32" in v.data for v in versions)
