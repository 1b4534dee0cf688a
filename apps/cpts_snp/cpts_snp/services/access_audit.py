"""Access audit (issue 17 §2): every read of patient data by a staff user over HTTP is recorded in SNP Access Audit
— who, when, which record (or, for a list, how many and which), by which path and from where — for the data
protection officer (report « Consultations de données patients »).

One mechanism, in one place, for every path:
- a record read: the document check of cpts_snp.permissions (`has_permission` dispatcher, a read-type ptype on a
  stored record) calls `note_document`: the desk form (getdoc), REST GET /api/resource/<doctype>/<name>,
  frappe.client.get, print and PDF (/printview, download_pdf), any check an endpoint makes on a record;
- a list read: the list condition (`query` dispatcher) calls `note_list` when the request names that doctype
  (REST list, frappe.client.get_list / get_value, the desk list and report view, export, link search); the names
  and the count are those of the answer, read when the request ends;
- the app's endpoints and script reports that read patient data with their own queries (find a patient and his
  history, the call-back panel, « À replacer ») call `note_records` with what they return.

What a request read is gathered in `frappe.local` (each record once per request) and written when the request
ends (after_request hook `write_pending`), if its answer is not an error: ONE bulk insert and its own commit,
whatever the request read, never a document save (no validation, version or notification). Nothing is written
without an HTTP request (background jobs, the scheduler, the console, tests in process), for Administrator (Frappe
grants him every document before any rule of the app is asked) nor for users without a staff role: doctors and
interns read only their own records, partners' reads go to the SNP Partner Access Log. Pure counts (list view's
count, sidebar statistics) read no record and are not recorded.

Rows are read-only for everybody (the controller refuses any save or delete outside this module); the daily job
`purge_expired` deletes those older than SNP Settings' `access_audit_retention_months` (0 keeps them forever).
"""

import json

import frappe
from frappe.utils import add_months, cint, now_datetime

from cpts_snp.choices import CHOICES

AUDIT_DOCTYPE = "SNP Access Audit"
# The doctypes holding patient data (identity, phone, e-mail, reason): bookings, calls, patients, call-back
# requests, absences (the bookings they hit, SNP Absence Booking), the messages sent to patients and the minutes of
# concertation meetings (complex cases are patients).
AUDITED = frozenset(
	{
		"SNP Booking",
		"SNP Call",
		"SNP Patient",
		"SNP Callback",
		"SNP Absence",
		"SNP Absence Booking",
		"SNP Message Log",
		"SNP Meeting",
	}
)
# Doctypes whose patient data sit at a permission level (a concertation meeting's minutes and decisions, level 1):
# a user who cannot read that level reads no patient data there and is not recorded.
AUDITED_LEVEL = {"SNP Meeting": 1}
# ptypes that read a record (a check for write, create, delete… is not a read)
READS = frozenset({None, "read", "print", "email", "export", "report"})
# The kinds of read (SNP Access Audit.kind): record, list, report, export, print or PDF, search
RECORD, LIST, REPORT, EXPORT, PRINT, SEARCH = CHOICES[(AUDIT_DOCTYPE, "kind")]
# Methods that only count (the list view's count and sidebar): no record is read
COUNT_METHODS = frozenset(
	{
		"frappe.client.get_count",
		"frappe.desk.reportview.get_count",
		"frappe.desk.reportview.get_sidebar_stats",
		"frappe.desk.reportview.get_stats",
		"frappe.desk.listview.get_group_by_count",
	}
)
# Frappe's exports: of a list (report view), of a script report, of the Data Export tool
EXPORT_METHODS = frozenset(
	{
		"frappe.desk.reportview.export_query",
		"frappe.desk.query_report.export_query",
		"frappe.core.doctype.data_export.exporter.export_data",
	}
)
# Methods reading one record's values through a list query (frappe.client.validate_link asks get_value)
RECORD_METHODS = frozenset({"frappe.client.get_value", "frappe.client.validate_link"})
MAX_NAMES = 100  # names kept on a list row (the count says how many there were)
MAX_TEXT = 1000  # characters of the filters kept


# --- noting a read (called from cpts_snp.permissions and the app's endpoints) ------------------------------------
def note_document(doc, ptype, user: str) -> None:
	"""Document check of an app record (permissions.has_permission): a read of a stored record of patient data by
	the session's staff user, in a request."""
	if doc.doctype not in AUDITED or ptype not in READS or not _audited_request(user):
		return
	if not _reads_patient_level(doc.doctype, user):
		return
	if not doc.name or doc.is_new():
		return
	_pending()["records"].setdefault((doc.doctype, doc.name, _kind(RECORD)), None)


def note_list(doctype: str, user: str) -> None:
	"""List condition of an app doctype (permissions.query): a list of patient data the request asked for by name
	(its `doctype` argument, or the REST path); names and count are read from the answer at the end."""
	if doctype not in AUDITED or not _audited_request(user) or _requested_doctype() != doctype:
		return
	if not _reads_patient_level(doctype, user):
		return
	method = _method()
	if method in COUNT_METHODS:
		return
	kind = _kind(RECORD if method in RECORD_METHODS else LIST)
	_pending()["lists"].setdefault((doctype, kind), {"names": None, "from_answer": True})


