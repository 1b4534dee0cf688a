"""À replacer: the bookings the telesecretariat must work through — cancelled by their doctor, or whose doctor
will be absent — soonest appointment first. Open one to move the patient (« Replacer » / « Déplacer ») or to
record « Patient prévenu, pas de nouveau RDV » (services.booking). The caller's read rights apply."""

import frappe
from frappe import _

from cpts_snp.services import access_audit


def execute(filters=None):
	columns = [
		{
			"fieldname": "name",
			"label": _("Booking"),
			"fieldtype": "Link",
			"options": "SNP Booking",
			"width": 140,
		},
		{"fieldname": "slot_start", "label": _("Appointment"), "fieldtype": "Datetime", "width": 150},
		{"fieldname": "professional_name", "label": _("Professional"), "fieldtype": "Data", "width": 160},
		{
			"fieldname": "sector",
			"label": _("Sector"),
			"fieldtype": "Link",
			"options": "SNP Sector",
			"width": 120,
		},
		{"fieldname": "patient", "label": _("Patient"), "fieldtype": "Data", "width": 160},
		{"fieldname": "patient_phone", "label": _("Phone"), "fieldtype": "Data", "width": 130},
		{"fieldname": "status", "label": _("Status"), "fieldtype": "Data", "width": 100},
		{"fieldname": "cancelled_by", "label": _("Cancelled by"), "fieldtype": "Data", "width": 100},
	]
	rows = frappe.get_list(
		"SNP Booking",
		filters={"to_rebook": 1},
		fields=[
			"name",
			"slot_start",
			"professional_name",
			"sector",
			"patient_first_name",
			"patient_last_name",
			"patient_phone",
			"status",
			"cancelled_by",
		],
		order_by="slot_start asc",
		limit_page_length=500,
	)
	# patients' names and phones shown to the staff: the access audit (cpts_snp.services.access_audit)
	access_audit.note_records("SNP Booking", [row.name for row in rows], access_audit.REPORT)
	for row in rows:
		row.patient = f"{row.patient_first_name or ''} {row.patient_last_name or ''}".strip()
		row.status = _(row.status)
		row.cancelled_by = _(row.cancelled_by) if row.cancelled_by else ""
	return columns, rows
