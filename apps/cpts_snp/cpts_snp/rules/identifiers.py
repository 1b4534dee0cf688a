"""French identifiers: RPPS and ADELI numbers, FINESS and SIRET, INSEE and postal codes, phone numbers, and the
prefixed national identifiers of the SAS platform (IDNPS, IDNST). Pure functions, no database."""

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
	return _luhn(value)


# --- National identifiers as the SAS guide wants them (ans.fhir.fr.sas, FAQ « préfixes des ID nationaux ») ---------
# A professional (IDNPS, urn:oid:1.2.250.1.71.4.2.1): "8" + RPPS, "0" + ADELI.
# A structure (IDNST, urn:oid:1.2.250.1.71.4.2.2): "1" + FINESS, else "3" + SIRET, else "4" + RPPS rang,
# else "0" + ADELI rang.
ADELI_PATTERN = re.compile(r"^\d{9}$")
FINESS_PATTERN = re.compile(r"^\d{9}$")
PREFIX_RPPS, PREFIX_ADELI = "8", "0"
PREFIX_FINESS, PREFIX_SIRET, PREFIX_RPPS_RANG, PREFIX_ADELI_RANG = "1", "3", "4", "0"


def _compact(value) -> str:
	return re.sub(r"\s", "", str(value or ""))


def _luhn(value: str) -> bool:
	total = 0
	for index, digit in enumerate(reversed(value)):
		number = int(digit) * (2 if index % 2 else 1)
		total += number - 9 if number > 9 else number
	return total % 10 == 0


def is_rpps(value) -> bool:
	"""An RPPS number: 11 digits. No check key is verified: the RPPS numbers of the guide's own examples
	(10002673899, 10100050075) fail the Luhn test, so a Luhn check would refuse real numbers."""
	return bool(RPPS_PATTERN.match(_compact(value)))


def is_adeli(value) -> bool:
	"""An ADELI number: 9 digits."""
	return bool(ADELI_PATTERN.match(_compact(value)))


def is_finess(value) -> bool:
	"""A FINESS number (établissement or entité juridique): 9 digits."""
	return bool(FINESS_PATTERN.match(_compact(value)))


def is_siret(value) -> bool:
	"""A SIRET: 14 digits passing the Luhn check (La Poste's establishments: a digit sum multiple of 5)."""
	return is_valid_siret(_compact(value))


def e164_phone(value) -> str | None:
	"""A French phone number as the SAS wants it, "+33XXXXXXXXX" ("02 40 12 34 56", "0240123456",
	"+33 2 40 12 34 56", "0033 2 40 12 34 56"); None when it is not a valid French number."""
	text = str(value or "").strip()
	if not text:
		return None
	if text.startswith("00"):
		text = "+" + text[2:]
	try:
		number = phonenumbers.parse(text, "FR")
	except phonenumbers.NumberParseException:
		return None
	if number.country_code != 33 or not phonenumbers.is_valid_number(number):
		return None
	return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def structure_identifier(finess, siret, rpps_rang, adeli_rang=None) -> str | None:
	"""The prefixed national identifier of a structure (IDNST), in the guide's order of preference:
	"1" + FINESS, else "3" + SIRET, else "4" + RPPS rang, else "0" + ADELI rang; None when none is known.
	A value already carrying its prefix is not prefixed twice."""
	finess, siret = _compact(finess), _compact(siret)
	rpps_rang, adeli_rang = _compact(rpps_rang), _compact(adeli_rang)
	if finess:
		return finess if len(finess) == 10 and finess.startswith(PREFIX_FINESS) else PREFIX_FINESS + finess
	if siret:
		return siret if len(siret) == 15 and siret.startswith(PREFIX_SIRET) else PREFIX_SIRET + siret
	if rpps_rang:
		return rpps_rang if rpps_rang.startswith(PREFIX_RPPS_RANG) else PREFIX_RPPS_RANG + rpps_rang
	if adeli_rang:
		return adeli_rang if adeli_rang.startswith(PREFIX_ADELI_RANG) else PREFIX_ADELI_RANG + adeli_rang
	return None


