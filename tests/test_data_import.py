"""Data Import of the CPTS's records (issue 17 §6): the coordination fills Frappe's French import template of
professionals, sectors, places of practice, availability templates and partners, imports it through Frappe's
Data Import (the real importer, rows committed one by one), and gets the same records back in an export. The
rules of the app hold for imported rows: the onboarding workflow, validations reported per row in French,
server-owned fields; only the coordination imports.

Frappe's importer commits after each row: the records of this module are committed, and removed after each test.
"""

import csv
import io

import frappe
import pytest
from cpts_snp.services.imports import TEMPLATES, template_fields
from cpts_snp.tests.factories import (
	as_user,
	make_professional,
	make_sector,
	make_user,
	unique_rpps,
	unique_suffix,
)
from cpts_snp.tests.partner_factories import FINESS
from frappe.core.doctype.data_import.data_import import start_import
from frappe.core.doctype.data_import.exporter import Exporter
from frappe.translate import get_all_translations

VALID_IBAN = "FR7630006000011234567890189"


@pytest.fixture(scope="module")
def people():
	"""A coordinator, a telesecretary and a doctor, committed for the module."""
	frappe.set_user("Administrator")
	world = frappe._dict(
		coordinator=make_user(["Coordinateur CPTS"], desk_user=True),
		telesecretary=make_user(["Télésecrétaire"], desk_user=True),
		doctor=make_user(["Médecin SNP"]),
	)
	frappe.db.commit()
	yield world
	frappe.db.rollback()
	frappe.set_user("Administrator")
	for user in world.values():
		frappe.delete_doc("User", user, force=True, ignore_permissions=True)
	frappe.db.commit()


@pytest.fixture
def imports(people):
	"""imports.run(doctype, rows, user=coordinator, import_type=…) → (Data Import, logs); what the imports made
	(records, logs, files) is deleted after the test."""
	made = frappe._dict(imports=[], records=[], files=[])

	def run(doctype, rows, user=None, import_type="Insert New Records", with_name=False, extra=None):
		user = user or people.coordinator
		content = template_csv(doctype, rows, with_name=with_name, extra=extra)
		with as_user(user):
			file = frappe.get_doc(
				{
					"doctype": "File",
					"file_name": f"import-{unique_suffix()}.csv",
					"content": content,
					"is_private": 1,
				}
			).insert()
			made.files.append(file.name)
			data_import = frappe.get_doc(
				{
					"doctype": "Data Import",
					"reference_doctype": doctype,
					"import_type": import_type,
					"import_file": file.file_url,
				}
			).insert()
			made.imports.append(data_import.name)
			frappe.db.commit()  # as the form saves it before « Start Import »
			start_import(data_import.name)
		logs = frappe.get_all(
			"Data Import Log",
			filters={"data_import": data_import.name},
			fields=["success", "docname", "messages", "exception", "row_indexes"],
			order_by="log_index asc",
		)
		if import_type == "Insert New Records":
			made.records += [(doctype, log.docname) for log in logs if log.success]
		data_import.reload()
		return data_import, logs

	made.run = run
	yield made
	frappe.db.rollback()
	frappe.set_user("Administrator")
	for doctype, name in reversed(made.records):
		if doctype == "SNP Professional":
			frappe.db.delete("SNP Availability Template", {"professional": name})
		frappe.delete_doc(doctype, name, force=True, ignore_permissions=True, delete_permanently=True)
	for name in made.imports:
		frappe.db.delete("Data Import Log", {"data_import": name})
		frappe.db.delete("Data Import", name)
	for name in made.files:
		frappe.db.delete("File", name)
	frappe.db.commit()


def exporter(doctype, with_name=False, **kwargs) -> Exporter:
	return Exporter(doctype, export_fields=template_fields(doctype, with_name=with_name), **kwargs)


def template_csv(doctype: str, rows: list[dict], with_name: bool = False, extra: dict | None = None) -> str:
	"""The French template of `doctype` (Frappe's exporter) filled with `rows`: dicts by fieldname, child-table
	values by « table.field » (a row holding only child values continues the record above); `extra` adds
	columns to the template ({column label: fieldname})."""
	export = exporter(doctype, with_name=with_name)
	keys = [
		f"{df.child_table_df.fieldname}.{df.fieldname}" if df.is_child_table_field else df.fieldname
		for df in export.fields
	]
	extra = extra or {}
	keys += list(extra.values())
	out = io.StringIO()
	writer = csv.writer(out)
	writer.writerow(export.get_csv_array()[0] + list(extra))
	for row in rows:
		writer.writerow(["" if row.get(key) is None else row.get(key) for key in keys])
	return out.getvalue()


def exported(doctype: str, names: list[str]) -> list[dict]:
	"""The records `names` as Frappe's exporter writes them (the template's columns), by column label."""
	export = exporter(doctype, with_name=True, export_data=True, export_filters={"name": ["in", names]})
	header, *rows = export.get_csv_array()
	return [dict(zip(header, row, strict=True)) for row in rows]


