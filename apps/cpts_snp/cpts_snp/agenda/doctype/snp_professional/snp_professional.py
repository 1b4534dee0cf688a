import frappe
from frappe import _
from frappe.model.document import Document
from frappe.utils import today

from cpts_snp.exceptions import InvalidPhoneError, InvalidRPPSError
from cpts_snp.rules.identifiers import clean_rpps, is_valid_rpps, normalise_phone


class SNPProfessional(Document):
	def validate(self):
		self.set_full_name()
		self.validate_rpps()
		self.normalise_phone()
		self.follow_onboarding_status()

	def follow_onboarding_status(self):
		"""Only Active professionals publish slots; the charter date is set when the charter is signed."""
		self.active = int(self.status == "Active")
		if self.status == "Charter signed" and not self.charter_signed_on:
			self.charter_signed_on = today()

	def set_full_name(self):
		self.first_name = (self.first_name or "").strip()
		self.last_name = (self.last_name or "").strip()
		self.full_name = f"{self.first_name} {self.last_name}".strip()

	def validate_rpps(self):
		self.rpps = clean_rpps(self.rpps)
		if not is_valid_rpps(self.rpps):
			frappe.throw(
				_("The RPPS number must have exactly 11 digits (received: {0})").format(self.rpps or "—"),
				InvalidRPPSError,
				title=_("Invalid RPPS number"),
			)

	def normalise_phone(self):
		if not self.phone:
			return
		normalised = normalise_phone(self.phone)
		if not normalised:
			frappe.throw(
				_("Phone number {0} is not valid").format(self.phone),
				InvalidPhoneError,
				title=_("Invalid phone number"),
			)
		self.phone = normalised
