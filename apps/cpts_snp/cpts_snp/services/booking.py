"""Booking: the one way a slot gets booked, and how a booking's life cycle moves its slot.

Every way of creating a booking (desk form, /api/resource, the booking endpoints, the telesecretariat page,
the portal, the partner API and FHIR) inserts an `SNP Booking`, whose controller calls `claim_slot` before
the insert. `claim_slot` locks the professional's row, then the slot's row (SELECT … FOR UPDATE), for the rest
of the transaction: two simultaneous requests are serialised, the second one sees the slot as booked and is
refused. The unique column `active_slot` is a second guard at the database level. Locks are always taken
professional first, then slots, as the slot checks do, so they cannot deadlock each other.
"""

import frappe
from frappe import _
from frappe.utils import format_datetime, get_datetime, now_datetime

from cpts_snp.exceptions import SlotUnavailableError
from cpts_snp.rules.slots import slot_status_for_booking
from cpts_snp.rules.snp import is_snp_booking, supplement_decision, week_bounds
from cpts_snp.services.settings import booking_horizon_hours, supplement_weekly_cap

PATIENT_FIELDS = (
	"patient_last_name",
	"patient_first_name",
	"patient_date_of_birth",
	"patient_phone",
	"patient_email",
)
REQUEST_FIELDS = ("requested_at", "regulated", "patient_of_doctor")


def patient_details(last_name, first_name, date_of_birth, phone=None, email=None) -> dict:
	"""The patient of a booking as `book_slot` takes it (the endpoints receive the fields one by one)."""
	return dict(zip(PATIENT_FIELDS, (last_name, first_name, date_of_birth, phone, email), strict=True))


def book_slot(
	slot: str,
	patient: dict,
	reason: str | None = None,
	channel: str = "Telesecretariat",
	request: dict | None = None,
):
	"""Book `slot` for `patient` (a dict of PATIENT_FIELDS) and return the new `SNP Booking`.

	`request` may give REQUEST_FIELDS (when the request came, whether it was regulated, whether the patient is
	the doctor's own). Runs with the caller's permissions (creating a booking needs the create right on SNP
	Booking), except for a partner user of a partner allowed to book (see _allow_partner_booking). Raises
	SlotUnavailableError when the slot is not free any more.
	"""
	# get_doc rather than new_doc: no user defaults to apply (they cost a lookup per booking), and
	# Document.insert still sets the doctype's defaults.
	booking = frappe.get_doc({"doctype": "SNP Booking", "slot": slot, "reason": reason, "channel": channel})
	# The one link taken from the caller is the slot, which claim_slot reads (and refuses when it does not exist)
	# before taking the doctor and sector from it: Frappe's link check would read it once more.
	booking.flags.ignore_links = True
	for field in PATIENT_FIELDS:
		if patient.get(field):
			booking.set(field, patient[field])
	for field in REQUEST_FIELDS:
		if (request or {}).get(field) is not None:
			booking.set(field, request[field])
	_allow_partner_booking(booking)
	booking.insert()
	booking.flags.ignore_links = False  # for the caller's later saves of this booking
	return booking


def _allow_partner_booking(booking) -> None:
	"""Partner users hold no create right on bookings (their writes go through the app only): the partner API
	and FHIR book for them here, once their partner is checked (active, allowed to book); the controller then
	records the partner and its channel (services.partners.apply_partner)."""
	from cpts_snp.services.partners import ensure_can_book, is_partner_user, partner_of

	if is_partner_user():
		ensure_can_book(partner_of())
		booking.flags.ignore_permissions = True


