import re

import frappe
from frappe import _
from frappe.model.document import Document
from frappe.utils import cint, get_time

from cpts_snp.rules.identifiers import e164_phone, is_finess, is_valid_siret, normalise_bic, normalise_iban


class SNPSettings(Document):
	def validate(self):
		self.validate_numbers()
		self.validate_weekly_target()
		self.validate_pdsa_hours()
		self.validate_cpts_bank_details()
		self.validate_sas_identity()
		self.validate_sms_texts()

	def on_update(self):
		if self.pdsa_schedule_changed():
			# the PDSA flags of the slots to come, and the supplements of their bookings. Idempotent, so not
			# deduplicated: a job already running read the schedule before this change; the new one reads it.
			frappe.enqueue(
				"cpts_snp.services.cascade.reflag_pdsa_slots", queue="long", enqueue_after_commit=True
			)

	def pdsa_schedule_changed(self) -> bool:
		before = self.get_doc_before_save()
		if not before:
			return False
		times = ("pdsa_evening_start", "pdsa_morning_end", "pdsa_saturday_start")
		if any(
			str(get_time(before.get(f) or "00:00")) != str(get_time(self.get(f) or "00:00")) for f in times
		):
			return True
		return sorted(str(row.day) for row in before.bridge_days) != sorted(
			str(row.day) for row in self.bridge_days
		)

	def validate_sms_texts(self):
		from cpts_snp.services.notifications import validate_sms_texts

		validate_sms_texts(self)

	def validate_numbers(self):
		for field in ("booking_horizon_hours", "generation_weeks", "supplement_weekly_cap"):
			if cint(self.get(field)) <= 0:
				frappe.throw(_("{0} must be a positive number").format(_(self.meta.get_label(field))))
		if cint(self.generation_weeks) > 26:
			frappe.throw(_("Slots can be generated at most 26 weeks ahead"))

	def validate_weekly_target(self):
		if cint(self.weekly_target_min) > cint(self.weekly_target_max):
			frappe.throw(_("The weekly target minimum cannot exceed its maximum"))

	def validate_pdsa_hours(self):
		if get_time(self.pdsa_morning_end) >= get_time(self.pdsa_evening_start):
			frappe.throw(_("The PDSA morning end must come before the evening start"))

	def validate_cpts_bank_details(self):
		if self.siret:
			self.siret = re.sub(r"\s", "", self.siret)
			if not is_valid_siret(self.siret):
				frappe.throw(
					_("The SIRET {0} is not valid: 14 digits with a valid check digit").format(self.siret)
				)
		if self.cpts_iban:
			iban = normalise_iban(self.cpts_iban)
			if not iban:
				frappe.throw(
					_("The IBAN {0} is not valid: check its length and its digits").format(self.cpts_iban)
				)
			self.cpts_iban = iban
		if self.cpts_bic:
			bic = normalise_bic(self.cpts_bic)
			if not bic:
				frappe.throw(_("The BIC {0} is not valid: it has 8 or 11 characters").format(self.cpts_bic))
			self.cpts_bic = bic

	def validate_sas_identity(self):
		"""What the SAS platform receives about the CPTS: its FINESS, phone (+33…) and the site's public address."""
		if self.cpts_finess:
			self.cpts_finess = re.sub(r"\s", "", self.cpts_finess)
			if not is_finess(self.cpts_finess):
				frappe.throw(
					_("The FINESS number {0} is not valid: it has 9 digits").format(self.cpts_finess)
				)
		if self.cpts_phone and not e164_phone(self.cpts_phone):
			frappe.throw(_("The CPTS phone number {0} is not a valid French number").format(self.cpts_phone))
		if self.booking_base_url:
			self.booking_base_url = self.booking_base_url.strip().rstrip("/")
			if not re.fullmatch(r"https?://[A-Za-z0-9.-]+(:\d+)?(/[^\s<>\"']*)?", self.booking_base_url):
				frappe.throw(
					_("The public address {0} is not valid: it starts with https://").format(
						self.booking_base_url
					)
				)
