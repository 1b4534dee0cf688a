"""The national RPPS directory: import of its public extract and the check of the CPTS's professionals against it.

The extract « PS_LibreAcces_Personne_activite » (annuaire.sante.fr) is a pipe-separated UTF-8 text file with a
header row, one row per activity of a professional (about 2 GB). It is read as a stream, line by line, keeping
only the columns of `rules.directory.COLUMNS` and the rows identified by an RPPS number (one entry per RPPS: the
first activity row), and written in batches.

Each import is an SNP Directory Import; its entries carry its name. The directory the app reads is that of the
last completed import (`current_import`): a running import is invisible until it completes, then the entries of
the previous ones are deleted. A failed import deletes its own entries and leaves the previous directory in place.

From a shell: `bench --site SITE execute cpts_snp.services.directory.import_path --kwargs '{"path": "…"}'`.
"""

import csv
import io
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager

import frappe
from frappe import _
from frappe.utils import now_datetime

from cpts_snp.permissions import COORDINATION
from cpts_snp.rules.directory import (
	COLUMNS,
	REQUIRED_COLUMNS,
	RPPS_ID_TYPE,
	city_of,
	differences,
	directory_name,
	profession_from_directory,
)
from cpts_snp.rules.identifiers import is_valid_rpps


class InvalidDirectoryFileError(frappe.ValidationError):
	"""The file given is not an extract of the RPPS directory."""


BATCH_SIZE = 5000
CHECK_BATCH = 200
ENTRY_FIELDS = (
	"rpps",
	"last_name",
	"first_name",
	"profession_code",
	"profession_label",
	"specialty_code",
	"specialty_label",
	"postal_code",
	"city",
)
IDENTITY_FIELDS = ("rpps", "last_name", "first_name", "profession")
CHECK_FIELDS = ("directory_status", "directory_checked_on", "directory_mismatch")
# Status of a professional's directory check
NOT_CHECKED, MATCH, ABSENT, MISMATCH = "Not checked", "Match", "Absent", "Mismatch"
FLAGGED = (ABSENT, MISMATCH)


# --- Reading the extract -----------------------------------------------------------------------------------------
@contextmanager
def open_extract(path: str):
	"""The extract at `path` as a text stream: the .txt file itself or the « Personne_activite » .txt of a .zip."""
	if zipfile.is_zipfile(path):
		with zipfile.ZipFile(path) as archive:
			members = [n for n in archive.namelist() if n.lower().endswith(".txt")]
			member = next(
				(n for n in members if "personne_activite" in n.lower()), members[0] if members else None
			)
			if not member:
				frappe.throw(_("The archive holds no directory text file"), InvalidDirectoryFileError)
			with archive.open(member) as raw:
				yield io.TextIOWrapper(raw, encoding="utf-8-sig", errors="replace", newline="")
		return
	with open(path, encoding="utf-8-sig", errors="replace", newline="") as stream:
		yield stream


def read_entries(stream) -> Iterator[dict | None]:
	"""The rows of an extract, read lazily: a dict of ENTRY_FIELDS for a row identified by an RPPS number, None
	for another (an ADELI number). A file without the directory's header row is refused."""
	reader = csv.reader(stream, delimiter="|", quoting=csv.QUOTE_NONE)
	header = [column.strip() for column in next(reader, None) or []]
	missing = [column for column in REQUIRED_COLUMNS if column not in header]
	if missing:
		frappe.throw(
			_(
				"This is not an RPPS directory extract (PS_LibreAcces_Personne_activite): missing columns {0}"
			).format(", ".join(f"« {column} »" for column in missing)),
			InvalidDirectoryFileError,
		)
	indexes = {field: header.index(column) for column, field in COLUMNS.items() if column in header}
	for row in reader:
		entry = {field: (row[i].strip() if i < len(row) else "") for field, i in indexes.items()}
		if entry["id_type"] != RPPS_ID_TYPE or not is_valid_rpps(entry["rpps"]):
			yield None
			continue
		entry["city"] = city_of(entry)
		yield entry


# --- Import --------------------------------------------------------------------------------------------------------
def start_import(directory_import: str) -> None:
	"""« Import the directory » (coordination): the import runs in a background job after this request."""
	_check_coordination()
	doc = frappe.get_doc("SNP Directory Import", directory_import)
	doc.check_permission("write")
	if not doc.source_file:
		frappe.throw(_("Attach the directory file first"), InvalidDirectoryFileError)
	if doc.status == "Running":
		frappe.throw(_("This import is already running"))
	doc.db_set("status", "Pending")
	frappe.enqueue(
		run_import,
		queue="long",
		timeout=4 * 3600,
		job_id=f"snp_directory_import::{doc.name}",
		deduplicate=True,
		enqueue_after_commit=True,
		directory_import=doc.name,
	)


def import_path(path: str) -> str:
	"""Import the extract at `path` (bench execute, or a scheduled download): a new SNP Directory Import, run
	here. Returns its name."""
	doc = frappe.get_doc({"doctype": "SNP Directory Import", "source_path": path})
	doc.flags.ignore_permissions = True  # a shell or system job: no user involved
	doc.insert()
	frappe.db.commit()
	run_import(doc.name, path=path)
	return doc.name


