import frappe
from frappe import _
from frappe.model.document import Document

from cpts_snp.exceptions import InvalidCodeError
from cpts_snp.rules.identifiers import is_valid_insee_code, is_valid_postal_code


class SNPSector(Document):
	def validate(self):
		self.validate_insee_code()
		self.validate_postal_code()

	def validate_insee_code(self):
		if not self.insee_code:
			return
		self.insee_code = self.insee_code.strip().upper()
		if not is_valid_insee_code(self.insee_code):
			frappe.throw(
				_("INSEE code {0} is not valid: it has 5 characters (digits, or 2A/2B in Corsica)").format(
					self.insee_code
				),
				InvalidCodeError,
			)

	def validate_postal_code(self):
		if not self.postal_code:
			return
		self.postal_code = self.postal_code.strip()
		if not is_valid_postal_code(self.postal_code):
			frappe.throw(
				_("Postal code {0} is not valid: it has 5 digits").format(self.postal_code), InvalidCodeError
			)
