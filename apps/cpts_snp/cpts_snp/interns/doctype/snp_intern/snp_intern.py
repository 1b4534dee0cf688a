import frappe
from frappe import _
from frappe.model.document import Document
from frappe.utils import getdate

from cpts_snp.services.naming import set_name
from cpts_snp.services.text import clean_name_fields


class SNPIntern(Document):
	def autoname(self):
		set_name(self)

	def validate(self):
		clean_name_fields(self, "last_name", "first_name")
		self.set_full_name()
		self.validate_semester()
		self.validate_professional()
		self.validate_supervisors()

	def set_full_name(self):
		self.first_name = (self.first_name or "").strip()
		self.last_name = (self.last_name or "").strip()
		self.full_name = f"{self.first_name} {self.last_name}".strip()

	def validate_semester(self):
		if getdate(self.semester_end) < getdate(self.semester_start):
			frappe.throw(_("The end of the semester cannot be before its start"))

	def validate_professional(self):
		profession = frappe.db.get_value("SNP Professional", self.professional, "profession")
		if profession != "SASPAS intern":
			frappe.throw(_("The professional record of an intern must have the profession « SASPAS intern »"))

	def validate_supervisors(self):
		supervisors = [row.supervisor for row in self.supervisors]
		if not supervisors:
			frappe.throw(_("An intern needs at least one supervisor (maître de stage)"))
		if self.professional in supervisors:
			frappe.throw(_("An intern cannot supervise himself"))
		approved = set(
			frappe.get_all(
				"SNP Professional", filters={"name": ["in", supervisors], "is_supervisor": 1}, pluck="name"
			)
		)
		for supervisor in supervisors:
			if supervisor not in approved:
				frappe.throw(
					_(
						"{0} is not a maître de stage: tick « Maître de stage » on his professional record first"
					).format(frappe.db.get_value("SNP Professional", supervisor, "full_name") or supervisor)
				)