def run_import(directory_import: str, path: str | None = None) -> None:
	"""The background job of an import: stream the extract into entries, make them the directory, check the
	professionals. Commits as it goes (batches); on failure its own entries are removed and the error kept."""
	doc = frappe.get_doc("SNP Directory Import", directory_import)
	doc.db_set({"status": "Running", "started_at": now_datetime(), "error": None, "finished_at": None})
	frappe.db.commit()
	try:
		if not path and not doc.source_file:
			frappe.throw(_("Attach the directory file first"), InvalidDirectoryFileError)
		path = path or frappe.get_doc("File", {"file_url": doc.source_file}).get_full_path()
		with open_extract(path) as stream:
			rows_read, imported = _load(doc.name, read_entries(stream))
		doc.db_set(
			{
				"status": "Completed",
				"finished_at": now_datetime(),
				"rows_read": rows_read,
				"entries_imported": imported,
			}
		)
		frappe.db.commit()  # from here on, this import is the directory
		delete_entries(other_than=doc.name)
		checked, flagged = check_professionals(commit=True)
		doc.db_set({"professionals_checked": checked, "professionals_flagged": flagged})
		frappe.db.commit()
	except Exception as error:
		frappe.db.rollback()
		delete_entries(of=doc.name)
		message = str(error) if isinstance(error, frappe.ValidationError) else frappe.get_traceback()
		doc.db_set({"status": "Failed", "finished_at": now_datetime(), "error": message[:10000]})
		frappe.db.commit()
		if not isinstance(error, frappe.ValidationError):
			doc.log_error("RPPS directory import failed")
		raise
	finally:
		frappe.publish_realtime("snp_directory_import", {"name": doc.name}, user=frappe.session.user)


def _load(import_name: str, entries: Iterator[dict | None]) -> tuple[int, int]:
	"""Write `entries` in batches (one entry per RPPS: a repeated RPPS is skipped by the unique key).
	Returns (rows read, entries written)."""
	imported_at, user = now_datetime(), frappe.session.user
	columns = [
		"name",
		*ENTRY_FIELDS,
		"directory_import",
		"imported_at",
		"creation",
		"modified",
		"owner",
		"modified_by",
	]
	rows_read, batch = 0, []
	for entry in entries:
		rows_read += 1
		if entry is None:
			continue
		batch.append(
			(
				frappe.generate_hash(length=12),
				*(entry.get(field) or "" for field in ENTRY_FIELDS),
				import_name,
				imported_at,
				imported_at,
				imported_at,
				user,
				user,
			)
		)
		if len(batch) >= BATCH_SIZE:
			_insert(columns, batch)
			batch = []
	if batch:
		_insert(columns, batch)
	imported = frappe.db.count("SNP Directory Entry", {"directory_import": import_name})
	return rows_read, imported


def _insert(columns, batch) -> None:
	"""One multi-row INSERT IGNORE of a batch, committed (a plain statement: the query builder spends more time
	composing a batch of this size than the database writing it)."""
	row = "(" + ", ".join(["%s"] * len(columns)) + ")"
	fields = ", ".join(f"`{column}`" for column in columns)
	frappe.db.sql(
		f"INSERT IGNORE INTO `tabSNP Directory Entry` ({fields}) VALUES " + ", ".join([row] * len(batch)),
		[value for values in batch for value in values],
	)
	frappe.db.commit()


def delete_entries(of: str | None = None, other_than: str | None = None) -> None:
	"""Delete the entries of one import, or of every import but one, in batches."""
	filters = {"directory_import": of} if of else {"directory_import": ["!=", other_than]}
	while names := frappe.get_all(
		"SNP Directory Entry", filters=filters, pluck="name", limit=BATCH_SIZE, ignore_permissions=True
	):
		frappe.db.delete("SNP Directory Entry", {"name": ["in", names]})
		frappe.db.commit()


def current_import() -> str | None:
	"""The import the app reads the directory from: the last one completed."""
	names = frappe.get_all(
		"SNP Directory Import",
		filters={"status": "Completed"},
		order_by="finished_at desc, creation desc",
		pluck="name",
		limit=1,
		ignore_permissions=True,
	)
	return names[0] if names else None


def entries_of(rpps_numbers) -> dict[str, dict]:
	"""The current directory's entries of these RPPS numbers, by RPPS."""
	current, numbers = current_import(), [n for n in set(rpps_numbers) if n]
	if not current or not numbers:
		return {}
	rows = frappe.get_all(
		"SNP Directory Entry",
		filters={"directory_import": current, "rpps": ["in", numbers]},
		fields=list(ENTRY_FIELDS),
		ignore_permissions=True,
	)
	return {row.rpps: row for row in rows}


