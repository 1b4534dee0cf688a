import frappe
from frappe import _
from frappe.model.document import Document
from frappe.utils import getdate

from cpts_snp.services.absences import apply_absence


class SNPAbsence(Document):
	def validate(self):
		if getdate(self.to_date) < getdate(self.from_date):
			frappe.throw(_("The end of the absence cannot be before its start"))
		apply_absence(self)