def note_records(doctype: str, names, kind: str = LIST) -> None:
	"""What an endpoint or a script report of the app returned of `doctype` (names, in order): one list row of
	the request (names added to those already noted)."""
	if doctype not in AUDITED or not _audited_request(frappe.session.user):
		return
	if _kind(kind) in (EXPORT, PRINT):  # a report exported or printed: its rows left in a file
		kind = _kind(kind)
	entry = _pending()["lists"].setdefault((doctype, kind), {"names": [], "from_answer": False})
	if entry["names"] is None:
		entry["names"], entry["from_answer"] = [], False
	seen = set(entry["names"])
	entry["names"].extend(name for name in names if name and name not in seen and not seen.add(name))


def _audited_request(user: str) -> bool:
	"""Whether this is an HTTP request of `user`, the session's, holding a staff role (known once per request)."""
	request = getattr(frappe.local, "request", None)
	if request is None or user != frappe.session.user or user in ("Administrator", "Guest"):
		return False
	known = frappe.flags.cpts_audited_user
	if not known or known[0] != user:
		from cpts_snp.permissions import STAFF_ROLES

		known = frappe.flags.cpts_audited_user = (
			user,
			bool(STAFF_ROLES.intersection(frappe.get_roles(user))),
		)
	return known[1]


def _reads_patient_level(doctype: str, user: str) -> bool:
	level = AUDITED_LEVEL.get(doctype)
	return not level or level in frappe.get_meta(doctype).get_permlevel_access("read", user=user)


def _pending() -> dict:
	pending = getattr(frappe.local, "cpts_access_audit", None)
	if pending is None:
		pending = frappe.local.cpts_access_audit = {"records": {}, "lists": {}}
	return pending


def _path() -> str:
	return getattr(frappe.local.request, "path", None) or ""


def _method() -> str:
	"""The whitelisted method of the request (/api/method/<method>), else ''."""
	path = _path()
	if path.startswith("/api/method/"):
		return path[len("/api/method/") :].strip("/")
	return frappe.local.form_dict.get("cmd") or ""


def _requested_doctype() -> str | None:
	"""The doctype the request names: its `doctype` argument, or /api/resource/<doctype>[/<name>]."""
	doctype = frappe.local.form_dict.get("doctype")
	if isinstance(doctype, str) and doctype:
		return doctype
	path = _path()
	for prefix in ("/api/resource/", "/api/v1/resource/", "/api/v2/document/"):
		if path.startswith(prefix):
			return path[len(prefix) :].split("/", 1)[0]
	return None


def _kind(default: str) -> str:
	"""The kind of read of the request: print, export, report, search by its path, else `default`."""
	path, method = _path(), _method()
	if path.startswith("/printview") or method.startswith(
		("frappe.utils.print_format.", "frappe.www.printview.")
	):
		return PRINT
	if method in EXPORT_METHODS:
		return EXPORT
	if method.startswith("frappe.desk.query_report."):
		return REPORT
	if method.startswith("frappe.desk.search."):
		return SEARCH
	return default


# --- writing them: once, when the request ends --------------------------------------------------------------------
def write_pending(response=None, request=None) -> None:
	"""after_request hook: the reads noted during the request, in one bulk insert and its own commit (the request's
	transaction is already committed or rolled back); nothing when the answer is an error."""
	pending = getattr(frappe.local, "cpts_access_audit", None)
	if not pending:
		return
	frappe.local.cpts_access_audit = None
	if response is None or getattr(response, "status_code", 500) >= 400 or not frappe.db:
		return
	rows = _rows(pending)
	if not rows:
		return
	try:
		frappe.db.bulk_insert(AUDIT_DOCTYPE, list(rows[0]), [tuple(row.values()) for row in rows])
		frappe.db.commit()
	except Exception:
		frappe.db.rollback()
		frappe.logger("cpts_snp").error("access audit not written", exc_info=True)


def _rows(pending: dict) -> list[dict]:
	request = frappe.local.request
	now, user = now_datetime(), frappe.session.user
	from cpts_snp.permissions import STAFF_ROLES

	common = {
		"owner": user,
		"creation": now,
		"modified": now,
		"modified_by": user,
		"timestamp": now,
		"user": user,
		"roles": ", ".join(sorted(STAFF_ROLES.intersection(frappe.get_roles(user))))[:140],
		"method": _path()[:140],
		"ip_address": (frappe.local.request_ip or "")[:140],
		"user_agent": (getattr(request, "headers", {}).get("User-Agent") or "")[:140],
		"filters": _filters(),
	}
	rows = []

	def row(doctype, kind, name, count, names):
		rows.append(
			{
				"name": frappe.generate_hash(length=10),
				**common,
				"kind": kind,
				"reference_doctype": doctype,
				"reference_name": name,
				"record_count": count,
				"records": "\n".join(names[:MAX_NAMES]) if names else None,
			}
		)

	for doctype, name, kind in pending["records"]:
		row(doctype, kind, name, 1, None)
	answer = _answer()
	for (doctype, kind), entry in pending["lists"].items():
		names, count = entry["names"], None
		if entry["from_answer"]:
			names, count = _names_in_export() if kind == EXPORT else _names_in(answer)
			if not names:
				names = _names_in_filters() or names
		if count is None and names is not None:
			count = len(names)
		row(doctype, kind, names[0] if names and len(names) == 1 else None, count or 0, names)
	return rows