# --- Check of the professionals ------------------------------------------------------------------------------------
def check_result(professional: dict, entries: dict[str, dict] | None, has_directory: bool) -> dict:
	"""The check fields of one professional (dict of last_name, first_name, profession, rpps) against the
	directory `entries` (by RPPS)."""
	result = {"directory_checked_on": now_datetime(), "directory_mismatch": None}
	if not has_directory or not professional.get("rpps"):
		return {"directory_status": NOT_CHECKED, "directory_checked_on": None, "directory_mismatch": None}
	entry = (entries or {}).get(professional["rpps"])
	if not entry:
		return {
			**result,
			"directory_status": ABSENT,
			"directory_mismatch": _("RPPS number not found in the directory"),
		}
	different = differences(professional, entry)
	if not different:
		return {**result, "directory_status": MATCH}
	return {**result, "directory_status": MISMATCH, "directory_mismatch": describe(different, entry)}


def describe(different: list[str], entry: dict) -> str:
	lines = []
	if "last_name" in different or "first_name" in different:
		lines.append(
			_("Name in the directory: {0} {1}").format(
				directory_name(entry.get("first_name")), directory_name(entry.get("last_name"))
			)
		)
	if "profession" in different:
		label = entry.get("profession_label") or entry.get("profession_code") or ""
		if entry.get("specialty_label"):
			label = f"{label} ({entry.get('specialty_label')})"
		lines.append(_("Profession in the directory: {0}").format(label))
	return "\n".join(lines)


def check(professional) -> None:
	"""Set the check fields of a professional being saved (its controller, when its identity changed)."""
	values = {field: professional.get(field) for field in IDENTITY_FIELDS}
	current = current_import()
	professional.update(check_result(values, entries_of([values["rpps"]]) if current else {}, bool(current)))


def check_professionals(names: list[str] | None = None, commit: bool = False) -> tuple[int, int]:
	"""Check every professional (or those named) against the current directory (after an import): one query
	for the directory, an update of the professionals whose result changed and one of the check date of the
	others (their modification date unchanged); with `commit`, committed every CHECK_BATCH professionals so
	that no row stays locked long. Returns (checked, flagged)."""
	current = current_import()
	professionals = frappe.get_all(
		"SNP Professional",
		filters={"name": ["in", names]} if names is not None else None,
		fields=["name", *IDENTITY_FIELDS, "directory_status", "directory_mismatch"],
		order_by="name asc",
		ignore_permissions=True,
	)
	entries = entries_of(p.rpps for p in professionals) if current else {}
	checked = flagged = 0
	for start in range(0, len(professionals), CHECK_BATCH):
		unchanged = []
		for professional in professionals[start : start + CHECK_BATCH]:
			result = check_result(professional, entries, bool(current))
			checked += result["directory_status"] != NOT_CHECKED
			flagged += result["directory_status"] in FLAGGED
			if (professional.directory_status, professional.directory_mismatch or None) == (
				result["directory_status"],
				result["directory_mismatch"],
			) and result["directory_checked_on"]:
				unchanged.append(professional.name)
				continue
			frappe.db.set_value("SNP Professional", professional.name, result, update_modified=False)
		if unchanged:
			Professional = frappe.qb.DocType("SNP Professional")
			frappe.qb.update(Professional).set(Professional.directory_checked_on, now_datetime()).where(
				Professional.name.isin(unchanged)
			).run()
		if commit:
			frappe.db.commit()
	return checked, flagged


# --- Lookup (the professional's form) ------------------------------------------------------------------------------
def lookup(rpps: str) -> dict:
	"""« Look up in the RPPS directory »: the names and profession of the directory for an RPPS number, as the
	professional's form fills them."""
	from cpts_snp.rules.identifiers import clean_rpps

	_check_coordination()
	rpps = clean_rpps(rpps if isinstance(rpps, str) else "")
	if not is_valid_rpps(rpps):
		frappe.throw(_("The RPPS number must have exactly 11 digits (received: {0})").format(rpps or ""))
	if not current_import():
		frappe.throw(_("The RPPS directory has not been imported yet"), frappe.DoesNotExistError)
	entry = entries_of([rpps]).get(rpps)
	if not entry:
		frappe.throw(
			_("No professional with the RPPS number {0} in the directory").format(rpps),
			frappe.DoesNotExistError,
		)
	return {
		"rpps": rpps,
		"last_name": directory_name(entry.last_name),
		"first_name": directory_name(entry.first_name),
		"profession": profession_from_directory(entry.profession_code, entry.specialty_code),
		"profession_label": entry.profession_label,
		"specialty_label": entry.specialty_label,
		"city": directory_name(entry.city),
		"postal_code": entry.postal_code,
	}


def _check_coordination() -> None:
	if frappe.session.user != "Administrator" and not COORDINATION.intersection(frappe.get_roles()):
		frappe.throw(_("Only the CPTS coordination can use the RPPS directory"), frappe.PermissionError)


def keep_check_fields(professional) -> None:
	"""The check fields are the directory's business: recomputed when the identity of a professional changes,
	kept as stored otherwise (whatever a form, an import or the API sent)."""
	if professional.is_new() or any(professional.has_value_changed(f) for f in IDENTITY_FIELDS):
		check(professional)
		return
	before = professional.get_doc_before_save()
	if before:
		for field in CHECK_FIELDS:
			professional.set(field, before.get(field))
