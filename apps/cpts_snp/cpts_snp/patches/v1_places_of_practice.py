"""Sites set up before places of practice: every distinct free-text `location` of slots and templates becomes an
SNP Place, and the records are linked to it (their `location` then shows the place's label).

A text ending with « postal code city » (« Maison de santé, 3 rue des Lilas, 44400 Rezé ») gives the place's name,
street, postal code and city. Any other text becomes a place whose street is the text, in the postal code and city
of the professional's sector when the sector has them; otherwise the place is saved incomplete (postal code and
city to be completed by the coordination) and listed in the migration's output. Run again, it links only records
still without a place, to the places already made when their text is the same."""

import re

import frappe
from frappe.query_builder import Criterion

from cpts_snp.rules.identifiers import parse_address
from cpts_snp.services.naming import ensure_sequences
from cpts_snp.services.places import label_of

DOCTYPES = ("SNP Availability Template", "SNP Slot")


def execute():
	ensure_sequences()  # SNP Place's numbering sequence (made after migrate otherwise: too late for this patch)
	sectors = {}
	for doctype in DOCTYPES:
		table = frappe.qb.DocType(doctype)
		rows = (
			frappe.qb.from_(table)
			.select(table.location, table.professional)
			.distinct()
			.where(Criterion.any([table.place.isnull(), table.place == ""]))
			.where(table.location.notnull())
			.where(table.location != "")
			.run(as_dict=True)
		)
		for row in rows:
			sector = _sector_of(row.professional, sectors)
			place = place_for(row.location, sector)
			if not place:
				continue
			(
				frappe.qb.update(table)
				.set(table.place, place)
				.set(table.location, label_of(place))
				.where(Criterion.any([table.place.isnull(), table.place == ""]))
				.where(table.location == row.location)
				.where(table.professional == row.professional)
			).run()


def _sector_of(professional: str | None, cache: dict):
	if professional not in cache:
		name = frappe.db.get_value("SNP Professional", professional, "sector") if professional else None
		cache[professional] = (
			frappe.db.get_value("SNP Sector", name, ["name", "postal_code", "communes"], as_dict=True)
			if name
			else None
		)
	return cache[professional]


def place_for(text: str, sector=None) -> str | None:
	"""The SNP Place for a legacy location text: the one already made from the same text, else a new one
	(None for a text with nothing left once cleaned)."""
	text = re.sub(r"[<>]", "", re.sub(r"\s+", " ", text)).strip(" ,")
	if not text:
		return None
	values = parse_address(text)
	if not values:
		# the sector's postal code, and its first commune (or its name: sectors are named after communes)
		communes = (
			[line.strip() for line in (sector.communes or "").splitlines() if line.strip()] if sector else []
		)
		known = bool(sector and sector.postal_code)
		values = {
			"place_name": text.split(",")[0].strip() or text,
			"address_line": text,
			"postal_code": sector.postal_code if known else None,
			"city": (communes[0] if communes else sector.name) if known else None,
		}
	values = {key: value[:140] if value else value for key, value in values.items()}
	existing = frappe.db.get_value(
		"SNP Place", {key: value or ("is", "not set") for key, value in values.items()}, "name"
	)
	if existing:
		return existing
	place = frappe.get_doc({"doctype": "SNP Place", **values, "sector": sector.name if sector else None})
	if not (values["postal_code"] and values["city"]):
		place.flags.ignore_mandatory = True
	place.insert(ignore_permissions=True)
	if place.flags.ignore_mandatory:
		print(f"SNP Place {place.name} « {text} »: postal code and city to complete")
	return place.name