def messages(log) -> str:
	return " ".join(frappe.parse_json(m).get("message", "") for m in frappe.parse_json(log.messages or "[]"))


# --- The French template ----------------------------------------------------------------------------------------
def test_the_import_templates_have_their_columns_in_french():
	frappe.local.lang = "fr"
	header = exporter("SNP Professional").get_csv_array()[0]
	assert header[:3] == ["Nom", "Prénom", "Numéro RPPS"]
	assert "Profession" in header and "IBAN" in header
	assert "Secteur (Autres secteurs couverts)" in header
	partner = exporter("SNP Partner").get_csv_array()[0]
	assert "Nom du partenaire" in partner and "Type de partenaire" in partner
	# every column of every template is translated (fr.po), none left in English
	translations = get_all_translations("fr")
	for doctype in TEMPLATES:
		export = exporter(doctype)
		labels = [df.label for df in export.fields]
		assert [label for label in labels if label not in translations] == [], doctype
		assert export.get_csv_array()[0][0] == translations[labels[0]]


# --- Round trips ---------------------------------------------------------------------------------------------------
def test_sectors_import_with_their_neighbours_and_export_the_same(imports):
	neighbour = make_sector()
	frappe.db.commit()
	imports.records.append(("SNP Sector", neighbour.name))
	name = "Secteur importé " + unique_suffix()
	data_import, logs = imports.run(
		"SNP Sector",
		[
			{
				"sector_name": name,
				"insee_code": "62193",
				"postal_code": "62100",
				"communes": "Calais",
				"neighbours.sector": neighbour.name,
			}
		],
	)
	assert data_import.status == "Success", logs
	sector = frappe.get_doc("SNP Sector", name)
	assert [row.sector for row in sector.neighbours] == [neighbour.name]
	[row] = exported("SNP Sector", [name])
	assert row["Secteur"] == name and row["Code postal"] == "62100"
	assert row["Secteur (Secteurs voisins)"] == neighbour.name


def test_places_import_and_export_the_same(imports):
	name = "Maison de santé " + unique_suffix()
	data_import, logs = imports.run(
		"SNP Place",
		[
			{
				"place_name": name,
				"address_line": "3 place d'Armes",
				"postal_code": "62100",
				"city": "Calais",
				"active": 1,
				"finess": "620000000",
			}
		],
	)
	assert data_import.status == "Success", logs
	[place] = [log.docname for log in logs]
	[row] = exported("SNP Place", [place])
	assert (row["ID"], row["Nom du lieu"], row["Ville"], row["Numéro FINESS"]) == (
		place,
		name,
		"Calais",
		"620000000",
	)


def test_professionals_import_as_candidates_with_their_sectors(imports):
	sector, other = make_sector(), make_sector()
	frappe.db.commit()
	imports.records += [("SNP Sector", sector.name), ("SNP Sector", other.name)]
	rpps = unique_rpps()
	data_import, logs = imports.run(
		"SNP Professional",
		[
			{
				"last_name": "Importée",
				"first_name": "Jeanne",
				"rpps": rpps,
				"profession": "General practitioner",
				"email": f"jeanne-{unique_suffix()}@cpts-test.fr",
				"phone": "03 21 00 00 00",
				"sector": sector.name,
				"iban": VALID_IBAN,
				"sectors.sector": other.name,
			}
		],
	)
	assert data_import.status == "Success", logs
	professional = frappe.get_doc("SNP Professional", {"rpps": rpps})
	# the onboarding workflow applies: an imported professional is a candidate, who publishes no slot yet
	assert (professional.status, professional.active) == ("Candidate", 0)
	assert professional.full_name == "Jeanne Importée"
	assert [row.sector for row in professional.sectors] == [other.name]
	[row] = exported("SNP Professional", [professional.name])
	assert (row["Numéro RPPS"], row["Secteur (Autres secteurs couverts)"]) == (rpps, other.name)


def test_a_professional_cannot_be_imported_already_active(imports):
	"""The template has no status column; a file adding one cannot skip the onboarding workflow."""
	data_import, [log] = imports.run(
		"SNP Professional",
		[
			{
				"last_name": "Pressé",
				"first_name": "Paul",
				"rpps": unique_rpps(),
				"profession": "General practitioner",
				"status": "Active",
			}
		],
		extra={"Statut d'intégration": "status"},
	)
	assert data_import.status == "Error" and not log.success
	assert "Candidate" in messages(log) or "Candidat" in messages(log)


