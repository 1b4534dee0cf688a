"""Who may read and change what: the app's whole access model, in one module.

- Role permissions (DocPerm) sit in the doctype JSON. Website users — doctors (Médecin SNP), interns (Interne SNP)
  and partners (Partenaire SNP) — hold READ permissions only: the app's endpoints (cpts_snp.api.portal,
  cpts_snp.api.partners, /fhir) are their only way to change data; each checks ownership first, then writes.
- Record rules: `RECORD_RULES` maps each app doctype to its list condition and document check
  (hooks: permission_query_conditions and has_permission point at the two dispatchers `query` and
  `has_permission` below). Staff (coordinator, telesecretariat, finance, system managers) see every record their
  role allows; a doctor only what is his. Child tables follow their parent's rule.
- A document check judges the STORED record: Frappe's REST PUT and `frappe.client.set_value` apply the caller's
  values before asking for the write permission, so a rule reading the new values could be satisfied by the very
  change it should refuse.
- Server-owned fields (`SERVER_OWNED`): the fields saying whose a record is, or who did what, change only through
  the app's own code (`server_write(doc)`) or, where given, by the roles entitled to, whatever the path (REST,
  frappe.client, bulk edit, Data Import, form save): `guard_server_owned` runs before every save of those doctypes.
- Frappe methods that ignore record rules are overridden for the app's doctypes (`get_count`).
"""

import frappe
from frappe import _
from frappe.model.document import Document

from cpts_snp.api import endpoint
from cpts_snp.services import access_audit

STAFF_ROLES = {"System Manager", "Coordinateur CPTS", "Télésecrétaire", "Comptable CPTS", "Trésorier CPTS"}
COORDINATION = frozenset({"System Manager", "Coordinateur CPTS"})
SERVER_ONLY = frozenset()
# ptypes that only read: judged on the document as given (the stored one, on every generic read path)
READ_TYPES = {None, "read", "select", "print", "email", "report", "export", "share"}

# Fields that say whose a record is or who did what, and the roles that may change them outside the app's code
# (SERVER_ONLY: nobody; the app's services mark their documents with `server_write`). New records are judged by
# the create permission (has_permission on the new values), changes by this table.
SERVER_OWNED = {
	"SNP Booking": (
		(
			"slot",
			"active_slot",
			"professional",
			"professional_name",
			"slot_start",
			"sector",
			"partner",
			"channel",
			"booked_by",
			"is_snp",
			"is_pdsa",
			"supplement_eligible",
			"supplement_note",
			"operator_id_type",
			"operator_id",
			"operator_name",
			"patient",
			"cancelled_by",
			"to_rebook",
			"rebook_outcome",
			"rebooked_as",
			"rebooked_from",
			"anonymised_on",
		),
		SERVER_ONLY,
	),
	"SNP Slot": (
		("professional", "professional_name", "opened_to_partners_at", "still_free_alert_at"),
		COORDINATION,
	),
	"SNP Absence": (("professional", "professional_name", "cancelled_slots"), SERVER_ONLY),
	# what was sent about a booking, and what the gateway answered (cpts_snp.services.sms): the app's record
	"SNP Message Log": (
		("booking", "kind", "channel", "recipient", "message", "status", "unique_key", "sent_at")
		+ ("http_status", "answer", "error", "attempts", "retried_by"),
		SERVER_ONLY,
	),
	"SNP Availability Template": (("professional", "professional_name"), COORDINATION),
	# the RPPS directory check (cpts_snp.services.directory) is the directory's: recomputed, never typed
	"SNP Professional": (
		("user", "directory_status", "directory_checked_on", "directory_mismatch"),
		COORDINATION,
	),
	"SNP Intern": (("professional", "user", "supervisors"), COORDINATION),
	"SNP Debrief": (("booking", "intern", "intern_name", "consultation_at"), SERVER_ONLY),
	"SNP Supervision Shift": (("supervisor", "supervisor_name"), COORDINATION),
	"SNP Permanence Swap": (
		(
			"permanence",
			"permanence_start",
			"from_professional",
			"to_professional",
			"decided_by",
			"decided_at",
		),
		SERVER_ONLY,
	),
	"SNP Call": (("booking", "handled_by", "patient", "anonymised_on"), SERVER_ONLY),
	"SNP Patient": (("dedup_key", "merged_into", "merged_by", "merged_on"), SERVER_ONLY),
	"SNP Callback": (
		("patient", "call", "requested_by", "booking", "closed_reason", "offers", "anonymised_on"),
		SERVER_ONLY,
	),
	# RGPD (cpts_snp.services.privacy): what was found, exported and erased is the application's record
	"SNP Data Subject Request": (
		("status", "identity_hash", "found_count", "counts", "records", "searched_on", "searched_by")
		+ ("export_json", "export_pdf", "exported_on", "exported_by", "erased_on", "erased_by"),
		SERVER_ONLY,
	),
	"SNP Payment Run": (("computed_by", "computed_at", "approved_by", "paid_on"), SERVER_ONLY),
	"SNP Indemnity Payment": (
		("run", "professional", "amount", "iban", "bic", "paid_on", "lines"),
		SERVER_ONLY,
	),
	"SNP Partner": (("users", "certificate_cn", "certificate_ou", "certificate_user"), COORDINATION),
	# a regulator account as the SAS platform manages it (INT_R02, cpts_snp.services.sas_regulators): its
	# identifiers and authorisation are the platform's, whoever edits the partner's list of users
	"SNP Partner User": (("national_id", "sas_id", "active", "sas_managed", "sas_updated_on"), SERVER_ONLY),
	# who confirmed a meeting's attendance, and when: cpts_snp.services.meetings.confirm_attendance only
	"SNP Meeting": (("confirmed_by", "confirmed_on"), SERVER_ONLY),
}
# Child rows never change parent (a REST PUT on a row could otherwise move it to another record).
CHILD_OWNED = ("parent", "parenttype", "parentfield")


