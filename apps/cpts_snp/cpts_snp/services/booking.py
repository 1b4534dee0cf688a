"""Booking: the one way a slot gets booked, and how a booking's life cycle moves its slot.

Every way of creating a booking (desk form, /api/resource, the booking endpoint, later the portal and the
partner API) inserts an `SNP Booking`, whose controller calls `claim_slot` before the insert. `claim_slot` locks
the slot row (SELECT … FOR UPDATE) for the rest of the transaction, so two simultaneous requests are serialised:
the second one sees the slot as booked and is refused. The unique column `active_slot` is a second guard at the
database level.
"""

import frappe
from frappe import _
from frappe.utils import get_datetime, now_datetime

from cpts_snp.exceptions import SlotUnavailableError
from cpts_snp.rules.slots import slot_status_for_booking

PATIENT_FIELDS = (
	"patient_last_name",
	"patient_first_name",
	"patient_date_of_birth",
	"patient_phone",
	"patient_email",
)


def book_slot(slot: str, patient: dict, reason: str | None = None, channel: str = "Telesecretariat"):
	"""Book `slot` for `patient` (a dict of PATIENT_FIELDS) and return the new `SNP Booking`.

	Runs with the caller's permissions (creating a booking needs the create right on SNP Booking).
	Raises SlotUnavailableError when the slot is not free any more.
	"""
	booking = frappe.new_doc("SNP Booking")
	booking.slot = slot
	booking.reason = reason
	booking.channel = channel
	for field in PATIENT_FIELDS:
		if patient.get(field):
			booking.set(field, patient[field])
	booking.insert()
	return booking


def claim_slot(booking) -> None:
	"""Lock the booking's slot and take it, or refuse. Called by SNP Booking before insert."""
	slot = frappe.db.get_value(
		"SNP Slot",
		booking.slot,
		["name", "status", "professional", "professional_name", "starts_at"],
		as_dict=True,
		for_update=True,
	)
	if not slot:
		frappe.throw(_("Slot {0} does not exist").format(booking.slot), frappe.DoesNotExistError)
	if slot.status != "Available":
		frappe.throw(
			_("The slot of {0} on {1} is no longer available: please choose another one").format(
				slot.professional_name, frappe.utils.format_datetime(slot.starts_at, "dd/MM/yyyy HH:mm")
			),
			SlotUnavailableError,
			title=_("Slot unavailable"),
		)
	booking.professional = slot.professional
	booking.professional_name = slot.professional_name
	booking.slot_start = slot.starts_at
	booking.active_slot = slot.name


def sync_slot_status(booking) -> None:
	"""Move the slot to the status that follows from its booking (Booked, Honoured, No-show, or freed)."""
	slot = frappe.get_doc("SNP Slot", booking.slot)
	status = slot_status_for_booking(booking.status, get_datetime(slot.starts_at), now_datetime())
	if slot.status == status:
		return
	slot.status = status
	slot.flags.from_booking = True
	# The caller's right to change the booking was checked on the booking itself; the slot only follows it.
	slot.flags.ignore_permissions = True
	slot.save()