def claim_slot(booking) -> None:
	"""Lock the booking's slot and take it, or refuse. Called by SNP Booking before insert.

	Plain SQL on this path: every booking runs it, and Frappe's `get_value` and query builder cost more in Python
	than the query itself."""
	if not booking.slot:
		frappe.throw(_("Please choose a slot"), frappe.MandatoryError)
	query = """SELECT `name`, `status`, `professional`, `professional_name`, `starts_at`, `sector`, `is_pdsa`
		FROM `tabSNP Slot` WHERE `name` = %s"""
	found = frappe.db.sql(query, booking.slot, as_dict=True)
	if not found:
		frappe.throw(_("Slot {0} does not exist").format(booking.slot), frappe.DoesNotExistError)
	# A slot already taken is refused at once, without waiting for the locks; a free one is read again under lock
	slot = found[0]
	if slot.status == "Available":
		# the doctor's email comes with the lock, for the notification of the new booking
		doctor = frappe.db.sql(
			"SELECT `email` FROM `tabSNP Professional` WHERE `name` = %s FOR UPDATE", slot.professional
		)
		booking.flags.professional_email = doctor[0][0] if doctor else None
		slot = frappe.db.sql(query + " FOR UPDATE", booking.slot, as_dict=True)[0]
	if slot.status != "Available" or slot.professional != found[0].professional:
		frappe.throw(
			_("The slot of {0} on {1} is no longer available: please choose another one").format(
				slot.professional_name, format_datetime(slot.starts_at, "dd/MM/yyyy HH:mm")
			),
			SlotUnavailableError,
			title=_("Slot unavailable"),
		)
	booking.flags.claimed_slot = slot
	booking.professional = slot.professional
	booking.professional_name = slot.professional_name
	booking.slot_start = slot.starts_at
	booking.sector = slot.sector
	booking.is_pdsa = slot.is_pdsa
	booking.active_slot = slot.name
	booking.requested_at = get_datetime(booking.requested_at) if booking.requested_at else now_datetime()
	booking.is_snp = is_snp_booking(
		booking.requested_at, get_datetime(slot.starts_at), booking_horizon_hours()
	)
	decide_supplement(booking)


def decide_supplement(booking) -> None:
	"""Set the SNP supplement of a new booking. The professional's row is locked by the caller, so the count
	of the week's supplements cannot change under us. The count is a locking read: it sees every committed
	booking, where a plain read would see the snapshot taken when the request began; the index on
	(professional, slot_start) keeps its locks to this doctor's week."""
	cap = supplement_weekly_cap()
	monday, next_monday = week_bounds(get_datetime(booking.slot_start).date())
	already = len(
		frappe.db.sql(
			"""SELECT `name` FROM `tabSNP Booking` WHERE `professional` = %s AND `supplement_eligible` = 1
			AND `status` != 'Cancelled' AND `slot_start` >= %s AND `slot_start` < %s FOR UPDATE""",
			(booking.professional, monday, next_monday),
		)
	)
	decision = supplement_decision(
		requested_at=get_datetime(booking.requested_at),
		consultation_start=get_datetime(booking.slot_start),
		is_pdsa=bool(booking.is_pdsa),
		patient_of_doctor=bool(booking.patient_of_doctor),
		regulated=bool(booking.regulated),
		already_this_week=already,
		cap=cap,
	)
	booking.supplement_eligible = int(decision.eligible)
	booking.supplement_note = supplement_note(decision, already, cap)


def supplement_note(decision, already: int, cap: int) -> str:
	if decision.eligible:
		return _("Eligible: {0} of {1} this week").format(decision.rank, cap)
	return {
		"pdsa": _("Not eligible: during PDSA hours"),
		"horizon": _("Not eligible: consultation more than 48 hours after the request"),
		"own_patient": _("Not eligible: patient of this doctor"),
		"not_regulated": _("Not eligible: request not regulated"),
		"cap_reached": _("Not eligible: weekly cap reached ({0} of {1})").format(already, cap),
	}[decision.reason]


def sync_slot_status(booking) -> None:
	"""Move the slot to the status that follows from its booking (Booked, Honoured, No-show, or freed).

	The slot only follows its booking: one UPDATE (with its modified time), without the slot's own checks (its
	doctor and time do not change) nor a version of the slot (the booking's history records the change). The
	caller's right to change the booking was checked on the booking itself. A new booking's slot was read
	under lock by claim_slot."""
	current = (
		booking.flags.pop("claimed_slot", None)
		or frappe.db.sql(
			"SELECT `status`, `starts_at` FROM `tabSNP Slot` WHERE `name` = %s", booking.slot, as_dict=True
		)[0]
	)
	status = slot_status_for_booking(booking.status, get_datetime(current.starts_at), now_datetime())
	if current.status != status:
		frappe.db.set_value("SNP Slot", booking.slot, "status", status)
