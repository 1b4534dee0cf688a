"""The national RPPS directory (issue 17 §7): the coordination imports the public extract
« PS_LibreAcces_Personne_activite » (pipe-separated, header row; tests/data holds a small sample with the real
headers), every professional of the CPTS is checked against it (absent, name or profession different — accents
and case aside), flagged on his record and listed in the report « Écarts avec l'annuaire RPPS »; the
professional's form looks an RPPS up in the directory to prefill names and profession.

The import is a background job that commits as it goes: the module imports the sample once (committed) and
removes every directory import afterwards."""

import zipfile
from pathlib import Path

import frappe
import pytest
from cpts_snp.agenda.doctype.snp_professional.snp_professional import lookup_in_directory
from cpts_snp.rules.directory import differences, normalise, profession_from_directory
from cpts_snp.services import directory
from cpts_snp.tests.factories import as_user, make_professional, make_user, unique_rpps

SAMPLE = Path(__file__).parent / "data" / "PS_LibreAcces_Personne_activite_sample.txt"
# The sample's professionals identified by an RPPS number (one of them with two activity rows)
MARTIN, LEFEVRE, DE_LA_FONTAINE, BENALI, DUBOIS, MOREAU = (
	"19900000018",
	"19900000026",
	"19900000034",
	"19900000042",
	"19900000059",
	"19900000067",
)


def _remove_directory():
	frappe.db.rollback()
	frappe.set_user("Administrator")
	frappe.db.delete("SNP Directory Entry")
	frappe.db.delete("SNP Directory Import")
	frappe.db.commit()


@pytest.fixture(scope="module")
def sample_import():
	"""The sample imported as from a shell (bench execute), committed for the module."""
	frappe.set_user("Administrator")
	name = directory.import_path(str(SAMPLE))
	yield name
	_remove_directory()
	directory.check_professionals(commit=True)


def entries_of_import(name):
	return frappe.get_all(
		"SNP Directory Entry", filters={"directory_import": name}, fields=["*"], order_by="rpps asc"
	)


# --- Import -----------------------------------------------------------------------------------------------------
def test_the_extract_imports_one_entry_per_rpps_number_with_the_columns_kept(sample_import):
	record = frappe.get_doc("SNP Directory Import", sample_import)
	assert record.status == "Completed"
	# 8 rows: one doctor has two activity rows, one professional has an ADELI number only
	assert (record.rows_read, record.entries_imported) == (8, 6)
	entries = entries_of_import(sample_import)
	assert [e.rpps for e in entries] == [MARTIN, LEFEVRE, DE_LA_FONTAINE, BENALI, DUBOIS, MOREAU]
	martin = entries[0]
	assert (martin.last_name, martin.first_name, martin.profession_code, martin.profession_label) == (
		"MARTIN",
		"PAUL",
		"10",
		"Médecin",
	)
	assert (martin.specialty_code, martin.postal_code, martin.city) == ("SM54", "62100", "CALAIS")
	assert directory.current_import() == sample_import


def test_importing_again_replaces_the_directory_and_reads_a_zip(sample_import, tmp_path):
	archive = tmp_path / "PS_LibreAcces_202612011200.zip"
	with zipfile.ZipFile(archive, "w") as zipped:
		zipped.write(SAMPLE, "PS_LibreAcces_Personne_activite_202612011200.txt")
	again = directory.import_path(str(archive))
	assert directory.current_import() == again
	# the same professionals, once: the previous import's entries are gone
	assert frappe.db.count("SNP Directory Entry") == 6
	assert frappe.get_value("SNP Directory Import", again, "entries_imported") == 6


def test_a_file_that_is_not_the_directory_fails_and_the_directory_stays(sample_import, tmp_path):
	current = directory.current_import()
	wrong = tmp_path / "patients.txt"
	wrong.write_text("Nom|Prénom|Téléphone\nDUPONT|JEAN|0600000000\n", encoding="utf-8")
	with pytest.raises(directory.InvalidDirectoryFileError):
		directory.import_path(str(wrong))
	failed = frappe.get_all("SNP Directory Import", filters={"status": "Failed"}, fields=["name", "error"])
	assert failed and "Identifiant PP" in failed[0].error
	assert directory.current_import() == current
	assert frappe.db.count("SNP Directory Entry", {"directory_import": current}) == 6
	frappe.db.delete("SNP Directory Import", failed[0].name)
	frappe.db.commit()


