"""The rules that find a patient again: the INS format check and the deduplication key. Pure functions."""

from datetime import date

import pytest

from cpts_snp.rules.identifiers import is_valid_ins, normalise_person_name, patient_dedup_key


@pytest.mark.parametrize(
	"value",
	["180017512345660", "1 80 01 75 123 456 60", "269052A00412314", "269052b00412341"],
)
def test_an_ins_with_its_right_key_is_accepted_corsica_included(value):
	assert is_valid_ins(value)


@pytest.mark.parametrize(
	"value",
	[
		"180017512345661",  # wrong key
		"18001751234566",  # 14 characters
		"980017512345660",  # no such sex digit
		"269052A00412341",  # 2B's key on a 2A number
		"1800175123456AB",
		"",
	],
)
def test_an_ins_with_a_wrong_key_or_shape_is_refused(value):
	assert not is_valid_ins(value)


def test_names_compare_without_case_accents_hyphens_or_extra_spaces():
	assert normalise_person_name("  Le-Gall ") == normalise_person_name("le  gall") == "le gall"
	assert normalise_person_name("Hélène") == "helene"
	assert normalise_person_name("N’Diaye") == normalise_person_name("n diaye")


def test_the_same_person_typed_differently_has_one_dedup_key():
	typed_by_phone = patient_dedup_key("DUPONT-MARTIN", "Élodie", date(1980, 5, 12), "06 12 34 56 78")
	typed_by_partner = patient_dedup_key("dupont martin", "elodie", "1980-05-12", "+33612345678")
	assert typed_by_phone == typed_by_partner


def test_another_birth_date_or_phone_makes_another_patient():
	key = patient_dedup_key("Dupont", "Jean", date(1980, 5, 12), "0612345678")
	assert key != patient_dedup_key("Dupont", "Jean", date(1981, 5, 12), "0612345678")
	assert key != patient_dedup_key("Dupont", "Jean", date(1980, 5, 12), "0698765432")
	assert key != patient_dedup_key("Dupont", "Jeanne", date(1980, 5, 12), "0612345678")
