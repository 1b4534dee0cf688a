"""A patient of the SNP mission, stored once (services.patients): the identity the télésecrétariat finds again by
phone or by name and date of birth, referenced by bookings and calls."""

import frappe
from frappe import _
from frappe.model.document import Document
from frappe.utils import getdate, today

from cpts_snp.exceptions import DuplicatePatientError, InvalidINSError
from cpts_snp.rules.identifiers import clean_ins, is_valid_ins, patient_dedup_key
from cpts_snp.services.naming import set_name
from cpts_snp.services.text import checked_phone, clean_name_fields


class SNPPatient(Document):
	def autoname(self):
		set_name(self)

	def validate(self):
		clean_name_fields(self, "last_name", "first_name")
		self.phone = checked_phone(self.phone)
		if self.date_of_birth and getdate(self.date_of_birth) > getdate(today()):
			frappe.throw(_("The patient's date of birth cannot be in the future"))
		self.validate_ins()
		self.set_dedup_key()

	def validate_ins(self):
		if not self.ins:
			return
		self.ins = clean_ins(self.ins)
		if not is_valid_ins(self.ins):
			frappe.throw(
				_("INS {0} is not valid: 15 characters whose last two are the key of the first 13").format(
					self.ins
				),
				InvalidINSError,
				title=_("Invalid INS"),
			)

	def set_dedup_key(self):
		self.dedup_key = patient_dedup_key(
			self.last_name, self.first_name, getdate(self.date_of_birth), self.phone
		)
		other = frappe.db.get_value(
			"SNP Patient", {"dedup_key": self.dedup_key, "name": ["!=", self.name or ""]}, "name"
		)
		if other:
			frappe.throw(
				_("Patient {0} already has this name, date of birth and phone: merge the two records").format(
					other
				),
				DuplicatePatientError,
			)