def jobs_after_commit() -> list[dict]:
	"""Background jobs this transaction enqueues once committed (Frappe's after-commit list)."""
	import inspect

	jobs = []
	for callback in list(frappe.db.after_commit._functions):
		queue_args = inspect.getclosurevars(callback).nonlocals.get("queue_args")
		if queue_args:
			jobs.append(queue_args)
	return jobs


def test_a_coordinator_imports_an_uploaded_extract_in_a_background_job(sample_import):
	from cpts_snp.agenda.doctype.snp_directory_import.snp_directory_import import import_directory

	coordinator = make_user(["Coordinateur CPTS"], desk_user=True)
	with as_user(coordinator):
		upload = frappe.get_doc(
			{
				"doctype": "File",
				"file_name": "PS_LibreAcces_Personne_activite_202612020800.txt",
				"content": SAMPLE.read_bytes(),
				"is_private": 1,
			}
		).insert()
		record = frappe.get_doc({"doctype": "SNP Directory Import", "source_file": upload.file_url}).insert()
		# what the request does: the job is queued, to run after the commit
		import_directory(record.name)
		[job] = [j for j in jobs_after_commit() if j["kwargs"].get("directory_import") == record.name]
		assert "run_import" in str(job["method"])
		# what the worker then does, as the coordinator
		frappe.db.commit()
		try:
			directory.run_import(record.name)
			record.reload()
			assert (record.status, record.entries_imported) == ("Completed", 6)
			assert directory.current_import() == record.name
		finally:
			frappe.db.delete("File", upload.name)
			frappe.db.delete("User", coordinator)
			frappe.db.delete("Has Role", {"parent": coordinator})
			frappe.db.commit()


def test_a_directory_import_record_cannot_be_given_results_by_hand(sample_import):
	record = frappe.get_doc(
		{"doctype": "SNP Directory Import", "status": "Completed", "entries_imported": 999999}
	).insert()
	assert (record.status, record.entries_imported or 0) == ("Pending", 0)
	assert directory.current_import() != record.name


# --- Check of the professionals ---------------------------------------------------------------------------------
def test_a_professional_matching_the_directory_accents_and_case_aside_is_marked_so(sample_import):
	professional = make_professional(last_name="Lefevre", first_name="helene", rpps=LEFEVRE)
	assert (professional.directory_status, professional.directory_mismatch) == ("Match", None)
	assert professional.directory_checked_on


def test_a_professional_absent_from_the_directory_is_flagged(sample_import):
	professional = make_professional(rpps=unique_rpps())
	assert professional.directory_status == "Absent"
	assert professional.directory_mismatch == "Numéro RPPS absent de l'annuaire"


def test_a_professional_whose_name_differs_is_flagged_with_the_directory_name(sample_import):
	professional = make_professional(last_name="Martinez", first_name="Paul", rpps=MARTIN)
	assert professional.directory_status == "Mismatch"
	assert professional.directory_mismatch == "Nom dans l'annuaire : Paul Martin"


def test_a_professional_whose_profession_differs_is_flagged_with_the_directory_profession(sample_import):
	nurse_as_doctor = make_professional(last_name="Benali", first_name="Karim", rpps=BENALI)
	assert nurse_as_doctor.profession == "General practitioner"
	assert nurse_as_doctor.directory_status == "Mismatch"
	assert nurse_as_doctor.directory_mismatch == "Profession dans l'annuaire : Infirmier"
	cardiologist_as_gp = make_professional(
		last_name="de la Fontaine-Dupré", first_name="Marie Claire", rpps=DE_LA_FONTAINE
	)
	assert cardiologist_as_gp.directory_mismatch == (
		"Profession dans l'annuaire : Médecin (Cardiologie et maladies vasculaires)"
	)


def test_the_check_follows_a_corrected_record_and_cannot_be_typed(sample_import):
	professional = make_professional(last_name="Martinez", first_name="Paul", rpps=MARTIN)
	professional.reload()
	professional.directory_status = "Match"
	professional.save()
	assert professional.directory_status == "Mismatch"
	professional.last_name = "Martin"
	professional.save()
	assert professional.directory_status == "Match"


