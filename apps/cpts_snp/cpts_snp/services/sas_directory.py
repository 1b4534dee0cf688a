"""What the FHIR facade publishes to the SAS platform (guide ans.fhir.fr.sas): the practitioners asked for, their
free slots with the place of practice each is held at, the places, and the CPTS's identity.

For callers already checked by `services.partners.api_caller` (staff, or a user of an active partner): free slots
and the directory data of practitioners (national identifiers, names, places of practice: public in the national
health directory) are readable by both, so these reads go straight to the database, in a few set-based queries
per search, without Frappe's list machinery (which costs more in Python than the queries themselves).
"""

import frappe
from frappe.utils import now_datetime

PROFESSIONAL_FIELDS = (
	"name",
	"rpps",
	"adeli",
	"first_name",
	"last_name",
	"full_name",
	"profession",
	"active",
	"place",
)
SLOT_FIELDS = ("name", "professional", "starts_at", "ends_at", "modality", "place")
PLACE_FIELDS = (
	"name",
	"place_name",
	"address_line",
	"postal_code",
	"city",
	"phone",
	"finess",
	"siret",
	"rpps_rang",
)
ADDRESS_FIELDS = ("address_line", "postal_code", "city")


def professionals(rpps=(), adeli=(), names=(), individual_only: bool = False) -> dict[str, dict]:
	"""{professional name: directory data} of the active professionals with these RPPS, ADELI or names; only
	those who share their slots individually (INT_R01) when `individual_only`."""
	conditions = []
	if rpps:
		conditions.append("`rpps` IN %(rpps)s")
	if adeli:
		conditions.append("`adeli` IN %(adeli)s")
	if names:
		conditions.append("`name` IN %(names)s")
	if not conditions:
		return {}
	where = f"`active` = 1 AND ({' OR '.join(conditions)})"
	if individual_only:
		where += " AND `sas_individual_sharing` = 1"
	fields = ", ".join(f"`{field}`" for field in PROFESSIONAL_FIELDS)
	rows = frappe.db.sql(
		f"SELECT {fields} FROM `tabSNP Professional` WHERE {where}",
		{"rpps": tuple(rpps) or ("",), "adeli": tuple(adeli) or ("",), "names": tuple(names) or ("",)},
		as_dict=True,
	)
	return {row.name: row for row in rows}


def places(names) -> dict[str, dict]:
	"""{place name: place} of the places named whose address is complete (the guide requires a line, a city and
	a postal code: a slot held at a place without them is not published)."""
	names = tuple(name for name in set(names) if name)
	if not names:
		return {}
	fields = ", ".join(f"`{field}`" for field in PLACE_FIELDS)
	rows = frappe.db.sql(
		f"SELECT {fields} FROM `tabSNP Place` WHERE `name` IN %(names)s", {"names": names}, as_dict=True
	)
	return {row.name: row for row in rows if all((row.get(f) or "").strip() for f in ADDRESS_FIELDS)}


def published_slots(directory: dict[str, dict], start_from, start_to) -> tuple[list[dict], dict[str, dict]]:
	"""The free slots of the professionals of `directory` starting in [start_from, start_to] (never in the past),
	soonest first, each with the place it is held at (its own, else its professional's main place); and those
	places. Slots at no place with a complete address are left out."""
	frappe.has_permission("SNP Slot", "read", throw=True)
	start_from = max(start_from, now_datetime())
	if not directory or start_to < start_from:
		return [], {}
	from cpts_snp.services.cascade import partner_visible_sql

	# the slots the telesecretariat keeps for itself are offered to the SAS once the cascade opens them
	fields = ", ".join(f"`{field}`" for field in SLOT_FIELDS)
	rows = frappe.db.sql(
		f"""SELECT {fields} FROM `tabSNP Slot`
		WHERE `status` = 'Available' AND `professional` IN %(professionals)s AND {partner_visible_sql()}
			AND `starts_at` >= %(start_from)s AND `starts_at` <= %(start_to)s
		ORDER BY `starts_at` ASC, `name` ASC""",
		{"professionals": tuple(directory), "start_from": start_from, "start_to": start_to},
		as_dict=True,
	)
	for row in rows:
		row.place = row.place or directory[row.professional].place
	found = places(row.place for row in rows)
	return [row for row in rows if row.place in found], found


def professional_places(professional: str) -> list[str]:
	"""The places a professional practises at for the SAS: his main place and those of his coming free slots."""
	names = [frappe.db.get_value("SNP Professional", professional, "place")]
	names += frappe.get_all(
		"SNP Slot",
		filters={"professional": professional, "status": "Available", "starts_at": (">=", now_datetime())},
		pluck="place",
		distinct=True,
	)
	found = places(names)
	return [name for name in dict.fromkeys(names) if name in found]


def cpts_identity() -> dict:
	"""The CPTS as the SAS platform knows it (SNP Settings): its FINESS (9 digits, without the guide's prefix),
	name and phone."""
	settings = frappe.get_cached_doc("SNP Settings")
	identity = {
		"finess": (settings.get("cpts_finess") or "").strip(),
		"name": settings.get("cpts_name"),
		"phone": settings.get("cpts_phone"),
	}
	return identity
