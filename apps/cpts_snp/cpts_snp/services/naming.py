"""Names of the app's records (`RDV-2026-00042`, `CR-2026-01234`…) numbered by one database sequence per doctype.

The doctypes keep their `format:PREFIX-{YYYY}-{#####}` autoname in their JSON (the form shows it, the demo and
the tests read it), but their controllers name new records here. Frappe v15 would number every `format:` name of
the app from one shared row of `tabSeries` (key `''`), incremented inside the inserting transaction and so locked
until it commits: every booking, slot, call… of the CPTS would wait for the one before to commit. A sequence
(`NEXTVAL`) is not transactional: it hands out the next number at once and holds no lock. A rolled-back insert
leaves a gap in the numbers, as with any database sequence; names are unique, never reused, and grow with time.

`ensure_sequences()` (after install and after every migrate) creates the sequences and moves each one past the
highest number already used by its doctype, so existing sites, restored backups and bulk-loaded data stay safe.
"""

import re

import frappe
from frappe.database.sequence import create_sequence, get_next_val
from frappe.utils import now_datetime

SLUG = "_name_seq"
# the autoname this module understands: a fixed prefix, optional date parts, then the number
FORMAT = re.compile(r"^format:(?P<pattern>[^{}]*(?:\{(?:YYYY|YY|MM|DD)\}[^{}]*)*\{(?P<hashes>#+)\})$")
DATE_PARTS = {"YYYY": "%Y", "YY": "%y", "MM": "%m", "DD": "%d"}


def doctypes() -> list[str]:
	"""The doctypes named here: every doctype of the app with a `format:` autoname (its controller's `autoname`
	calls `set_name`)."""
	modules = frappe.get_all("Module Def", filters={"app_name": "cpts_snp"}, pluck="name")
	return frappe.get_all(
		"DocType",
		filters={"module": ["in", modules], "autoname": ["like", "format:%"]},
		pluck="name",
		order_by="name",
	)


def pattern_of(doctype: str) -> str:
	"""`PREFIX-{YYYY}-{#####}` from the doctype's `format:` autoname."""
	match = FORMAT.match(frappe.get_meta(doctype).autoname or "")
	if not match:
		raise ValueError(f"{doctype}: autoname is not a format: name with one {{###}} part")
	return match.group("pattern")


def format_name(pattern: str, moment, number: int) -> str:
	"""The name `pattern` gives the `number`-th record created at `moment`."""

	def part(match):
		value = match.group(1)
		if value.startswith("#"):
			return str(number).zfill(len(value))
		return moment.strftime(DATE_PARTS[value])

	return re.sub(r"\{([^{}]+)\}", part, pattern)


def set_name(doc) -> None:
	"""Controllers' `autoname`: the next number of the doctype's sequence, in its `format:` pattern."""
	doc.name = format_name(pattern_of(doc.doctype), now_datetime(), get_next_val(doc.doctype, slug=SLUG))


def sequence_name(doctype: str) -> str:
	return frappe.scrub(doctype + SLUG)


def next_number(doctype: str) -> int | None:
	"""The number the doctype's sequence hands out next (without taking it), None without a sequence."""
	try:
		return frappe.db.sql(f"SELECT next_not_cached_value FROM `{sequence_name(doctype)}`")[0][0]
	except Exception as e:
		if frappe.db.is_table_missing(e):
			return None
		raise


def sequences_behind() -> list[str]:
	"""Doctypes whose sequence is missing or would hand out a name already used (none on a sound site)."""
	behind = []
	for doctype in doctypes():
		upcoming = next_number(doctype)
		if upcoming is None or upcoming <= highest_number(doctype):
			behind.append(doctype)
	return behind


def reserve(doctype: str, count: int) -> list[int]:
	"""`count` numbers of the doctype's sequence, for records inserted in bulk (the demo year)."""
	return [get_next_val(doctype, slug=SLUG) for _ in range(count)]


def name_regexp(pattern: str) -> str:
	"""A MariaDB regular expression matching the names of `pattern`."""
	parts = re.split(r"(\{[^{}]+\})", pattern)
	width = {"YYYY": "{4}", "YY": "{2}", "MM": "{2}", "DD": "{2}"}
	return (
		"^"
		+ "".join(
			("[0-9]+" if "#" in part else "[0-9]" + width[part[1:-1]])
			if part.startswith("{")
			else re.escape(part)
			for part in parts
		)
		+ "$"
	)


def highest_number(doctype: str) -> int:
	"""The highest number used by the existing names of `doctype` that follow its pattern."""
	pattern = pattern_of(doctype)
	value = frappe.db.sql(
		f"""SELECT MAX(CAST(REGEXP_SUBSTR(`name`, '[0-9]+$') AS UNSIGNED)) FROM `tab{doctype}`
		WHERE `name` REGEXP %s""",
		name_regexp(pattern),
	)[0][0]
	return int(value or 0)


def ensure_sequences() -> None:
	"""Create the missing sequences and move every sequence past the numbers its doctype already uses."""
	for doctype in doctypes():
		sequence = create_sequence(doctype, slug=SLUG, check_not_exists=True)
		used = highest_number(doctype)
		if used:
			# SETVAL never moves a sequence backwards (its last argument: `used` counts as handed out).
			frappe.db.sql(f"SELECT SETVAL(`{sequence}`, %s, 1)", used)
