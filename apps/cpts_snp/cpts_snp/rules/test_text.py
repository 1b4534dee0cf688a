import pytest

from cpts_snp.rules.text import clean_name, has_markup


@pytest.mark.parametrize(
	"value",
	[
		"Émilie",
		"N'Diaye",
		"O’Connor",
		"Jean-Édouard",
		"de La Tour d'Auvergne",
		"Müller-Lüdenscheidt",
		"Łukasz",
		"José María",
	],
)
def test_names_keep_their_accents_apostrophes_hyphens_and_spaces(value):
	assert clean_name(value) == value
	assert not has_markup(value)


def test_a_partner_name_may_hold_an_ampersand_and_digits():
	assert clean_name("Pharmacie Martin & Fils 2") == "Pharmacie Martin & Fils 2"
	assert not has_markup("Pharmacie Martin & Fils 2")


@pytest.mark.parametrize(
	"value", ["<script>alert(1)</script>", "<img src=x onerror=alert(1)>", "Martin<b>", "a > b", "Dupont<"]
)
def test_markup_in_a_name_is_detected(value):
	assert has_markup(value)


def test_control_characters_count_as_spaces_and_formatting_ones_are_dropped():
	assert clean_name("  Jean\t\tPierre\n ") == "Jean Pierre"
	assert clean_name("Mar\u200btin") == "Martin"
	assert clean_name("\u202eDupont\x00") == "Dupont"


def test_an_empty_name_stays_empty():
	assert clean_name(None) == ""
	assert clean_name("   ") == ""
	assert not has_markup(None)
