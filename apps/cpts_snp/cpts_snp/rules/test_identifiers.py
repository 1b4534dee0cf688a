import pytest

from cpts_snp.rules.identifiers import (
	clean_rpps,
	e164_phone,
	is_adeli,
	is_finess,
	is_rpps,
	is_siret,
	is_valid_insee_code,
	is_valid_postal_code,
	is_valid_rpps,
	normalise_phone,
	parse_address,
	parse_practitioner_identifier,
	practitioner_identifier,
	structure_identifier,
)


@pytest.mark.parametrize("value", ["10003456781", "19999999999"])
def test_an_rpps_number_has_eleven_digits(value):
	assert is_valid_rpps(value)


@pytest.mark.parametrize("value", ["", "1000345678", "100034567812", "1000345678A", "1000-345678"])
def test_anything_else_is_not_an_rpps_number(value):
	assert not is_valid_rpps(value)


def test_rpps_copied_with_spaces_is_cleaned():
	assert clean_rpps(" 10 003 456 781 ") == "10003456781"


@pytest.mark.parametrize("value", ["44143", "2A004", "2b033"])
def test_insee_codes_include_corsica(value):
	assert is_valid_insee_code(value)


@pytest.mark.parametrize("value", ["4414", "441430", "ABCDE"])
def test_bad_insee_codes(value):
	assert not is_valid_insee_code(value)


def test_postal_code_has_five_digits():
	assert is_valid_postal_code("44400")
	assert not is_valid_postal_code("4440")


@pytest.mark.parametrize(
	"typed, stored",
	[
		("06 12 34 56 78", "+33 6 12 34 56 78"),
		("0612345678", "+33 6 12 34 56 78"),
		("+33612345678", "+33 6 12 34 56 78"),
		("02.40.11.22.33", "+33 2 40 11 22 33"),
		("+32 470 12 34 56", "+32 470 12 34 56"),
	],
)
def test_phone_numbers_are_stored_in_international_format(typed, stored):
	assert normalise_phone(typed) == stored


@pytest.mark.parametrize("typed", ["12", "06 12 34", "not a phone", "+33 6 12 34 56 78 90"])
def test_invalid_phone_numbers_are_recognised(typed):
	assert normalise_phone(typed) is None


# --- The SAS platform's national identifiers -------------------------------------------------------------------


@pytest.mark.parametrize(
	"typed",
	[
		"02 40 12 34 56",
		"0240123456",
		"+33 2 40 12 34 56",
		"0033 2 40 12 34 56",
		"02.40.12.34.56",
		"+33240123456",
	],
)
def test_a_french_phone_number_is_sent_to_the_sas_as_plus_33(typed):
	assert e164_phone(typed) == "+33240123456"


@pytest.mark.parametrize("typed", [None, "", "12", "not a phone", "+32 470 12 34 56", "02 40 12 34"])
def test_a_number_that_is_not_french_has_no_sas_phone(typed):
	assert e164_phone(typed) is None


def test_the_structure_identifier_prefers_finess_then_siret_then_rpps_rang_then_adeli_rang():
	assert structure_identifier("440000289", "73282932000074", "123456789") == "1440000289"
	assert structure_identifier(None, "73282932000074", "123456789") == "373282932000074"
	assert structure_identifier("", "", "10000123456") == "410000123456"
	assert structure_identifier(None, None, None, "441234567") == "0441234567"
	assert structure_identifier(None, None, None) is None


def test_a_structure_identifier_already_prefixed_is_not_prefixed_twice():
	assert structure_identifier("1440000289", None, None) == "1440000289"
	assert structure_identifier(None, "373282932000074", None) == "373282932000074"


def test_the_practitioner_identifier_is_8_and_rpps_else_0_and_adeli():
	assert practitioner_identifier("10002673899", "441234567") == "810002673899"
	assert practitioner_identifier(None, "441234567") == "0441234567"
	assert practitioner_identifier("", "") is None
	assert practitioner_identifier("123", "12") is None


@pytest.mark.parametrize(
	"value, parsed",
	[
		("810002673899", ("rpps", "10002673899")),
		("10002673899", ("rpps", "10002673899")),
		("0441234567", ("adeli", "441234567")),
		("441234567", ("adeli", "441234567")),
		(" 8 10002673899 ", ("rpps", "10002673899")),
	],
)
def test_a_practitioner_identifier_is_read_prefixed_or_bare(value, parsed):
	assert parse_practitioner_identifier(value) == parsed


@pytest.mark.parametrize(
	"value", [None, "", "b6e39355-8a61-4556-b340-36f7b95fec6a", "9100026738991", "12345", "710002673899"]
)
def test_anything_else_is_not_a_practitioner_identifier(value):
	assert parse_practitioner_identifier(value) is None


def test_rpps_numbers_of_the_guide_are_rpps_numbers():
	# the guide's examples (810002673899, 810100050075) carry no Luhn key: none is checked
	assert is_rpps("10002673899") and is_rpps("10100050075")
	assert not is_rpps("1000267389") and not is_rpps("1000267389A")


def test_finess_adeli_and_siret_formats():
	assert is_finess("440000289") and not is_finess("44000028") and not is_finess("44000028A")
	assert is_adeli("441234567") and not is_adeli("4412345678")
	assert is_siret("732 829 320 00074") and not is_siret("73282932000075") and not is_siret("7328293200007")


@pytest.mark.parametrize(
	"text, parsed",
	[
		(
			"Maison de santé des Tilleuls, 3 rue des Tilleuls, 44400 Rezé",
			("Maison de santé des Tilleuls", "3 rue des Tilleuls", "44400", "Rezé"),
		),
		("12 rue de la Paix, 44000 Nantes", ("12 rue de la Paix", "12 rue de la Paix", "44000", "Nantes")),
		("12 rue de la Paix 44000 Nantes", ("12 rue de la Paix", "12 rue de la Paix", "44000", "Nantes")),
		(
			"Cabinet, 1 place du Marché, Bât. B, 44120 Vertou ",
			("Cabinet", "1 place du Marché, Bât. B", "44120", "Vertou"),
		),
	],
)
def test_a_legacy_address_is_read_as_name_street_postal_code_and_city(text, parsed):
	result = parse_address(text)
	assert (result["place_name"], result["address_line"], result["postal_code"], result["city"]) == parsed


@pytest.mark.parametrize(
	"text", ["", None, "Cabinet médical – Rezé", "Maison de santé, salle 2", "44400 Rezé"]
)
def test_a_text_without_postal_code_and_city_is_not_an_address(text):
	assert parse_address(text) is None