def server_write(doc):
	"""Mark `doc` as written by the app's own code (a service that checked the caller's right itself): its
	server-owned fields may change in its next save. Returns the document."""
	doc.flags.cpts_server_write = True
	return doc


def guard_server_owned(doc, method=None) -> None:
	"""Before every save of an app doctype (doc_events): refuse a change of a server-owned field (or of a child
	row's parent) unless the app's code made it or the user holds a role entitled to it."""
	if doc.flags.cpts_server_write or doc.flags.ignore_permissions:
		return
	_guard_server_owned_rows(doc)
	if doc.is_new():
		return
	fields, entitled = SERVER_OWNED.get(doc.doctype, ((), SERVER_ONLY))
	if doc.get("parenttype"):
		fields = (*fields, *CHILD_OWNED)
	if not fields or (entitled and entitled.intersection(frappe.get_roles())):
		return
	stored = doc.get_doc_before_save() or frappe.get_doc(doc.doctype, doc.name)
	changed = [field for field in fields if _value(stored, field) != _value(doc, field)]
	if changed:
		labels = ", ".join(_(doc.meta.get_label(field)) for field in changed)
		frappe.throw(
			_("{0} is set by the application and cannot be changed here: {1}").format(_(doc.doctype), labels),
			frappe.PermissionError,
		)


def _guard_server_owned_rows(doc) -> None:
	"""The rows of `doc`'s child tables whose doctype has server-owned fields (saved with their parent, so no
	hook of their own runs): a stored row keeps their values, a new row comes with their defaults, unless the user
	holds a role entitled to them."""
	for table in doc.meta.get_table_fields():
		fields, entitled = SERVER_OWNED.get(table.options, ((), SERVER_ONLY))
		if not fields or (entitled and entitled.intersection(frappe.get_roles())):
			continue
		stored = {}
		if not doc.is_new():
			before = doc.get_doc_before_save() or frappe.get_doc(doc.doctype, doc.name)
			stored = {row.name: row for row in before.get(table.fieldname) or []}
		blank = frappe.new_doc(table.options)
		for row in doc.get(table.fieldname) or []:
			reference = stored.get(row.name, blank)
			changed = [field for field in fields if _value(reference, field) != _value(row, field)]
			if changed:
				labels = ", ".join(_(row.meta.get_label(field)) for field in changed)
				frappe.throw(
					_("{0} is set by the application and cannot be changed here: {1}").format(
						_(row.doctype), labels
					),
					frappe.PermissionError,
				)


def _value(doc, field):
	"""A comparable value of `field`, whatever form it has in memory (a check as True or 1, a datetime as text or
	object); a child table: the content of its rows."""
	from frappe.utils import cint, flt, get_datetime

	value = doc.get(field)
	if isinstance(value, list):
		return [
			tuple(sorted((k, str(v)) for k, v in row.as_dict(no_default_fields=True).items() if k != "idx"))
			for row in value
		]
	if value in (None, ""):
		return None
	fieldtype = (doc.meta.get_field(field) or frappe._dict()).fieldtype
	if fieldtype in ("Check", "Int"):
		return cint(value)
	if fieldtype in ("Float", "Currency", "Percent"):
		return flt(value, 6)
	if fieldtype in ("Datetime", "Date"):
		return str(get_datetime(value))
	return str(value)


# who sends a failed SMS again (the desk that answers the patients, and the coordination)
MESSAGE_RESENDERS = COORDINATION | {"Télésecrétaire"}


def can_resend_messages(user: str | None = None) -> bool:
	return bool(MESSAGE_RESENDERS & set(frappe.get_roles(user or frappe.session.user)))


def is_staff(user: str | None = None) -> bool:
	user = user or frappe.session.user
	return user == "Administrator" or bool(STAFF_ROLES.intersection(frappe.get_roles(user)))


def professional_of(user: str | None = None) -> str | None:
	"""The SNP Professional linked to `user`, if any."""
	return frappe.db.get_value("SNP Professional", {"user": user or frappe.session.user}, "name")


