import frappe
from frappe import _
from frappe.model.document import Document
from frappe.utils import getdate

from cpts_snp.services.absences import apply_absence
from cpts_snp.services.naming import set_name


class SNPAbsence(Document):
	def autoname(self):
		set_name(self)

	def validate(self):
		if getdate(self.to_date) < getdate(self.from_date):
			frappe.throw(_("The end of the absence cannot be before its start"))
		apply_absence(self)
