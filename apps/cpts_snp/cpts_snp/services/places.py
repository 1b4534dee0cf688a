"""Places of practice (SNP Place): the label slots and templates show, the places a doctor picks from, and the
place a new slot or template takes."""

import frappe
from frappe import _

PLACE_FIELDS = ("place_name", "address_line", "postal_code", "city")


def place_label(place_name, address_line, postal_code, city) -> str:
	"""The one-line text of a place (« Maison de santé des Tilleuls, 3 rue des Tilleuls, 44400 Rezé »), shown
	wherever a slot's location is: slots and templates keep it in their read-only `location`."""
	town = " ".join(part for part in (postal_code, city) if part)
	parts = [place_name]
	if address_line and address_line != place_name:
		parts.append(address_line)
	parts.append(town)
	# the label is kept in a Data field (140 characters)
	return ", ".join(part.strip() for part in parts if part and part.strip())[:140]


def label_of(place: str | None) -> str | None:
	"""The label of the place named `place`, or None."""
	if not place:
		return None
	row = frappe.db.get_value(
		"SNP Place", place, ["place_name", "address_line", "postal_code", "city"], as_dict=True
	)
	return place_label(row.place_name, row.address_line, row.postal_code, row.city) if row else None


def active_places() -> list[dict]:
	"""The CPTS's active places, for a doctor's choice in the portal (name and label)."""
	rows = frappe.get_all(
		"SNP Place",
		filters={"active": 1},
		fields=["name", *PLACE_FIELDS],
		order_by="city asc, place_name asc",
	)
	return [
		frappe._dict(
			name=row.name, label=place_label(row.place_name, row.address_line, row.postal_code, row.city)
		)
		for row in rows
	]


def check_active_place(place: str | None) -> str | None:
	"""`place` if it is an active place of the CPTS, else a translated refusal; None stays None."""
	if not place:
		return None
	if not isinstance(place, str) or not frappe.db.get_value("SNP Place", place, "active"):
		frappe.throw(_("Choose one of the CPTS's places of practice"), frappe.ValidationError)
	return place


def set_place_and_label(doc) -> None:
	"""A slot or template: without a place it takes its professional's main place; its `location` is the
	label of its place (kept as it is for a record without any place: legacy text, until it is linked)."""
	if not doc.place and doc.get("professional"):
		doc.place = frappe.db.get_value("SNP Professional", doc.professional, "place")
	if doc.place:
		doc.location = label_of(doc.place)