def _answer():
	response = frappe.local.response
	for key in ("message", "data"):
		if response.get(key) is not None:
			return response.get(key)
	return None


def _names_in(data) -> tuple[list[str] | None, int | None]:
	"""(names, number of rows) of a list answer: REST and frappe.client lists (dicts), the desk's list view
	(keys and values), a report (result), a link search (value), frappe.client.get_value (one record)."""
	if isinstance(data, dict):
		if isinstance(data.get("keys"), list) and isinstance(data.get("values"), list):
			keys, values = data["keys"], data["values"]
			at = keys.index("name") if "name" in keys else None
			names = [row[at] for row in values if at is not None and isinstance(row, list | tuple)]
			return [str(n) for n in names if n], len(values)
		if isinstance(data.get("result"), list):
			data = data["result"]
		else:
			return ([str(data["name"])] if data.get("name") else None), (1 if data else 0)
	if not isinstance(data, list):
		return None, None
	names = [
		row.get("name") or row.get("value")
		for row in data
		if isinstance(row, dict) and isinstance(row.get("name") or row.get("value"), str)
	]
	return names, len(data)


def _names_in_export() -> tuple[list[str] | None, int | None]:
	"""(names, number of rows) of the file Frappe's export made (frappe.desk.reportview.export_query: a header
	row, then one row per record; the names in its « ID » column when it was exported)."""
	import csv
	import io

	response = frappe.local.response
	content, filename = response.get("filecontent"), response.get("filename") or ""
	if response.get("type") != "binary" or not content:
		return None, None
	try:
		if filename.endswith(".csv"):
			text = content.decode("utf-8-sig") if isinstance(content, bytes) else content
			rows = list(csv.reader(io.StringIO(text)))
		elif filename.endswith(".xlsx"):
			from openpyxl import load_workbook

			sheet = load_workbook(io.BytesIO(content), read_only=True).active
			rows = [list(row) for row in sheet.iter_rows(values_only=True)]
		else:
			return None, None
	except Exception:
		return None, None
	if not rows:
		return None, 0
	records = rows[1:]
	at = _name_column()
	names = [str(row[at]) for row in records if at is not None and len(row) > at and row[at]]
	return (names or None), len(records)


def _name_column() -> int | None:
	"""The column of the names in an export: the place of `name` among the fields asked, after Frappe's « Sr »."""
	fields = frappe.local.form_dict.get("fields")
	try:
		fields = json.loads(fields) if isinstance(fields, str) else fields
	except ValueError:
		return None
	for at, field in enumerate(fields or []):
		if isinstance(field, str) and field.replace("`", "").split(".")[-1].strip() == "name":
			return at + 1
	return None


def _names_in_filters() -> list[str] | None:
	"""The record a request named in its filters (frappe.client.get_value with a name, or {"name": …})."""
	filters = frappe.local.form_dict.get("filters")
	if isinstance(filters, str):
		try:
			filters = json.loads(filters)
		except ValueError:
			return [filters[:140]] if filters else None
	if isinstance(filters, dict) and isinstance(filters.get("name"), str):
		return [filters["name"]]
	return None


def _filters() -> str | None:
	"""What the request asked (filters, search text, fields, selection), as JSON, shortened."""
	form = frappe.local.form_dict or {}
	asked = {
		key: form.get(key)
		for key in ("filters", "or_filters", "txt", "fields", "selected_items", "report_name", "name")
		if form.get(key) not in (None, "", [], {})
	}
	for key in ("phone", "last_name", "first_name", "date_of_birth"):  # find a patient
		if form.get(key):
			asked[key] = form.get(key)
	return json.dumps(asked, default=str, ensure_ascii=False)[:MAX_TEXT] if asked else None


# --- retention ------------------------------------------------------------------------------------------------
def purge_expired(months: int | None = None) -> int:
	"""Daily job: delete the audit rows older than `months` (by default SNP Settings' access_audit_retention_months;
	0 keeps them forever), a thousand at a time, each batch committed. Returns how many were deleted."""
	if months is None:
		months = cint(frappe.db.get_single_value("SNP Settings", "access_audit_retention_months"))
	if months <= 0:
		return 0
	cutoff, deleted = add_months(now_datetime(), -months), 0
	while names := frappe.get_all(
		AUDIT_DOCTYPE, {"timestamp": ["<", cutoff]}, pluck="name", order_by="timestamp asc", limit=1000
	):
		frappe.db.delete(AUDIT_DOCTYPE, {"name": ["in", names]})
		frappe.db.commit()
		deleted += len(names)
	return deleted
