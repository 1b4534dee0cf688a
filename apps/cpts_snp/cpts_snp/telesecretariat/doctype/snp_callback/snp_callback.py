"""A caller waiting on the call-back list for a slot in a sector and on a date (services.callbacks)."""

import frappe
from frappe import _
from frappe.model.document import Document
from frappe.utils import getdate

from cpts_snp.services import patients
from cpts_snp.services.naming import set_name
from cpts_snp.services.text import checked_phone, clean_name_fields


class SNPCallback(Document):
	def autoname(self):
		set_name(self)

	def before_insert(self):
		self.status = "Waiting"
		self.requested_by = frappe.session.user
		patients.attach_patient(self)

	def validate(self):
		clean_name_fields(self, "patient_last_name", "patient_first_name")
		self.patient_phone = checked_phone(self.patient_phone)
		if not self.wanted_to:
			self.wanted_to = self.wanted_from
		if getdate(self.wanted_to) < getdate(self.wanted_from):
			frappe.throw(_("The end of the wanted dates cannot be before their start"))


def on_doctype_update():
	# a (request, slot) pair is notified once, whatever two jobs do at the same time
	frappe.db.add_unique("SNP Callback Offer", ["parent", "slot"], constraint_name="unique_callback_slot")