# --- Dispatchers (the hooks of every app doctype point here) ------------------------------------------------------
def query(user: str | None = None, doctype: str | None = None) -> str:
	"""permission_query_conditions of an app doctype: its rule, or its parent's for a child table."""
	user = user or frappe.session.user
	access_audit.note_list(doctype, user)  # a staff list of patient data: the access audit
	if _filters_on_hidden_fields(doctype, user):
		return "1 = 0"
	rule = RECORD_RULES.get(doctype)
	if rule:
		return rule[0](user)
	parents = CHILD_PARENTS.get(doctype)
	if parents is None:
		return ""
	if is_staff(user):
		return ""
	conditions = []
	for parent in parents:
		if frappe.get_meta(parent).issingle:
			# the rows of a single doctype (settings): whoever reads the doctype
			if frappe.has_permission(parent, "read", user=user):
				conditions.append(f"`tab{doctype}`.`parenttype` = {frappe.db.escape(parent)}")
			continue
		condition = query(user, parent)
		inner = f" WHERE {condition}" if condition else ""
		conditions.append(
			f"(`tab{doctype}`.`parenttype` = {frappe.db.escape(parent)} AND `tab{doctype}`.`parent` IN "
			f"(SELECT `tab{parent}`.`name` FROM `tab{parent}`{inner}))"
		)
	return "(" + " OR ".join(conditions) + ")" if conditions else "1 = 0"


def _filters_on_hidden_fields(doctype: str | None, user: str) -> bool:
	"""Whether the request filters or sorts a list of `doctype` on a field the user may not read (an IBAN, at
	permission level 1): Frappe hides such fields from the answer but applies filters on them, so a list could
	reveal an IBAN piece by piece (`like FR76%`). Such a list is then empty."""
	hidden = _hidden_fields(doctype, user)
	if not hidden:
		return False
	form = getattr(frappe.local, "form_dict", None) or {}
	asked = " ".join(
		frappe.as_json(form.get(key)) if not isinstance(form.get(key), str) else form.get(key)
		for key in (
			"filters",
			"or_filters",
			"order_by",
			"group_by",
			"fields",
			"sort_by",
			"txt",
			"searchfield",
		)
		if form.get(key)
	)
	if not asked:
		return False
	import re

	words = set(re.findall(r"[A-Za-z_][A-Za-z0-9_]*", asked))
	return bool(words & hidden)


def _hidden_fields(doctype: str | None, user: str) -> set[str]:
	"""The fields of `doctype` above the permission levels `user` may read."""
	if not doctype or doctype not in APP_DOCTYPES or user == "Administrator":
		return set()
	meta = frappe.get_meta(doctype)
	levels = {df.permlevel for df in meta.fields if df.permlevel}
	if not levels:
		return set()
	readable = set(meta.get_permlevel_access("read", user=user))
	return {df.fieldname for df in meta.fields if df.permlevel and df.permlevel not in readable}


def has_permission(doc, ptype=None, user=None, debug=False) -> bool | None:
	"""has_permission of an app doctype, judged on the stored record for anything but a read."""
	user = user or frappe.session.user
	access_audit.note_document(doc, ptype, user)  # a staff read of patient data: the access audit
	if doc.get("parenttype") and doc.doctype in CHILD_PARENTS:
		return _child_has_permission(doc, ptype, user)
	rule = RECORD_RULES.get(doc.doctype)
	if not rule:
		return None
	if ptype not in READ_TYPES and not doc.is_new() and not doc.flags.cpts_server_write:
		if not frappe.db.exists(doc.doctype, doc.name):
			return False
		doc = frappe.get_doc(doc.doctype, doc.name)
	return rule[1](doc, ptype, user)


def _child_has_permission(doc, ptype, user) -> bool | None:
	"""A child row: the rule of the record it is stored in."""
	if is_staff(user):
		return None
	stored = doc
	if not doc.is_new() and frappe.db.exists(doc.doctype, doc.name):
		stored = frappe.db.get_value(doc.doctype, doc.name, ["parent", "parenttype"], as_dict=True)
	if stored.parenttype not in CHILD_PARENTS.get(doc.doctype, ()):
		return False
	if not stored.parent or not frappe.db.exists(stored.parenttype, stored.parent):
		return False
	parent = frappe.get_doc(stored.parenttype, stored.parent)
	return frappe.has_permission(
		stored.parenttype, "read" if ptype in READ_TYPES else "write", parent, user=user
	)


class ChildRow(Document):
	"""Base of the app's child-table controllers. Frappe judges a child row read on its own (REST GET of the
	row, frappe.client.get) on its parent DOCTYPE only; a row of the app is judged on the record it is stored in,
	as read from the database."""

	def has_permission(self, permtype="read", *, debug=False, user=None) -> bool:
		if self.flags.ignore_permissions:
			return True
		return _child_has_permission(self, permtype, user or frappe.session.user) is not False and (
			super().has_permission(permtype, debug=debug, user=user)
		)


@frappe.whitelist()
@endpoint
def get_count(doctype, filters=None, debug=False, cache=False):
	"""Override of frappe.client.get_count: Frappe counts with frappe.db.count, without record rules; for the
	app's doctypes the count is that of the records the caller may read (the same rule as lists)."""
	from frappe.client import get_count as frappe_get_count

	_known_doctype(doctype)

	if not is_app_doctype(doctype) and doctype not in ATTACHED_TO_RECORDS:
		return frappe_get_count(doctype, filters, debug, cache)
	rows = frappe.get_list(
		doctype, filters=frappe.client.get_safe_filters(filters), fields=["count(*) as total"], debug=debug
	)
	return rows[0].total if rows else 0


