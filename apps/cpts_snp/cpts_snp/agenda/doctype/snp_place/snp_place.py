"""A place of practice of the CPTS (cabinet, maison de santé, centre de santé): its address and national
identifiers. Slots and templates point at one; the SAS platform receives it as a FHIR Location (its name is the
Location's id, so it never changes)."""

import re

import frappe
from frappe import _
from frappe.model.document import Document

from cpts_snp.exceptions import InvalidCodeError, InvalidPhoneError
from cpts_snp.rules.identifiers import is_finess, is_siret, is_valid_postal_code, normalise_phone
from cpts_snp.services.naming import set_name
from cpts_snp.services.places import place_label
from cpts_snp.services.text import checked_phone, clean_name_fields


class SNPPlace(Document):
	def autoname(self):
		set_name(self)

	def validate(self):
		clean_name_fields(self, "place_name", "address_line", "city")
		self.validate_postal_code()
		self.phone = checked_phone(self.phone)
		self.validate_finess()
		self.validate_siret()
		self.validate_rpps_rang()

	def on_update(self):
		# a new place has no slot yet; slots and templates are found by their indexed `place`
		if not self.get_doc_before_save():
			return
		if any(
			self.has_value_changed(field) for field in ("place_name", "address_line", "postal_code", "city")
		):
			self.update_labels()

	def update_labels(self):
		"""Slots and templates at this place show its new address."""
		label = place_label(self.place_name, self.address_line, self.postal_code, self.city)
		for doctype in ("SNP Slot", "SNP Availability Template"):
			frappe.db.set_value(doctype, {"place": self.name}, "location", label, update_modified=False)

	def validate_postal_code(self):
		self.postal_code = re.sub(r"\s", "", self.postal_code or "")
		if self.postal_code and not is_valid_postal_code(self.postal_code):
			frappe.throw(
				_("Postal code {0} is not valid: it has 5 digits").format(self.postal_code), InvalidCodeError
			)

	def validate_finess(self):
		self.finess = re.sub(r"\s", "", self.finess or "")
		if self.finess and not is_finess(self.finess):
			frappe.throw(
				_("The FINESS number {0} is not valid: it has 9 digits").format(self.finess), InvalidCodeError
			)

	def validate_siret(self):
		self.siret = re.sub(r"\s", "", self.siret or "")
		if self.siret and not is_siret(self.siret):
			frappe.throw(
				_("The SIRET {0} is not valid: 14 digits with a valid check digit").format(self.siret),
				InvalidCodeError,
			)

	def validate_rpps_rang(self):
		self.rpps_rang = re.sub(r"\s", "", self.rpps_rang or "")
		if self.rpps_rang and not self.rpps_rang.isdigit():
			frappe.throw(
				_("The RPPS rang {0} is not valid: it has digits only").format(self.rpps_rang),
				InvalidCodeError,
			)
