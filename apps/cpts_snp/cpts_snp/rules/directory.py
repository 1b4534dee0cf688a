"""The national RPPS directory (public extract « PS_LibreAcces_Personne_activite »): which professions of the app
match which directory codes, and how a professional's record is compared with his directory entry. Pure
functions: no database.

Profession codes are those of the nomenclature TRE_G15 (ProfessionSante), specialties those of TRE_R38
(savoir-faire « SM… »)."""

import re
import unicodedata

# The columns of the extract the app keeps (exact headers of the file) → the field of SNP Directory Entry
COLUMNS = {
	"Type d'identifiant PP": "id_type",
	"Identifiant PP": "rpps",
	"Nom d'exercice": "last_name",
	"Prénom d'exercice": "first_name",
	"Code profession": "profession_code",
	"Libellé profession": "profession_label",
	"Code savoir-faire": "specialty_code",
	"Libellé savoir-faire": "specialty_label",
	"Code postal (coord. structure)": "postal_code",
	"Libellé commune (coord. structure)": "city",
	"Bureau cedex (coord. structure)": "cedex_office",
}
REQUIRED_COLUMNS = (
	"Type d'identifiant PP",
	"Identifiant PP",
	"Nom d'exercice",
	"Prénom d'exercice",
	"Code profession",
)
RPPS_ID_TYPE = "8"  # « Type d'identifiant PP »: 8 = RPPS, 0 = ADELI

DOCTOR = "10"
GENERAL_PRACTICE = frozenset({"SM26", "SM53", "SM54"})  # qualified in / specialist in / general practice
# Profession of the app → its directory profession code
PROFESSION_CODES = {
	"General practitioner": DOCTOR,
	"Specialist physician": DOCTOR,
	"SASPAS intern": DOCTOR,
	"Pharmacist": "21",
	"Midwife": "50",
	"Nurse": "60",
	"Physiotherapist": "70",
}
PROFESSIONS_OF_CODE = {
	"21": "Pharmacist",
	"50": "Midwife",
	"60": "Nurse",
	"70": "Physiotherapist",
}


def normalise(text: str | None) -> str:
	"""A name as compared with the directory: without accents, case, hyphens, apostrophes or extra spaces."""
	decomposed = unicodedata.normalize("NFKD", text or "")
	plain = "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()
	return " ".join(re.sub(r"[^0-9a-z]+", " ", plain).split())


def profession_from_directory(profession_code: str | None, specialty_code: str | None) -> str | None:
	"""The profession of the app for a directory entry (None when the app has no such profession)."""
	if profession_code == DOCTOR:
		if specialty_code and specialty_code not in GENERAL_PRACTICE:
			return "Specialist physician"
		return "General practitioner"
	return PROFESSIONS_OF_CODE.get(profession_code or "")


def profession_matches(
	profession: str | None, profession_code: str | None, specialty_code: str | None
) -> bool:
	"""Whether the app's profession agrees with the directory's; « Other » is never contradicted."""
	expected = PROFESSION_CODES.get(profession or "")
	if expected is None:
		return True
	if expected != profession_code:
		return False
	if profession == "General practitioner":
		return not specialty_code or specialty_code in GENERAL_PRACTICE
	if profession == "Specialist physician":
		return specialty_code not in GENERAL_PRACTICE
	return True


def differences(professional: dict, entry: dict) -> list[str]:
	"""The fields of `professional` (last_name, first_name, profession) that disagree with his directory `entry`
	(last_name, first_name, profession_code, specialty_code): a list of « last_name », « first_name »,
	« profession »."""
	different = []
	for field in ("last_name", "first_name"):
		if normalise(professional.get(field)) != normalise(entry.get(field)):
			different.append(field)
	if not profession_matches(
		professional.get("profession"), entry.get("profession_code"), entry.get("specialty_code")
	):
		different.append("profession")
	return different


def directory_name(value: str | None) -> str:
	"""A directory name (in capitals) as the app writes it: « DE LA FONTAINE-DUPRÉ » → « De La Fontaine-Dupré »."""
	return re.sub(r"[^\W\d_]+", lambda m: m.group(0).capitalize(), (value or "").strip())


def city_of(entry: dict) -> str:
	"""The city of a directory row: its commune, or its « bureau cedex » without the postal code."""
	if entry.get("city"):
		return entry["city"]
	return re.sub(r"^\d{5}\s*", "", entry.get("cedex_office") or "").strip()