@frappe.whitelist()
@endpoint
def get_value(doctype, fieldname, filters=None, as_dict=True, debug=False, parent=None):
	"""Override of frappe.client.get_value: for a single doctype of the app (SNP Settings) Frappe reads any
	field once the doctype is readable; here only the fields of the caller's permission levels."""
	from frappe.client import get_value as frappe_get_value

	_known_doctype(doctype)

	if is_app_doctype(doctype) and frappe.get_meta(doctype).issingle:
		try:
			fields = frappe.parse_json(fieldname)
		except (TypeError, ValueError):
			fields = fieldname
		_check_single_fields(doctype, fields if isinstance(fields, list) else [fields])
	return frappe_get_value(doctype, fieldname, filters, as_dict, debug, parent)


@frappe.whitelist()
@endpoint
def get_single_value(doctype, field):
	"""Override of frappe.client.get_single_value, with the same permission levels as get_value."""
	from frappe.client import get_single_value as frappe_get_single_value

	_known_doctype(doctype)

	if is_app_doctype(doctype):
		_check_single_fields(doctype, [field])
	return frappe_get_single_value(doctype, field)


def _check_single_fields(doctype: str, fields: list) -> None:
	from frappe.model import get_permitted_fields

	if not frappe.has_permission(doctype, "read"):
		frappe.throw(_("No permission for {0}").format(_(doctype)), frappe.PermissionError)
	permitted = set(get_permitted_fields(doctype))
	if any(not isinstance(field, str) or field not in permitted for field in fields):
		frappe.throw(_("No permission for {0}").format(_(doctype)), frappe.PermissionError)


@frappe.whitelist()
@endpoint
def getdoc(doctype, name, user=None):
	"""Override of frappe.desk.form.load.getdoc: the form's history (Version) of an app record shows only the
	changes of fields the caller may read (Frappe sends every change, an IBAN's included)."""
	from frappe.desk.form.load import getdoc as frappe_getdoc

	_known_doctype(doctype)

	frappe_getdoc(doctype, name, user)
	_filter_history(doctype, frappe.response.get("docinfo"))


@frappe.whitelist()
@endpoint
def get_docinfo(doc=None, doctype=None, name=None):
	"""Override of frappe.desk.form.load.get_docinfo, with the history filtered as in getdoc."""
	from frappe.desk.form.load import get_docinfo as frappe_get_docinfo

	if not isinstance(doc, Document):
		doc = None  # over HTTP a document is named by doctype and name, never sent whole
		_known_doctype(doctype)
		if not isinstance(name, str) or not frappe.db.exists(doctype, name):
			frappe.throw(_("{0} {1} not found").format(_(doctype), name), frappe.DoesNotExistError)

	frappe_get_docinfo(doc, doctype, name)
	_filter_history(doctype or getattr(doc, "doctype", None), frappe.response.get("docinfo"))


def _filter_history(doctype: str | None, docinfo) -> None:
	import json

	from frappe.model import get_permitted_fields

	if not docinfo or not doctype or not is_app_doctype(doctype) or not docinfo.get("versions"):
		return
	permitted = set(get_permitted_fields(doctype))
	meta = frappe.get_meta(doctype)
	for version in docinfo["versions"]:
		data = json.loads(version.get("data") or "{}")
		data["changed"] = [c for c in data.get("changed") or [] if c and c[0] in permitted]
		for key in ("row_changed", "added", "removed"):
			rows = []
			for row in data.get(key) or []:
				table = meta.get_field(row[0]) if row else None
				if not table or row[0] not in permitted:
					continue
				if key == "row_changed" and len(row) > 3:
					child = set(get_permitted_fields(table.options, parenttype=doctype))
					row = [*row[:3], [c for c in row[3] if c and c[0] in child]]
				rows.append(row)
			data[key] = rows
		version["data"] = json.dumps(data)


def is_app_doctype(doctype: str) -> bool:
	return doctype in RECORD_RULES or doctype in CHILD_PARENTS or doctype in APP_DOCTYPES


# --- What Frappe attaches to a record (files, comments, history) follows the record --------------------------------
ATTACHED_TO_RECORDS = {
	"File": ("attached_to_doctype", "attached_to_name"),
	"Comment": ("reference_doctype", "reference_name"),
	"Version": ("ref_doctype", "docname"),
}


def attached_query(user: str | None = None, doctype: str | None = None) -> str:
	"""permission_query_conditions of File, Comment and Version (ANDed with Frappe's own): those of an app record
	are listed only to whom may read the record."""
	user = user or frappe.session.user
	if user == "Administrator":
		return ""
	doctype_field, name_field = ATTACHED_TO_RECORDS[doctype]
	table = f"`tab{doctype}`"
	readable = [
		f"{table}.`{doctype_field}` IS NULL",
		f"{table}.`{doctype_field}` NOT IN {_app_doctypes_sql()}",
	]
	for app_doctype in sorted(APP_DOCTYPES):
		if _DOCTYPES[app_doctype] or not frappe.has_permission(app_doctype, "read", user=user):
			continue
		match = f"{table}.`{doctype_field}` = {frappe.db.escape(app_doctype)}"
		if frappe.get_meta(app_doctype).issingle:
			readable.append(f"({match})")
			continue
		condition = query(user, app_doctype)
		inner = f" WHERE {condition}" if condition else ""
		readable.append(
			f"({match} AND {table}.`{name_field}` IN (SELECT `tab{app_doctype}`.`name` FROM `tab{app_doctype}`{inner}))"
		)
	return "(" + " OR ".join(readable) + ")"