def test_checking_all_professionals_after_an_import_flags_them_in_one_pass(sample_import):
	matching = make_professional(
		last_name="Moreau", first_name="Luc", rpps=MOREAU, profession="Physiotherapist"
	)
	absent = make_professional(rpps=unique_rpps())
	for name in (matching.name, absent.name):
		frappe.db.set_value("SNP Professional", name, "directory_status", "Not checked")
	checked, flagged = directory.check_professionals([matching.name, absent.name])
	assert (checked, flagged) == (2, 1)
	assert frappe.db.get_value("SNP Professional", matching.name, "directory_status") == "Match"
	assert frappe.db.get_value("SNP Professional", absent.name, "directory_status") == "Absent"


def test_the_report_lists_the_professionals_absent_or_different(sample_import):
	from cpts_snp.agenda.report.ecarts_annuaire_rpps.ecarts_annuaire_rpps import execute

	matching = make_professional(
		last_name="Dubois", first_name="Camille", rpps=DUBOIS, profession="Pharmacist"
	)
	different = make_professional(last_name="Martinez", first_name="Paul", rpps=MARTIN)
	absent = make_professional(rpps=unique_rpps())
	_columns, data, _message = execute({})
	by_name = {row["professional"]: row for row in data}
	assert matching.name not in by_name
	assert by_name[different.name]["directory_name"] == "Paul Martin"
	assert by_name[different.name]["directory_status"] == "Écart"
	assert by_name[absent.name]["directory_status"] == "Absent"
	_columns, only_absent, _message = execute({"status": "Absent"})
	assert absent.name in {row["professional"] for row in only_absent}
	assert different.name not in {row["professional"] for row in only_absent}


# --- Lookup from the professional's form ------------------------------------------------------------------------
def test_the_form_looks_an_rpps_up_and_gets_names_and_profession(sample_import):
	coordinator = make_user(["Coordinateur CPTS"], desk_user=True)
	with as_user(coordinator):
		found = lookup_in_directory("199 0000 0034")
	assert (found["last_name"], found["first_name"], found["profession"]) == (
		"De La Fontaine-Dupré",
		"Marie-Claire",
		"Specialist physician",
	)
	assert found["specialty_label"] == "Cardiologie et maladies vasculaires"
	with as_user(coordinator), pytest.raises(frappe.DoesNotExistError, match="Aucun professionnel"):
		lookup_in_directory(unique_rpps())


def test_only_the_coordination_looks_the_directory_up(sample_import):
	telesecretary = make_user(["Télésecrétaire"], desk_user=True)
	with as_user(telesecretary), pytest.raises(frappe.PermissionError):
		lookup_in_directory(MARTIN)


def test_only_the_coordination_starts_a_directory_import(sample_import):
	from cpts_snp.agenda.doctype.snp_directory_import.snp_directory_import import import_directory

	telesecretary = make_user(["Télésecrétaire"], desk_user=True)
	with as_user(telesecretary), pytest.raises(frappe.PermissionError):
		import_directory(sample_import)


# --- Rules --------------------------------------------------------------------------------------------------------
def test_names_compare_without_accents_case_hyphens_or_spaces():
	assert normalise("  Lefèvre-Dupré ") == normalise("LEFEVRE DUPRE") == "lefevre dupre"
	assert normalise("D'Artagnan") == normalise("D ARTAGNAN")


def test_directory_professions_map_to_the_app_professions():
	assert profession_from_directory("10", "SM54") == "General practitioner"
	assert profession_from_directory("10", "") == "General practitioner"
	assert profession_from_directory("10", "SM04") == "Specialist physician"
	assert profession_from_directory("60", "") == "Nurse"
	assert profession_from_directory("91", "") is None
	entry = {"last_name": "MARTIN", "first_name": "PAUL", "profession_code": "10", "specialty_code": "SM54"}
	assert differences({"last_name": "Martin", "first_name": "Paul", "profession": "Other"}, entry) == []
	assert differences({"last_name": "Martin", "first_name": "Paul", "profession": "Nurse"}, entry) == [
		"profession"
	]
