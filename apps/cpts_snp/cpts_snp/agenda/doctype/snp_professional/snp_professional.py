import frappe
from frappe import _
from frappe.model.document import Document
from frappe.utils import today

from cpts_snp.api import endpoint
from cpts_snp.exceptions import InvalidBankDetailsError, InvalidPhoneError, InvalidRPPSError
from cpts_snp.permissions import is_staff
from cpts_snp.rules.identifiers import (
	clean_rpps,
	is_adeli,
	is_valid_rpps,
	normalise_bic,
	normalise_iban,
	normalise_phone,
)
from cpts_snp.services import bank_details, directory
from cpts_snp.services.naming import set_name
from cpts_snp.services.text import checked_phone, clean_name_fields

# What a doctor may change himself (portal « Mon profil » or the API); the rest is the coordination's.
SELF_SERVICE_FIELDS = {"phone", "email", "sectors", "iban", "bic", "ics_token"}
SYSTEM_FIELDS = {"modified", "modified_by", "creation", "owner", "idx", "docstatus", "full_name", "active"}


class SNPProfessional(Document):
	def autoname(self):
		set_name(self)

	def before_insert(self):
		# The secret of the doctor's private calendar feed (stored encrypted, as every Password field).
		from cpts_snp.services.portal import new_feed_token

		self.ics_token = new_feed_token()

	def validate(self):
		self.validate_self_service_changes()
		clean_name_fields(self, "last_name", "first_name")
		self.set_full_name()
		self.validate_rpps()
		directory.keep_check_fields(self)
		self.phone = checked_phone(self.phone)
		self.validate_bank_details()
		bank_details.route(self)
		self.follow_onboarding_status()

	def on_update(self):
		bank_details.notify_finance(self)

	def validate_self_service_changes(self):
		"""A doctor edits his contact and bank details; RPPS, name, status… stay with the coordination."""
		if self.is_new() or is_staff() or frappe.session.user == "Administrator":
			return
		before = self.get_doc_before_save()
		for df in self.meta.fields:
			field = df.fieldname
			if (
				field in SELF_SERVICE_FIELDS
				or field in SYSTEM_FIELDS
				or df.fieldtype in frappe.model.no_value_fields
			):
				continue
			if df.fieldtype in frappe.model.table_fields:
				changed = [r.get("sector") for r in self.get(field)] != [
					r.get("sector") for r in before.get(field)
				]
			else:
				changed = (self.get(field) or None) != (before.get(field) or None)
			if changed:
				frappe.throw(
					_("Only the CPTS coordination can change « {0} »").format(_(df.label)),
					frappe.PermissionError,
				)

	def set_full_name(self):
		self.first_name = (self.first_name or "").strip()
		self.last_name = (self.last_name or "").strip()
		self.full_name = f"{self.first_name} {self.last_name}".strip()

	def validate_rpps(self):
		"""A professional has an RPPS number (11 digits) or, without one, an ADELI number (9 digits)."""
		self.rpps = clean_rpps(self.rpps) or None
		self.adeli = clean_rpps(self.adeli) or None
		if not self.rpps and not self.adeli:
			frappe.throw(
				_(
					"The RPPS number must have exactly 11 digits; without one, enter the ADELI number (9 digits)"
				),
				InvalidRPPSError,
				title=_("Invalid RPPS number"),
			)
		if self.rpps and not is_valid_rpps(self.rpps):
			frappe.throw(
				_("The RPPS number must have exactly 11 digits (received: {0})").format(self.rpps),
				InvalidRPPSError,
				title=_("Invalid RPPS number"),
			)
		if self.adeli and not is_adeli(self.adeli):
			frappe.throw(
				_("The ADELI number must have exactly 9 digits (received: {0})").format(self.adeli),
				InvalidRPPSError,
				title=_("Invalid ADELI number"),
			)

	def validate_bank_details(self):
		if self.iban:
			iban = normalise_iban(self.iban)
			if not iban:
				frappe.throw(
					_("The IBAN {0} is not valid: check its length and its digits").format(self.iban),
					InvalidBankDetailsError,
					title=_("Invalid IBAN"),
				)
			self.iban = iban
		if self.bic:
			bic = normalise_bic(self.bic)
			if not bic:
				frappe.throw(
					_("The BIC {0} is not valid: it has 8 or 11 characters").format(self.bic),
					InvalidBankDetailsError,
					title=_("Invalid BIC"),
				)
			self.bic = bic

	def follow_onboarding_status(self):
		"""Only Active professionals publish slots; the charter date is set when the charter is signed."""
		self.active = int(self.status == "Active")
		if self.status == "Charter signed" and not self.charter_signed_on:
			self.charter_signed_on = today()


@frappe.whitelist(methods=["POST"])
@endpoint
def confirm_bank_details(professional: str) -> None:
	"""« Confirmer les nouvelles coordonnées bancaires » (accountant or treasurer)."""
	bank_details.confirm(professional)


@frappe.whitelist(methods=["POST"])
@endpoint
def reject_bank_details(professional: str, reason: str) -> None:
	"""« Refuser les nouvelles coordonnées bancaires » (accountant or treasurer), with a reason."""
	bank_details.reject(professional, reason)


@frappe.whitelist()
@endpoint
def lookup_in_directory(rpps: str) -> dict:
	"""« Look up in the RPPS directory » (coordination): the directory's names and profession for an RPPS."""
	return directory.lookup(rpps)