def practitioner_identifier(rpps, adeli) -> str | None:
	"""The prefixed national identifier of a professional (IDNPS): "8" + RPPS (11 digits), else "0" + ADELI
	(9 digits); None when neither is a valid number."""
	rpps, adeli = _compact(rpps), _compact(adeli)
	if is_rpps(rpps):
		return PREFIX_RPPS + rpps
	if is_adeli(adeli):
		return PREFIX_ADELI + adeli
	return None


def parse_practitioner_identifier(value) -> tuple[str, str] | None:
	"""("rpps", "10001234567") or ("adeli", "123456789") from an IDNPS ("8" + 11 digits, "0" + 9 digits) or a
	bare RPPS (11 digits) or ADELI (9 digits); None for anything else."""
	value = _compact(value)
	if not value.isdigit():
		return None
	if len(value) == 12 and value.startswith(PREFIX_RPPS):
		return ("rpps", value[1:])
	if len(value) == 10 and value.startswith(PREFIX_ADELI):
		return ("adeli", value[1:])
	if len(value) == 11:
		return ("rpps", value)
	if len(value) == 9:
		return ("adeli", value)
	return None


# --- Free-text addresses of the first versions (« Maison de santé, 3 rue des Lilas, 44400 Rezé ») ---------------
ADDRESS_TAIL = re.compile(r"^(?P<head>.*?)[,\s]*\b(?P<postal_code>\d{5})\s+(?P<city>[^\d,][^,]*)$")


def parse_address(text) -> dict | None:
	"""{place_name, address_line, postal_code, city} read from a one-line address ending with a postal code and a
	city: the place's name is the text before the first comma (or the address itself); None when the text does
	not end with « 5 digits city »."""
	text = re.sub(r"\s+", " ", str(text or "")).strip(" ,")
	match = ADDRESS_TAIL.match(text)
	if not match:
		return None
	parts = [part.strip() for part in match["head"].split(",") if part.strip()]
	if not parts:
		return None
	place_name = parts[0]
	address_line = ", ".join(parts[1:]) or parts[0]
	return {
		"place_name": place_name,
		"address_line": address_line,
		"postal_code": match["postal_code"],
		"city": match["city"].strip(),
	}


# --- Patients: the INS matricule and the key that finds a patient again -------------------------------------------
# The INS matricule is the NIR: 13 characters (sex, year, month, department — 2A/2B in Corsica —, commune, order)
# and a 2-digit key = 97 - (the 13 digits mod 97), Corsica's 2A and 2B counting as 19 and 18 for the key.
NIR_PATTERN = re.compile(r"^[1-478]\d{4}(\d{2}|2[AB])\d{6}\d{2}$")


def clean_ins(value) -> str:
	"""The INS as typed, without spaces or dots, upper case (people copy it as "1 80 01 75 123 456 78")."""
	return re.sub(r"[\s.]", "", str(value or "")).upper()


def is_valid_ins(value) -> bool:
	"""Whether `value` is a well-formed INS matricule (NIR): 15 characters whose last two are the key of the
	first 13 (97 - number mod 97; 2A → 19, 2B → 18)."""
	value = clean_ins(value)
	if not NIR_PATTERN.match(value):
		return False
	department = {"2A": "19", "2B": "18"}.get(value[5:7], value[5:7])
	body = value[:5] + department + value[7:13]
	return 97 - int(body) % 97 == int(value[13:])


def normalise_person_name(value) -> str:
	"""A name as the dedup key compares it: lower case, accents stripped, hyphens, apostrophes and runs of spaces
	collapsed to one space ("  Le-Gall  " and "le gall", "Hélène" and "helene" are the same)."""
	import unicodedata

	text = unicodedata.normalize("NFKD", str(value or ""))
	text = "".join(c for c in text if not unicodedata.combining(c)).lower()
	return " ".join(re.sub(r"[-‐‑’'_.,]", " ", text).split())


def patient_dedup_key(last_name, first_name, date_of_birth, phone=None) -> str:
	"""The key under which a patient is stored once: normalised phone (E.164 digits, or nothing), birth date
	(ISO), last and first names normalised. Two bookings of the same person by phone or by a partner give the same
	key, however the name was typed."""
	normalised = normalise_phone(phone) if phone else None
	digits = re.sub(r"\D", "", normalised or "")
	return "|".join(
		(
			digits,
			str(date_of_birth or ""),
			normalise_person_name(last_name),
			normalise_person_name(first_name),
		)
	)
