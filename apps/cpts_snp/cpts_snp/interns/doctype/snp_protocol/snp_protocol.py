import frappe
from frappe import _
from frappe.model.document import Document
from frappe.utils import getdate

from cpts_snp.services.naming import set_name


class SNPProtocol(Document):
	def autoname(self):
		set_name(self)

	def validate(self):
		self.title = (self.title or "").strip()
		if self.valid_to and getdate(self.valid_to) < getdate(self.valid_from):
			frappe.throw(_("A protocol cannot end before it comes into force"))
		if frappe.db.exists(
			"SNP Protocol", {"title": self.title, "version": self.version, "name": ["!=", self.name or ""]}
		):
			frappe.throw(_("Version {0} of protocol « {1} » already exists").format(self.version, self.title))
