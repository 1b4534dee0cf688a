import frappe
from frappe import _
from frappe.model.document import Document
from frappe.utils import get_datetime, getdate, now_datetime, today

from cpts_snp.exceptions import InvalidPhoneError, InvalidStatusChangeError
from cpts_snp.rules.identifiers import normalise_phone
from cpts_snp.rules.slots import can_change_booking_status, outcome_needs_start_passed
from cpts_snp.services import callbacks, notifications, partners, patients, supervision
from cpts_snp.services.booking import cancellation_party, claim_slot, redecide_on_change, sync_slot_status
from cpts_snp.services.naming import set_name
from cpts_snp.services.text import clean_name_fields


class SNPBooking(Document):
	def autoname(self):
		set_name(self)

	def before_insert(self):
		self.status = "Booked"
		self.booked_by = frappe.session.user
		partners.apply_partner(self)
		# The patient first (found by his dedup key, or created in this transaction): a booking waiting for the
		# same new patient booked at the same moment holds no lock yet, so the lock order is patient, professional,
		# slot and they cannot deadlock (cpts_snp.services.patients).
		patients.attach_patient(self)
		# Before the name is taken: a refused attempt uses no number (names come from a sequence, see
		# cpts_snp.services.naming, so naming takes no lock and the lock order stays professional, then slot).
		claim_slot(self)

	def validate(self):
		clean_name_fields(self, "patient_last_name", "patient_first_name")
		self.validate_patient()
		if not self.is_new():
			self.validate_slot_unchanged()
			self.validate_status_change()
			self.set_cancellation()
			redecide_on_change(self)
		supervision.check_booking(self)
		self.active_slot = None if self.status == "Cancelled" else self.slot

	def after_insert(self):
		sync_slot_status(self)
		notifications.booking_created(self)
		partners.booking_inserted(self)

	def on_update(self):
		supervision.follow_booking(self)
		if self.flags.in_insert or not self.has_value_changed("status"):
			return
		sync_slot_status(self)
		if self.status == "Cancelled":
			notifications.booking_cancelled(self)
			if self.cancelled_by == "Doctor" and not self.flags.patient_already_told:
				notifications.booking_cancelled_by_doctor(self)
			callbacks.booking_freed(self)

	def save_version(self):
		# Frappe builds a Version on every insert and keeps it only for a data import: a new booking skips it
		if not self.flags.in_insert or self.flags.updater_reference:
			super().save_version()

	def on_trash(self):
		if self.status != "Cancelled":
			frappe.throw(
				_("Cancel booking {0} before deleting it").format(self.name), InvalidStatusChangeError
			)

	def validate_patient(self):
		self.patient_last_name = (self.patient_last_name or "").strip()
		self.patient_first_name = (self.patient_first_name or "").strip()
		if self.patient_date_of_birth and getdate(self.patient_date_of_birth) > getdate(today()):
			frappe.throw(_("The patient's date of birth cannot be in the future"))
		if self.patient_phone:
			phone = normalise_phone(self.patient_phone)
			if not phone:
				frappe.throw(_("Phone number {0} is not valid").format(self.patient_phone), InvalidPhoneError)
			self.patient_phone = phone

	def set_cancellation(self):
		"""Who cancelled (the doctor, a partner or the CPTS); a booking to come cancelled by its doctor is put on
		the « à replacer » list of the telesecretariat."""
		if self.status != "Cancelled" or not self.has_value_changed("status"):
			return
		self.cancelled_by = cancellation_party(self)
		if (
			self.cancelled_by == "Doctor"
			and not self.rebook_outcome
			and get_datetime(self.slot_start) > now_datetime()
		):
			self.to_rebook = 1

	def validate_slot_unchanged(self):
		"""Only services.booking.move_booking moves a booking (the slot is server-owned: a REST PUT is refused
		before this check)."""
		if self.has_value_changed("slot") and not self.flags.moved_from:
			frappe.throw(
				_("A booking cannot be moved to another slot: cancel it and book the new slot"),
				InvalidStatusChangeError,
			)

	def validate_status_change(self):
		before = self.get_doc_before_save().status
		if not can_change_booking_status(before, self.status):
			frappe.throw(
				_("A booking cannot go from {0} to {1}").format(_(before), _(self.status)),
				InvalidStatusChangeError,
			)
		if (
			before != self.status
			and outcome_needs_start_passed(self.status)
			and get_datetime(self.slot_start) > now_datetime()
		):
			frappe.throw(
				_("The outcome of a consultation can only be recorded once it has started"),
				InvalidStatusChangeError,
			)
		if self.status == "Cancelled" and not (self.cancellation_reason or "").strip():
			frappe.throw(_("Please give the reason for the cancellation"), InvalidStatusChangeError)


def on_doctype_update():
	# The weekly supplement count reads one doctor's bookings of one week under lock
	# (cpts_snp.services.booking.decide_supplement): with this index it locks that week only.
	frappe.db.add_index("SNP Booking", ["professional", "slot_start"])
