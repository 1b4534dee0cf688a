"""Places of practice of the demo CPTS (Sud-Loire, south of Nantes): a maison de santé, a centre de santé and
doctors' practices, with real communes and postal codes (the streets and identifiers are made up: the FINESS and
SIRET are well-formed, not real establishments). Idempotent: a place is found again by its name."""

import frappe

from cpts_snp.services.places import label_of

# place name, address, postal code, city, sector, phone, FINESS, SIRET
PLACES = [
	(
		"Maison de santé pluriprofessionnelle de Rezé-Château",
		"15 rue Victor Hugo",
		"44400",
		"Rezé",
		"Rezé",
		"02 40 75 12 30",
		None,
		"88234567800016",
	),
	(
		"Centre de santé municipal de Vertou",
		"2 rue de l'Île de France",
		"44120",
		"Vertou",
		"Vertou",
		"02 40 34 56 10",
		"440051234",
		None,
	),
	(
		"Cabinet médical des Couëts",
		"3 rue du Commandant Charcot",
		"44340",
		"Bouguenais",
		"Bouguenais",
		"02 40 65 21 40",
		None,
		None,
	),
	(
		"Maison médicale de la Loire",
		"21 boulevard des Pas Enchantés",
		"44230",
		"Saint-Sébastien-sur-Loire",
		"Saint-Sébastien-sur-Loire",
		"02 40 80 44 12",
		None,
		None,
	),
	(
		"Cabinet médical du Bourg",
		"6 rue de la Mairie",
		"44840",
		"Les Sorinières",
		"Les Sorinières",
		"02 40 31 20 05",
		None,
		None,
	),
]

# The demo professionals' e-mail domain (the others are left alone).
DEMO_DOMAIN = "@cpts-demo.fr"
# The CPTS's own FINESS, as given to the ANS (made up, well-formed).
CPTS_FINESS = "440057896"
# Demo doctors (by RPPS) who also share their slots with the SAS individually (flow INT_R01).
INDIVIDUAL_SHARING = ("10003456781", "10003456782")


def ensure_places() -> dict[str, str]:
	"""The demo places, made when missing: {sector: place}."""
	by_sector = {}
	for name, address, postal_code, city, sector, phone, finess, siret in PLACES:
		place = frappe.db.get_value("SNP Place", {"place_name": name})
		if not place:
			place = (
				frappe.get_doc(
					{
						"doctype": "SNP Place",
						"place_name": name,
						"address_line": address,
						"postal_code": postal_code,
						"city": city,
						"sector": sector if frappe.db.exists("SNP Sector", sector) else None,
						"phone": phone,
						"finess": finess,
						"siret": siret,
					}
				)
				.insert()
				.name
			)
		by_sector[sector] = place
	return by_sector


def place_of_sector(sector: str | None, by_sector: dict[str, str]) -> str | None:
	"""The place of a demo doctor of `sector`: the demo place there, else a practice in his commune."""
	if not sector:
		return None
	if sector not in by_sector:
		name = f"Cabinet médical de {sector}"
		place = frappe.db.get_value("SNP Place", {"place_name": name})
		if not place:
			postal_code = frappe.db.get_value("SNP Sector", sector, "postal_code")
			if not postal_code:
				return None
			place = (
				frappe.get_doc(
					{
						"doctype": "SNP Place",
						"place_name": name,
						"address_line": "1 place de la Mairie",
						"postal_code": postal_code,
						"city": sector,
						"sector": sector,
					}
				)
				.insert()
				.name
			)
		by_sector[sector] = place
	return by_sector[sector]


def link_professionals(by_sector: dict[str, str]) -> None:
	"""Each demo professional without a place gets his sector's; his templates and slots without a place follow
	(through their controllers' rule: a record without a place takes its professional's); two of them share
	their slots with the SAS individually."""
	for pro in frappe.get_all(
		"SNP Professional",
		filters={"place": ["is", "not set"], "email": ["like", f"%{DEMO_DOMAIN}"]},
		fields=["name", "sector", "rpps"],
	):
		place = place_of_sector(pro.sector, by_sector)
		if place:
			frappe.db.set_value("SNP Professional", pro.name, "place", place, update_modified=False)
	for rpps in INDIVIDUAL_SHARING:
		frappe.db.set_value(
			"SNP Professional", {"rpps": rpps}, "sas_individual_sharing", 1, update_modified=False
		)
	for doctype in ("SNP Availability Template", "SNP Slot"):
		table = frappe.qb.DocType(doctype)
		pro = frappe.qb.DocType("SNP Professional")
		rows = (
			frappe.qb.from_(table)
			.join(pro)
			.on(pro.name == table.professional)
			.select(pro.place)
			.distinct()
			.where(table.place.isnull() & pro.place.notnull() & pro.email.like(f"%{DEMO_DOMAIN}"))
			.run(pluck=True)
		)
		for place in rows:
			professionals = frappe.get_all(
				"SNP Professional",
				filters={"place": place, "email": ["like", f"%{DEMO_DOMAIN}"]},
				pluck="name",
			)
			(
				frappe.qb.update(table)
				.set(table.place, place)
				.set(table.location, label_of(place))
				.where(table.place.isnull() & table.professional.isin(professionals))
			).run()