def attached_has_permission(doc, ptype=None, user=None, debug=False) -> bool | None:
	"""A file, comment or version of an app record: read with the record, written only with the right to
	write the record."""
	user = user or frappe.session.user
	doctype_field, name_field = ATTACHED_TO_RECORDS[doc.doctype]
	reference, name = doc.get(doctype_field), doc.get(name_field)
	if user == "Administrator" or reference not in APP_DOCTYPES:
		return None
	if not name or not frappe.db.exists(reference, name):
		return False if ptype not in READ_TYPES else None
	right = "read" if ptype in READ_TYPES else "write"
	return None if frappe.has_permission(reference, right, doc=name, user=user) else False


def guard_attachment(doc, method=None) -> None:
	"""Before a file is attached to an app record (frappe.handler.upload_file, REST POST File…): only someone who
	may write the record attaches to it (Frappe's upload checks and then ignores the answer), and the file is
	private (a public file is served to anyone who has its address)."""
	if doc.attached_to_doctype not in APP_DOCTYPES or doc.flags.ignore_permissions:
		return
	name = doc.attached_to_name
	record = name if name and frappe.db.exists(doc.attached_to_doctype, name) else None
	if frappe.session.user != "Administrator" and not frappe.has_permission(
		doc.attached_to_doctype, "write", doc=record
	):
		frappe.throw(_("You cannot attach a file to this record"), frappe.PermissionError)
	doc.is_private = 1


@frappe.whitelist(methods=["POST"])
@endpoint
def add_comment(
	reference_doctype: str, reference_name: str, content: str, comment_email: str, comment_by: str
):
	"""Override of frappe.desk.form.utils.add_comment: Frappe lets anyone who reads a record comment on it; on an
	app record a comment is a write (doctors, interns and partners write only through the app's endpoints)."""
	from frappe.desk.form.utils import add_comment as frappe_add_comment

	_known_doctype(reference_doctype)

	if reference_doctype in APP_DOCTYPES:
		frappe.has_permission(reference_doctype, "write", doc=reference_name, throw=True)
	return frappe_add_comment(reference_doctype, reference_name, content, comment_email, comment_by)


def _known_doctype(doctype) -> None:
	"""The overridden methods answer an unknown doctype with a clear 404, not a database error."""
	if not isinstance(doctype, str) or not doctype or not frappe.db.exists("DocType", doctype):
		frappe.throw(_("DocType {0} not found").format(doctype), frappe.DoesNotExistError)


def _app_doctypes_sql() -> str:
	return "(" + ", ".join(frappe.db.escape(doctype) for doctype in sorted(APP_DOCTYPES)) + ")"


def _list_condition(user: str | None, condition) -> str:
	"""List condition shared by every doctype: staff see all, a user without a professional record nothing,
	a doctor `condition(professional)`."""
	user = user or frappe.session.user
	if is_staff(user):
		return ""
	professional = professional_of(user)
	return condition(professional) if professional else "1 = 0"


def _document_check(user: str | None, check) -> bool | None:
	"""Document check shared by every doctype: no objection (None) for staff, refused without a professional
	record, else `check(professional)`."""
	user = user or frappe.session.user
	if is_staff(user):
		return None
	professional = professional_of(user)
	return bool(professional) and bool(check(professional))


def _own_records(doctype: str, user: str | None) -> str:
	"""List condition: staff see all; a doctor, the records whose `professional` is his."""
	return _list_condition(user, lambda pro: f"`tab{doctype}`.`professional` = {frappe.db.escape(pro)}")


def _own_record(doc, user: str | None) -> bool | None:
	"""Document check: None (no objection) for staff; for a doctor, whether the record is his."""
	return _document_check(user, lambda pro: doc.get("professional") == pro)


def professional_query(user: str | None = None) -> str:
	user = user or frappe.session.user
	if is_staff(user):
		return ""
	return f"`tabSNP Professional`.`user` = {frappe.db.escape(user)}"


def professional_has_permission(doc, ptype=None, user=None) -> bool | None:
	user = user or frappe.session.user
	if is_staff(user):
		return None
	return bool(doc.user) and doc.user == user


def slot_query(user: str | None = None) -> str:
	if _is_partner_user(user):
		return partner_slot_query(user)
	return _own_records("SNP Slot", user)


def slot_has_permission(doc, ptype=None, user=None) -> bool | None:
	if _is_partner_user(user):
		return partner_slot_has_permission(doc, ptype, user)
	return _own_record(doc, user)