def test_a_bad_rpps_or_iban_row_fails_in_french_and_the_others_import(imports):
	good = unique_rpps()
	data_import, logs = imports.run(
		"SNP Professional",
		[
			{"last_name": "Valide", "first_name": "Vera", "rpps": good, "profession": "Nurse"},
			{"last_name": "Court", "first_name": "Carl", "rpps": "12345", "profession": "Nurse"},
			{
				"last_name": "Banque",
				"first_name": "Bea",
				"rpps": unique_rpps(),
				"profession": "Nurse",
				"iban": "FR76 0000 0000 0000",
			},
		],
	)
	assert data_import.status == "Partial Success"
	by_row = {frappe.parse_json(log.row_indexes)[0]: log for log in logs}
	assert by_row[2].success and frappe.db.exists("SNP Professional", {"rpps": good})
	assert not by_row[3].success and "11 chiffres" in messages(by_row[3])
	assert (
		not by_row[4].success and "IBAN" in messages(by_row[4]) and "n'est pas valide" in messages(by_row[4])
	)


def test_availability_templates_import_for_a_professional_and_export_the_same(imports):
	professional = make_professional().name
	frappe.db.commit()
	imports.records.append(("SNP Professional", professional))
	data_import, logs = imports.run(
		"SNP Availability Template",
		[
			{
				"professional": professional,
				"enabled": 1,
				"tuesday": 1,
				"start_time": "18:00:00",
				"number_of_slots": 3,
				"slot_duration": 20,
				"modality": "Office",
				"valid_from": "2027-01-04",
			}
		],
	)
	assert data_import.status == "Success", logs
	[name] = [log.docname for log in logs]
	imports.records.append(("SNP Availability Template", name))
	template = frappe.get_doc("SNP Availability Template", name)
	assert (template.professional_name, template.tuesday, template.number_of_slots) == (
		frappe.db.get_value("SNP Professional", professional, "full_name"),
		1,
		3,
	)
	[row] = exported("SNP Availability Template", [name])
	assert (row["Professionnel"], str(row["Heure de début"])) == (professional, "18:00:00")


def test_partners_import_with_their_users_and_export_the_same(imports, people):
	name = "CCAS " + unique_suffix()
	data_import, logs = imports.run(
		"SNP Partner",
		[
			{
				"partner_name": name,
				"partner_type": "MAIA / CLIC / CCAS",
				"access_level": "View availability",
				"finess": FINESS,
				"contact_email": "ccas@cpts-test.fr",
				"users.user": people.doctor,
			}
		],
	)
	assert data_import.status == "Success", logs
	partner = frappe.get_doc("SNP Partner", name)
	assert [row.user for row in partner.users] == [people.doctor]
	[row] = exported("SNP Partner", [name])
	assert row["Nom du partenaire"] == name and row["E-mail du contact"] == "ccas@cpts-test.fr"


# --- Who imports, and what an import cannot change ----------------------------------------------------------------
@pytest.mark.parametrize("who", ["telesecretary", "doctor"])
def test_only_the_coordination_imports(imports, people, who):
	user = people[who]
	with pytest.raises(frappe.PermissionError):
		imports.run(
			"SNP Sector",
			[{"sector_name": "Secteur " + unique_suffix()}],
			user=user,
		)


def test_an_import_right_to_data_import_does_not_open_every_doctype(people):
	"""The coordination has Data Import, but imports only the doctypes it may import."""
	with as_user(people.coordinator), pytest.raises(frappe.PermissionError):
		frappe.get_doc(
			{
				"doctype": "Data Import",
				"reference_doctype": "SNP Booking",
				"import_type": "Insert New Records",
			}
		).insert()


def test_an_update_import_cannot_set_the_directory_check_of_a_professional(imports):
	professional = make_professional(status="Candidate")
	frappe.db.commit()
	imports.records.append(("SNP Professional", professional.name))
	stored = frappe.db.get_value("SNP Professional", professional.name, "directory_status")
	data_import, logs = imports.run(
		"SNP Professional",
		[
			{
				"name": professional.name,
				"last_name": professional.last_name,
				"first_name": professional.first_name,
				"rpps": professional.rpps,
				"profession": professional.profession,
				"phone": "03 21 11 22 33",
				"directory_status": "Match",
			}
		],
		import_type="Update Existing Records",
		with_name=True,
		extra={"Contrôle annuaire RPPS": "directory_status"},
	)
	assert data_import.status == "Success", logs
	professional.reload()
	assert professional.phone == "+33 3 21 11 22 33"
	assert professional.directory_status == stored != "Match"


def test_the_french_template_downloads_for_the_coordination_only(people):
	from cpts_snp.services.imports import download_template

	with as_user(people.coordinator):
		download_template("SNP Place")
	content = frappe.response.result
	content = content.decode("utf-8-sig") if isinstance(content, bytes) else content
	header = next(csv.reader(io.StringIO(content)))
	assert header[:4] == ["Nom du lieu", "Adresse", "Code postal", "Ville"]
	with as_user(people.telesecretary), pytest.raises(frappe.PermissionError):
		download_template("SNP Place")
