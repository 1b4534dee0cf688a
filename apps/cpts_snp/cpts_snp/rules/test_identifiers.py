import pytest

from cpts_snp.rules.identifiers import (
	clean_rpps,
	is_valid_insee_code,
	is_valid_postal_code,
	is_valid_rpps,
	normalise_phone,
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
