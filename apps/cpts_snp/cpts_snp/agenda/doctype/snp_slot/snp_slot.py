import frappe
from frappe import _
from frappe.model.document import Document
from frappe.utils import cint, get_datetime, now_datetime

from cpts_snp.exceptions import (
	InactiveProfessionalError,
	InvalidDurationError,
	InvalidStatusChangeError,
	SlotLockedError,
	WithdrawalTooLateError,
)
from cpts_snp.permissions import is_staff
from cpts_snp.rules.pdsa import is_pdsa
from cpts_snp.rules.slots import (
	MANUAL_SLOT_STATUSES,
	MAX_DURATION,
	MIN_DURATION,
	can_withdraw_without_coordinator,
	is_valid_duration,
	slot_end,
)
from cpts_snp.services.cascade import default_reservation, follow_pdsa_flag
from cpts_snp.services.late_declaration import check_declared_in_time
from cpts_snp.services.naming import set_name
from cpts_snp.services.places import set_place_and_label
from cpts_snp.services.settings import pdsa_schedule
from cpts_snp.services.slots import assert_no_overlap
from cpts_snp.services.supervision import check_slot as check_supervision


class SNPSlot(Document):
	def autoname(self):
		set_name(self)

	def validate(self):
		self.validate_duration()
		self.set_end()
		set_place_and_label(self)
		check_declared_in_time(self, ("starts_at", "professional"))
		self.is_pdsa = int(is_pdsa(get_datetime(self.starts_at), pdsa_schedule()))
		if not self.reserved_for:
			self.reserved_for = default_reservation()
		self.validate_booked_slot_not_moved()
		self.validate_status_change()
		if self.is_new() or self.has_value_changed("starts_at") or self.has_value_changed("professional"):
			self.validate_professional_active()
		if self.status != "Cancelled":
			assert_no_overlap(self)
		check_supervision(self)

	def on_update(self):
		if not self.flags.in_insert and self.has_value_changed("is_pdsa"):
			follow_pdsa_flag(self)

	def on_trash(self):
		if self.status in ("Booked", "Honoured", "No-show"):
			frappe.throw(
				_("Slot {0} has a booking and cannot be deleted: cancel the booking first").format(self.name),
				SlotLockedError,
			)

	def validate_duration(self):
		self.duration = cint(self.duration)
		if not is_valid_duration(self.duration):
			frappe.throw(
				_("The duration of a slot must be between {0} and {1} minutes").format(
					MIN_DURATION, MAX_DURATION
				),
				InvalidDurationError,
				title=_("Invalid duration"),
			)

	def set_end(self):
		self.ends_at = slot_end(get_datetime(self.starts_at), self.duration)

	def validate_booked_slot_not_moved(self):
		if self.is_new() or self.flags.from_booking:
			return
		if self.get_doc_before_save().status in ("Booked", "Honoured", "No-show") and any(
			self.has_value_changed(field) for field in ("professional", "starts_at", "duration")
		):
			frappe.throw(
				_("Slot {0} is booked: it cannot be moved. Cancel the booking first.").format(self.name),
				SlotLockedError,
			)

	def validate_status_change(self):
		"""Booked, honoured and no-show follow the booking; by hand a slot is only offered or withdrawn."""
		if self.flags.from_booking:
			return
		before = None if self.is_new() else self.get_doc_before_save().status
		if self.is_new() and self.status != "Available":
			self.status = "Available"
		if before is None or before == self.status:
			return
		if before not in MANUAL_SLOT_STATUSES or self.status not in MANUAL_SLOT_STATUSES:
			frappe.throw(
				_("The status of slot {0} follows its booking: change the booking instead").format(self.name),
				InvalidStatusChangeError,
			)
		if self.status == "Cancelled":
			self.validate_withdrawal_notice()

	def validate_withdrawal_notice(self):
		"""Doctors withdraw their own free slots up to 24 hours ahead; later, the coordination decides
		(an absence declared at short notice withdraws them too: it is listed for the coordinator)."""
		if self.flags.from_absence or is_staff():
			return
		if not can_withdraw_without_coordinator(get_datetime(self.starts_at), now_datetime()):
			frappe.throw(
				_("This slot starts in less than 24 hours: ask the CPTS coordination to withdraw it"),
				WithdrawalTooLateError,
			)

	def validate_professional_active(self):
		if not frappe.db.get_value("SNP Professional", self.professional, "active"):
			frappe.throw(
				_("{0} is not an active professional of the CPTS and cannot publish slots").format(
					frappe.db.get_value("SNP Professional", self.professional, "full_name")
					or self.professional
				),
				InactiveProfessionalError,
			)
