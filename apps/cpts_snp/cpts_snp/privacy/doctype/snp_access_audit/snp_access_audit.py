import frappe
from frappe import _
from frappe.model.document import Document


class SNPAccessAudit(Document):
	"""One read of patient data by a staff user (cpts_snp.services.access_audit writes the rows in bulk, without
	this controller). Read-only for everybody, Administrator included: no path saves, renames or deletes a row;
	the retention job deletes the expired ones with SQL."""

	def validate(self):
		frappe.throw(_("The access audit is written by the application only"), frappe.PermissionError)

	def on_trash(self):
		frappe.throw(_("The access audit is written by the application only"), frappe.PermissionError)
