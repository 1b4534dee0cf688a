"""French identifiers: RPPS numbers, INSEE and postal codes, phone numbers. Pure functions, no database."""

import re

import phonenumbers
from schwifty import BIC, IBAN
from schwifty.exceptions import SchwiftyException

RPPS_PATTERN = re.compile(r"^\d{11}$")
INSEE_PATTERN = re.compile(r"^(\d{5}|2[AB]\d{3})$")
POSTAL_CODE_PATTERN = re.compile(r"^\d{5}$")


def clean_rpps(value: str | None) -> str:
	"""The RPPS number as typed, without spaces (people copy it as "10 003 456 789")."""
	return re.sub(r"\s", "", value or "")


def is_valid_rpps(value: str) -> bool:
	"""An RPPS number is exactly 11 digits."""
	return bool(RPPS_PATTERN.match(value))


def is_valid_insee_code(value: str) -> bool:
	"""An INSEE commune code: 5 digits, or 2A/2B and 3 digits in Corsica."""
	return bool(INSEE_PATTERN.match(value.upper()))


def is_valid_postal_code(value: str) -> bool:
	return bool(POSTAL_CODE_PATTERN.match(value))


def normalise_phone(value: str, region: str = "FR") -> str | None:
	"""The phone number in international format ("+33 6 12 34 56 78"), or None when it is not a valid number.

	National French numbers ("06 12 34 56 78") are read as French; numbers with a country code keep it.
	"""
	try:
		number = phonenumbers.parse(value, region)
	except phonenumbers.NumberParseException:
		return None
	if not phonenumbers.is_valid_number(number):
		return None
	return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


def normalise_iban(value: str) -> str | None:
	"""The IBAN in compact form ("FR7630006000011234567890189"), or None when it is not valid
	(length, checksum and national bank code format, by schwifty)."""
	try:
		return IBAN(value).compact
	except (SchwiftyException, ValueError):
		return None


def normalise_bic(value: str) -> str | None:
	try:
		return BIC(value).compact
	except (SchwiftyException, ValueError):
		return None


def is_valid_siret(value: str) -> bool:
	"""A SIRET has 14 digits and passes the Luhn check (La Poste's establishments use a digit sum instead)."""
	value = re.sub(r"\s", "", value or "")
	if not re.fullmatch(r"\d{14}", value):
		return False
	if value.startswith("356000000"):
		return sum(int(d) for d in value) % 5 == 0
	total = 0
	for index, digit in enumerate(reversed(value)):
		number = int(digit) * (2 if index % 2 else 1)
		total += number - 9 if number > 9 else number
	return total % 10 == 0
