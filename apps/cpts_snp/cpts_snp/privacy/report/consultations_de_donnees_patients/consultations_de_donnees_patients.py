"""Consultations de données patients: the staff's reads of patient data (SNP Access Audit, written by
cpts_snp.services.access_audit) over a period, for the data protection officer — who read what, when, by which
path and from where; filtered by user, document type, record or patient (his record, bookings, calls and
call-back requests), or summed up per user. The caller's read rights on the audit apply."""

import frappe
from frappe import _
from frappe.utils import add_days, getdate

from cpts_snp.services.access_audit import EXPORT, PRINT

MAX_ROWS = 5000
SUMMARY_ROWS = 50000


def execute(filters=None):
	filters = frappe._dict(filters or {})
	rows = audit_rows(filters, SUMMARY_ROWS if filters.get("per_user") else MAX_ROWS)
	if filters.get("per_user"):
		return summary_columns(), per_user(rows)
	for row in rows:
		row.kind = _(row.kind) if row.kind else ""
		row.reference_doctype_label = _(row.reference_doctype) if row.reference_doctype else ""
	return columns(), rows


def audit_rows(filters, limit: int) -> list:
	"""The audit rows of the filters, newest first."""
	from_date = getdate(filters.get("from_date") or add_days(getdate(), -30))
	to_date = getdate(filters.get("to_date") or getdate())
	conditions = [["timestamp", ">=", from_date], ["timestamp", "<", add_days(to_date, 1)]]
	for field in ("user", "kind", "reference_doctype"):
		if filters.get(field):
			conditions.append([field, "=", filters.get(field)])
	names = records_asked(filters)
	or_conditions = None
	if names is not None:
		if not names:
			return []
		or_conditions = [["reference_name", "in", sorted(names)]] + [
			["records", "like", f"%{name}%"] for name in sorted(names)
		]
	rows = frappe.get_list(
		"SNP Access Audit",
		filters=conditions,
		or_filters=or_conditions,
		fields=[
			"name",
			"timestamp",
			"user",
			"roles",
			"kind",
			"reference_doctype",
			"reference_name",
			"record_count",
			"records",
			"filters",
			"method",
			"ip_address",
			"user_agent",
		],
		order_by="timestamp desc",
		limit_page_length=limit,
	)
	if names is not None:
		# a list row names its records one a line: keep those that hold one of them exactly
		rows = [
			row
			for row in rows
			if row.reference_name in names or names.intersection((row.records or "").split("\n"))
		]
	return rows


def records_asked(filters) -> set[str] | None:
	"""The records the filters ask about (a record, a patient's records), or None for every record."""
	names = None
	if filters.get("reference_name"):
		names = {filters.get("reference_name")}
	if filters.get("patient"):
		patient = filters.get("patient")
		of_patient = {patient}
		for doctype in ("SNP Booking", "SNP Call", "SNP Callback"):
			of_patient.update(frappe.get_all(doctype, {"patient": patient}, pluck="name"))
		names = of_patient if names is None else names & of_patient
	return names


def per_user(rows: list) -> list:
	users = {}
	for row in rows:
		total = users.setdefault(
			row.user,
			frappe._dict(
				user=row.user,
				roles=row.roles,
				reads=0,
				records=0,
				lists=0,
				exports=0,
				first_read=row.timestamp,
				last_read=row.timestamp,
			),
		)
		total.reads += 1
		total.records += row.record_count or 0
		total.lists += 1 if not row.reference_name else 0
		total.exports += 1 if row.kind in (EXPORT, PRINT) else 0
		total.first_read = min(total.first_read, row.timestamp)
		total.last_read = max(total.last_read, row.timestamp)
	return sorted(users.values(), key=lambda total: -total.reads)


def columns() -> list[dict]:
	return [
		{"fieldname": "timestamp", "label": _("Timestamp"), "fieldtype": "Datetime", "width": 160},
		{"fieldname": "user", "label": _("User"), "fieldtype": "Link", "options": "User", "width": 200},
		{"fieldname": "roles", "label": _("Staff roles"), "fieldtype": "Data", "width": 150},
		{"fieldname": "kind", "label": _("Kind of read"), "fieldtype": "Data", "width": 110},
		{
			"fieldname": "reference_doctype_label",
			"label": _("Document type"),
			"fieldtype": "Data",
			"width": 130,
		},
		{
			"fieldname": "reference_name",
			"label": _("Record"),
			"fieldtype": "Dynamic Link",
			"options": "reference_doctype",
			"width": 130,
		},
		{"fieldname": "record_count", "label": _("Records read"), "fieldtype": "Int", "width": 90},
		{"fieldname": "records", "label": _("Records (first 100)"), "fieldtype": "Data", "width": 200},
		{"fieldname": "filters", "label": _("Filters and search"), "fieldtype": "Data", "width": 200},
		{"fieldname": "method", "label": _("Path or method"), "fieldtype": "Data", "width": 220},
		{"fieldname": "ip_address", "label": _("IP address"), "fieldtype": "Data", "width": 120},
		{"fieldname": "user_agent", "label": _("Browser (user agent)"), "fieldtype": "Data", "width": 200},
		{"fieldname": "reference_doctype", "label": _("Document type"), "fieldtype": "Data", "hidden": 1},
	]


def summary_columns() -> list[dict]:
	return [
		{"fieldname": "user", "label": _("User"), "fieldtype": "Link", "options": "User", "width": 220},
		{"fieldname": "roles", "label": _("Staff roles"), "fieldtype": "Data", "width": 180},
		{"fieldname": "reads", "label": _("Reads"), "fieldtype": "Int", "width": 90},
		{"fieldname": "records", "label": _("Records read"), "fieldtype": "Int", "width": 110},
		{"fieldname": "lists", "label": _("Lists and searches"), "fieldtype": "Int", "width": 120},
		{"fieldname": "exports", "label": _("Exports and prints"), "fieldtype": "Int", "width": 120},
		{"fieldname": "first_read", "label": _("First read"), "fieldtype": "Datetime", "width": 160},
		{"fieldname": "last_read", "label": _("Last read"), "fieldtype": "Datetime", "width": 160},
	]