def booking_query(user: str | None = None) -> str:
	if _is_partner_user(user):
		return partner_booking_query(user)
	condition = _own_records("SNP Booking", user)
	professional = condition and condition != "1 = 0" and professional_of(user or frappe.session.user)
	if not professional:
		return condition
	# A maître de stage also reads the consultations of his interns (to debrief them).
	return (
		f"({condition} OR `tabSNP Booking`.`professional` IN (SELECT i.`professional` FROM `tabSNP Intern` i"
		f" WHERE i.`name` IN {_supervised_interns_sql(professional)}))"
	)


def booking_has_permission(doc, ptype=None, user=None) -> bool | None:
	if _is_partner_user(user):
		return partner_booking_has_permission(doc, ptype, user)
	own = _own_record(doc, user)
	if own is False and ptype in (None, "read", "print"):
		# A maître de stage reads the consultations of his interns.
		professional = professional_of(user or frappe.session.user)
		intern = frappe.db.get_value("SNP Intern", {"professional": doc.get("professional")}, "name")
		return bool(professional) and _is_supervisor_of(professional, intern)
	return own


def template_query(user: str | None = None) -> str:
	return _own_records("SNP Availability Template", user)


def template_has_permission(doc, ptype=None, user=None) -> bool | None:
	return _own_record(doc, user)


def absence_query(user: str | None = None) -> str:
	return _own_records("SNP Absence", user)


def absence_has_permission(doc, ptype=None, user=None) -> bool | None:
	return _own_record(doc, user)


def payment_query(user: str | None = None) -> str:
	return _own_records("SNP Indemnity Payment", user)


def payment_has_permission(doc, ptype=None, user=None) -> bool | None:
	return _own_record(doc, user)


# --- Territorial partners (role Partenaire SNP, users of an SNP Partner): free slots, and the bookings their
# own partner made; never another partner's patients. Staff rules win over the partner role. ---


def _is_partner_user(user: str | None) -> bool:
	from cpts_snp.services.partners import is_partner_user

	return is_partner_user(user or frappe.session.user)


def _partner_name(user: str | None) -> str | None:
	"""The partner of a partner user while its access period runs (an expired partner reads nothing)."""
	from cpts_snp.services.partners import is_active, partner_of

	partner = partner_of(user or frappe.session.user)
	return partner.name if partner and is_active(partner) else None


def partner_slot_query(user: str | None = None) -> str:
	"""Free slots offered to partners (services.cascade), and the slots of the partner's own bookings."""
	from cpts_snp.services.cascade import partner_visible_sql

	partner = _partner_name(user)
	if not partner:
		return "1 = 0"
	return (
		f"((`tabSNP Slot`.`status` = 'Available' and {partner_visible_sql('`tabSNP Slot`')}) or `tabSNP Slot`.`name` in "
		f"(select `slot` from `tabSNP Booking` where `partner` = {frappe.db.escape(partner)}))"
	)


def partner_slot_has_permission(doc, ptype=None, user=None) -> bool:
	partner = _partner_name(user)
	if not partner or ptype not in READ_TYPES:
		return False
	from cpts_snp.services.cascade import RESERVED

	return (doc.get("status") == "Available" and doc.get("reserved_for") != RESERVED) or bool(
		frappe.db.exists("SNP Booking", {"slot": doc.name, "partner": partner})
	)


def partner_booking_query(user: str | None = None) -> str:
	"""The bookings of the partner; a read of patient data, counted against the partner's limit and logged."""
	partner = _partner_name(user)
	if not partner:
		return "1 = 0"
	_note_partner_read(partner)
	return f"`tabSNP Booking`.`partner` = {frappe.db.escape(partner)}"


def partner_booking_has_permission(doc, ptype=None, user=None) -> bool:
	"""A partner user reads his partner's bookings (writes go through the partner API, which checks itself)."""
	partner = _partner_name(user)
	if not partner or ptype not in READ_TYPES or doc.get("partner") != partner:
		return False
	_note_partner_read(partner)
	return True


def _note_partner_read(partner: str) -> None:
	"""Bookings read by a partner user outside the partner API (desk, /api/resource, frappe.client): once per
	request, counted against the partner's rate limit and written to its access log. The partner API and FHIR
	count and log their own requests (services.partners.api_caller)."""
	request = getattr(frappe.local, "request", None)
	if request is None or frappe.flags.get("cpts_partner_request_counted"):
		return
	frappe.flags.cpts_partner_request_counted = True
	from cpts_snp.services.partners import check_rate_limit, log_access

	limit = frappe.db.get_value("SNP Partner", partner, "rate_limit_per_minute")
	check_rate_limit(partner, limit)
	log_access("Read bookings", request.path[:140], dict(frappe.local.form_dict or {}), 0, partner)
	frappe.local.flags.commit = True  # a GET is rolled back otherwise


def partner_query(user: str | None = None) -> str:
	"""Staff see every partner; a partner user, his own."""
	user = user or frappe.session.user
	if is_staff(user):
		return ""
	partner = _partner_name(user)
	if not partner:
		return "1 = 0"
	return f"`tabSNP Partner`.`name` = {frappe.db.escape(partner)}"


def partner_has_permission(doc, ptype=None, user=None) -> bool | None:
	user = user or frappe.session.user
	if is_staff(user):
		return None
	return doc.name == _partner_name(user)


# --- Interns: an intern sees his own records; a supervisor (maître de stage) those of his interns -----------------
def _supervised_interns_sql(professional: str) -> str:
	"""Subquery: the SNP Intern records `professional` supervises."""
	return (
		"(SELECT `parent` FROM `tabSNP Intern Supervisor` WHERE `parenttype` = 'SNP Intern' "
		f"AND `supervisor` = {frappe.db.escape(professional)})"
	)


def _is_supervisor_of(professional: str, intern: str | None) -> bool:
	return bool(intern) and bool(
		frappe.db.exists(
			"SNP Intern Supervisor",
			{"parent": intern, "parenttype": "SNP Intern", "supervisor": professional},
		)
	)


def intern_query(user: str | None = None) -> str:
	return _list_condition(
		user,
		lambda pro: (
			f"(`tabSNP Intern`.`professional` = {frappe.db.escape(pro)}"
			f" OR `tabSNP Intern`.`name` IN {_supervised_interns_sql(pro)})"
		),
	)


def intern_has_permission(doc, ptype=None, user=None) -> bool | None:
	return _document_check(user, lambda pro: doc.professional == pro or _is_supervisor_of(pro, doc.name))


def shift_query(user: str | None = None) -> str:
	"""A supervisor sees his shifts; an intern, the shifts of his supervisors."""

	def condition(professional):
		mine = frappe.db.escape(professional)
		return (
			f"(`tabSNP Supervision Shift`.`supervisor` = {mine} OR `tabSNP Supervision Shift`.`supervisor` IN "
			"(SELECT s.`supervisor` FROM `tabSNP Intern Supervisor` s JOIN `tabSNP Intern` i ON i.`name` = s.`parent`"
			f" WHERE s.`parenttype` = 'SNP Intern' AND i.`professional` = {mine}))"
		)

	return _list_condition(user, condition)


def shift_has_permission(doc, ptype=None, user=None) -> bool | None:
	"""A supervisor changes his shifts; his interns read them."""

	def check(professional):
		if doc.supervisor == professional:
			return True
		if ptype not in (None, "read", "print", "report"):
			return False
		intern = frappe.db.get_value("SNP Intern", {"professional": professional}, "name")
		return _is_supervisor_of(doc.supervisor, intern)

	return _document_check(user, check)


def debrief_query(user: str | None = None) -> str:
	return _list_condition(
		user,
		lambda pro: (
			"(`tabSNP Debrief`.`intern` IN (SELECT `name` FROM `tabSNP Intern` WHERE `professional` = "
			f"{frappe.db.escape(pro)}) OR `tabSNP Debrief`.`intern` IN {_supervised_interns_sql(pro)})"
		),
	)


def debrief_has_permission(doc, ptype=None, user=None) -> bool | None:
	return _document_check(
		user,
		lambda pro: (
			doc.intern
			and (
				frappe.db.get_value("SNP Intern", doc.intern, "professional") == pro
				or _is_supervisor_of(pro, doc.intern)
			)
		),
	)


# --- Permanences: the rota is shared with every doctor; each one changes only his own permanences --------------
def permanence_query(user: str | None = None) -> str:
	return ""


def permanence_has_permission(doc, ptype=None, user=None) -> bool | None:
	user = user or frappe.session.user
	if is_staff(user) or ptype in (None, "read", "print", "report"):
		return None
	professional = professional_of(user)
	return bool(professional) and doc.professional == professional


def swap_query(user: str | None = None) -> str:
	return _list_condition(
		user,
		lambda pro: (
			f"(`tabSNP Permanence Swap`.`from_professional` = {frappe.db.escape(pro)}"
			f" OR `tabSNP Permanence Swap`.`to_professional` = {frappe.db.escape(pro)})"
		),
	)


def swap_has_permission(doc, ptype=None, user=None) -> bool | None:
	"""The two doctors of a swap read it; they change it only through the portal's endpoints (no write right)."""
	return _document_check(
		user, lambda pro: pro in (doc.get("from_professional"), doc.get("to_professional"))
	)


# --- The access audit (cpts_snp.services.access_audit): read by the coordination and the DPO, written by nobody ------
DPO = "Délégué à la protection des données"
# what the DPO does with the RGPD requests and their log: reads, prints, exports; never shares nor e-mails them
DPO_READS = frozenset({None, "read", "select", "print", "report", "export"})
AUDIT_READERS = COORDINATION | {DPO}


def audit_query(user: str | None = None) -> str:
	user = user or frappe.session.user
	return "" if user == "Administrator" or AUDIT_READERS.intersection(frappe.get_roles(user)) else "1 = 0"


def audit_has_permission(doc, ptype=None, user=None) -> bool | None:
	"""Read (and printed, exported) by its readers; never created, changed, shared or deleted by anyone."""
	if ptype not in READ_TYPES or ptype == "share":
		return False
	return None if audit_query(user) == "" else False


def staff_only_query(user: str | None = None) -> str:
	"""The default of an app doctype without a rule of its own: staff (by role) only."""
	return "" if is_staff(user or frappe.session.user) else "1 = 0"


def staff_only_has_permission(doc, ptype=None, user=None) -> bool | None:
	return None if is_staff(user or frappe.session.user) else False


def privacy_query(user: str | None = None) -> str:
	"""RGPD requests and the log of the retention job: the coordination's, read by the data protection officer;
	not the télésecrétariat's nor finance's."""
	user = user or frappe.session.user
	return "" if _is_coordination(user) or DPO in frappe.get_roles(user) else "1 = 0"


def privacy_has_permission(doc, ptype=None, user=None) -> bool | None:
	"""The coordination handles them; the data protection officer reads (prints, exports) them, changes nothing."""
	user = user or frappe.session.user
	if _is_coordination(user):
		return None
	return None if ptype in DPO_READS and DPO in frappe.get_roles(user) else False


def _is_coordination(user: str) -> bool:
	return user == "Administrator" or bool(COORDINATION.intersection(frappe.get_roles(user)))


def shared_query(user: str | None = None) -> str:
	"""Reference data every role that may read the doctype reads whole (sectors, protocols, the rota)."""
	return ""


def shared_has_permission(doc, ptype=None, user=None) -> bool | None:
	"""Read by every role allowed to; written by staff only (website users hold no write permission)."""
	if ptype in READ_TYPES or is_staff(user or frappe.session.user):
		return None
	return False


# --- The rule of each app doctype: (list condition, document check). A doctype of the app missing here falls to
# staff_only (no access for doctors, interns, partners); child tables follow their parent (CHILD_PARENTS).
RECORD_RULES = {
	"SNP Professional": (professional_query, professional_has_permission),
	"SNP Slot": (slot_query, slot_has_permission),
	"SNP Booking": (booking_query, booking_has_permission),
	"SNP Availability Template": (template_query, template_has_permission),
	"SNP Absence": (absence_query, absence_has_permission),
	"SNP Indemnity Payment": (payment_query, payment_has_permission),
	"SNP Intern": (intern_query, intern_has_permission),
	"SNP Supervision Shift": (shift_query, shift_has_permission),
	"SNP Debrief": (debrief_query, debrief_has_permission),
	"SNP Permanence": (permanence_query, permanence_has_permission),
	"SNP Permanence Swap": (swap_query, swap_has_permission),
	"SNP Partner": (partner_query, partner_has_permission),
	"SNP Sector": (shared_query, shared_has_permission),
	"SNP Protocol": (shared_query, shared_has_permission),
	"SNP Settings": (shared_query, shared_has_permission),
	# a person's requests about his data (RGPD) and the log of the retention job: the coordination's, the DPO reads
	"SNP Data Subject Request": (privacy_query, privacy_has_permission),
	"SNP Privacy Log": (privacy_query, privacy_has_permission),
	"SNP Access Audit": (audit_query, audit_has_permission),
}


def _app_doctypes() -> tuple[dict, dict]:
	"""{doctype: is_table} of every doctype of the app, and {child doctype: parent doctypes}, read from the
	doctype files (hooks.py needs them before any database is open)."""
	import glob
	import json
	import os

	doctypes, parents = {}, {}
	for path in sorted(glob.glob(os.path.join(os.path.dirname(__file__), "*", "doctype", "*", "*.json"))):
		if os.path.basename(path)[:-5] != os.path.basename(os.path.dirname(path)):
			continue
		with open(path) as f:
			meta = json.load(f)
		if meta.get("doctype") != "DocType":
			continue
		doctypes[meta["name"]] = bool(meta.get("istable"))
		for field in meta.get("fields", []):
			if field.get("fieldtype") in ("Table", "Table MultiSelect") and field.get("options"):
				parents.setdefault(field["options"], []).append(meta["name"])
	return doctypes, {child: tuple(sorted(set(p))) for child, p in parents.items()}


_DOCTYPES, CHILD_PARENTS = _app_doctypes()
APP_DOCTYPES = frozenset(_DOCTYPES)
for _doctype, _is_table in _DOCTYPES.items():
	if not _is_table:
		RECORD_RULES.setdefault(_doctype, (staff_only_query, staff_only_has_permission))


def hooks() -> dict:
	"""The hooks of every app doctype (hooks.py): the two dispatchers and the server-owned fields guard."""
	every = sorted(APP_DOCTYPES)
	attached = sorted(ATTACHED_TO_RECORDS)
	return {
		"permission_query_conditions": {
			**{dt: "cpts_snp.permissions.query" for dt in every},
			**{dt: "cpts_snp.permissions.attached_query" for dt in attached},
		},
		"has_permission": {
			**{dt: "cpts_snp.permissions.has_permission" for dt in every},
			**{dt: "cpts_snp.permissions.attached_has_permission" for dt in attached},
		},
		"doc_events": {
			dt: {
				"before_validate": "cpts_snp.permissions.guard_server_owned",
				"before_update_after_submit": "cpts_snp.permissions.guard_server_owned",
			}
			for dt in every
		}
		| {"File": {"before_insert": "cpts_snp.permissions.guard_attachment"}},
	}
