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

from cpts_snp.exceptions import InvalidStatusChangeError, SlotUnavailableError
from cpts_snp.permissions import server_write
from cpts_snp.rules.slots import slot_status_for_booking
from cpts_snp.rules.snp import WeekBooking, is_snp_booking, rank_week, supplement_decision, week_bounds
from cpts_snp.services.cascade import RESERVED
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
	values: dict | None = None,
):
	"""Book `slot` for `patient` (a dict of PATIENT_FIELDS) and return the new `SNP Booking`.

	`request` may give REQUEST_FIELDS (when the request came, whether it was regulated, whether the patient is
	the doctor's own); `values`, other fields the app's own code sets (the booking a rebooking replaces). Runs with the caller's permissions (creating a booking needs the create right on SNP
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
	# what the caller said of the regulation, for a partner's default (services.partners.apply_partner)
	booking.flags.regulated_given = (request or {}).get("regulated")
	booking.update(values or {})
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
		booking.flags.partner_booking = True


def claim_slot(booking) -> None:
	"""Lock the booking's slot and take it, or refuse. Called by SNP Booking before insert.

	Plain SQL on this path: every booking runs it, and Frappe's `get_value` and query builder cost more in Python
	than the query itself."""
	if not booking.slot:
		frappe.throw(_("Please choose a slot"), frappe.MandatoryError)
	query = """SELECT `name`, `status`, `professional`, `professional_name`, `starts_at`, `sector`, `is_pdsa`,
		`reserved_for` FROM `tabSNP Slot` WHERE `name` = %s"""
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
	# a slot the telesecretariat keeps for itself is not offered to partners (services.cascade)
	reserved = booking.flags.partner_booking and slot.reserved_for == RESERVED
	if slot.status != "Available" or slot.professional != found[0].professional or reserved:
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


# --- Re-deciding supplements after a change -----------------------------------------------------------------
# What the supplement of an existing booking depends on; a change of one of them re-decides its week.
SUPPLEMENT_INPUTS = ("regulated", "patient_of_doctor", "is_pdsa", "requested_at", "slot", "slot_start")


def redecide_on_change(booking) -> None:
	"""Called by SNP Booking.validate on every save of an existing booking: when what the supplement depends on
	changed (the two questions, the slot's PDSA status, the request time, the slot itself when moved), or the
	booking is cancelled while it held a supplement, the supplements of the week(s) concerned are re-decided
	in this transaction (locks: the professionals in name order, then the weeks' bookings)."""
	if booking.flags.supplement_reranked:
		return
	before = booking.get_doc_before_save()
	if not before:
		return
	if booking.status == "Cancelled":
		if before.status != "Cancelled" and before.supplement_eligible:
			_lock_professionals([before.professional])
			redecide_week(before.professional, before.slot_start, exclude=booking.name)
		return
	if not any(booking.has_value_changed(field) for field in SUPPLEMENT_INPUTS):
		return
	weeks = {
		(before.professional, _monday(before.slot_start)),
		(booking.professional, _monday(booking.slot_start)),
	}
	_lock_professionals([professional for professional, _monday_ in weeks])
	for professional, monday in sorted(weeks):
		if (professional, monday) == (booking.professional, _monday(booking.slot_start)):
			redecide_week(professional, monday, booking=booking)
		else:  # the week the booking leaves
			redecide_week(professional, monday, exclude=booking.name)


def _monday(moment):
	return week_bounds(get_datetime(moment).date())[0]


def _lock_professionals(professionals) -> None:
	for name in sorted(set(professionals)):
		frappe.db.sql("SELECT `name` FROM `tabSNP Professional` WHERE `name` = %s FOR UPDATE", name)


def redecide_week(professional: str, day, booking=None, exclude: str | None = None) -> None:
	"""Re-decide the supplements of `professional`'s week holding `day` (rules.snp.rank_week): `booking`, the
	document being saved, is judged on its new values (its fields are set, the caller saves it); the other
	bookings whose supplement changes are saved through their documents (their history shows the change).
	The professional's row must be locked by the caller; the week's bookings are read under lock."""
	monday, next_monday = week_bounds(get_datetime(day).date())
	rows = frappe.db.sql(
		"""SELECT `name`, `creation`, `requested_at`, `slot_start`, `is_pdsa`, `patient_of_doctor`, `regulated`,
			`supplement_eligible`, `supplement_note`
		FROM `tabSNP Booking` WHERE `professional` = %s AND `status` != 'Cancelled'
			AND `slot_start` >= %s AND `slot_start` < %s
		ORDER BY `creation`, `name` FOR UPDATE""",
		(professional, monday, next_monday),
		as_dict=True,
	)
	rows = [row for row in rows if row.name not in (exclude, booking and booking.name)]
	if booking is not None:
		rows.append(booking)
		rows.sort(key=lambda row: (get_datetime(row.creation or now_datetime()), row.name or ""))
	if not rows:
		return
	frozen = paid_bookings([row.name for row in rows])
	entries = [
		WeekBooking(
			name=row.name,
			holds=bool(row.supplement_eligible),
			refused_for=_refusal(row),
			frozen=row.name in frozen,
		)
		for row in rows
	]
	cap = supplement_weekly_cap()
	decisions = rank_week(entries, cap)
	eligible_count = sum(1 for entry in entries if _eligible(decisions[entry.name], entry))
	for row in rows:
		decision = decisions[row.name]
		if decision is None:
			continue
		eligible = int(decision.eligible)
		note = supplement_note(decision, eligible_count, cap)
		if booking is not None and row is booking:
			booking.supplement_eligible, booking.supplement_note = eligible, note
		elif (int(row.supplement_eligible or 0), row.supplement_note) != (eligible, note):
			other = frappe.get_doc("SNP Booking", row.name)
			other.supplement_eligible, other.supplement_note = eligible, note
			other.flags.supplement_reranked = True
			# the caller's right was checked on the change that freed or took the place
			other.flags.ignore_permissions = True
			server_write(other).save()


def _eligible(decision, entry) -> bool:
	return decision.eligible if decision is not None else entry.holds


def _refusal(row) -> str | None:
	"""Why the rules refuse the supplement of `row` whatever the weekly cap (None: only the cap decides)."""
	decision = supplement_decision(
		requested_at=get_datetime(row.requested_at),
		consultation_start=get_datetime(row.slot_start),
		is_pdsa=bool(row.is_pdsa),
		patient_of_doctor=bool(row.patient_of_doctor),
		regulated=bool(row.regulated),
		already_this_week=0,
		cap=1,
	)
	return decision.reason


def paid_bookings(names: list[str]) -> set[str]:
	"""The bookings among `names` already claimed by a payment run (SNP Paid Item): what was paid is not
	rewritten."""
	if not names:
		return set()
	return set(
		frappe.db.sql_list(
			"""SELECT `item_name` FROM `tabSNP Paid Item`
			WHERE `item_doctype` = 'SNP Booking' AND `item_name` IN %s""",
			(tuple(names),),
		)
	)


# --- Moving a booking, and the bookings « à replacer » ------------------------------------------------------
REBOOKED = "Rebooked"
NO_NEW_APPOINTMENT = "Patient informed, no new appointment"


def move_booking(booking: str, new_slot: str, reason: str | None = None):
	"""Move `booking` to the free slot `new_slot` in one transaction, and return the booking.

	A booking still to come moves itself: the same booking (its history shows the old and the new slot), the old
	slot freed, the new one claimed, the supplements of both weeks re-decided, the patient and both doctors told.
	Locks as book_slot: the professionals in name order, then the slots in name order; a slot taken meanwhile is
	refused with SlotUnavailableError. A booking cancelled by its doctor (« à replacer ») is not re-activated (a
	cancellation is final, and the doctor's cancellation stays in the figures): a new booking is made for the
	same patient, linked both ways (`rebooked_from`, `rebooked_as`), see `rebook`. Needs the write right on the
	booking (the telesecretariat and the coordination)."""
	doc = frappe.get_doc("SNP Booking", booking)
	doc.check_permission("write")
	if doc.status == "Cancelled":
		return rebook(doc, new_slot, reason)
	if doc.status != "Booked" or get_datetime(doc.slot_start) <= now_datetime():
		frappe.throw(_("Only a booking still to come can be moved"), InvalidStatusChangeError)
	if new_slot == doc.slot:
		frappe.throw(_("Please choose another slot"), InvalidStatusChangeError)
	target = frappe.db.sql("SELECT `professional` FROM `tabSNP Slot` WHERE `name` = %s", new_slot)
	if not target:
		frappe.throw(_("Slot {0} does not exist").format(new_slot), frappe.DoesNotExistError)
	_lock_professionals([doc.professional, target[0][0]])
	slots = {
		row.name: row
		for row in frappe.db.sql(
			"""SELECT `name`, `status`, `professional`, `professional_name`, `starts_at`, `sector`, `is_pdsa`
			FROM `tabSNP Slot` WHERE `name` IN %s ORDER BY `name` FOR UPDATE""",
			((doc.slot, new_slot),),
			as_dict=True,
		)
	}
	slot = slots[new_slot]
	if slot.status != "Available" or get_datetime(slot.starts_at) <= now_datetime():
		_refuse_taken(slot)
	previous = {
		"slot": doc.slot,
		"slot_start": doc.slot_start,
		"professional": doc.professional,
		"professional_name": doc.professional_name,
	}
	_take_slot(doc, slot)
	doc.is_snp = is_snp_booking(
		get_datetime(doc.requested_at), get_datetime(slot.starts_at), booking_horizon_hours()
	)
	if doc.to_rebook:  # hit by an absence of its doctor: moved, so replaced
		doc.to_rebook, doc.rebook_outcome = 0, REBOOKED
	doc.flags.moved_from = previous
	server_write(doc).save()
	old = slots.get(previous["slot"])
	if old:
		frappe.db.set_value(
			"SNP Slot",
			old.name,
			"status",
			slot_status_for_booking("Cancelled", get_datetime(old.starts_at), now_datetime()),
		)
	frappe.db.set_value("SNP Slot", slot.name, "status", "Booked")
	if reason:
		doc.add_comment("Comment", _("Moved from {0}: {1}").format(previous["slot"], reason))
	from cpts_snp.services import notifications

	notifications.booking_moved(doc, previous)
	return doc


def _refuse_taken(slot) -> None:
	frappe.throw(
		_("The slot of {0} on {1} is no longer available: please choose another one").format(
			slot.professional_name, format_datetime(slot.starts_at, "dd/MM/yyyy HH:mm")
		),
		SlotUnavailableError,
		title=_("Slot unavailable"),
	)


def _take_slot(booking, slot) -> None:
	booking.slot = slot.name
	booking.professional = slot.professional
	booking.professional_name = slot.professional_name
	booking.slot_start = slot.starts_at
	booking.sector = slot.sector
	booking.is_pdsa = slot.is_pdsa
	booking.active_slot = slot.name


def rebook(doc, new_slot: str, reason: str | None = None):
	"""A new booking on `new_slot` for the patient of `doc`, a booking cancelled by its doctor and still « à
	replacer »; `doc` leaves the list. The request is the CPTS's call of today (the SNP horizon counts from
	it); the two questions and the patient are those of the cancelled booking. Returns the new booking."""
	doc.check_permission("write")
	if doc.status != "Cancelled" or not doc.to_rebook:
		frappe.throw(_("Only a booking cancelled by its doctor can be rebooked"), InvalidStatusChangeError)
	patient = {field: doc.get(field) for field in PATIENT_FIELDS}
	values = {"rebooked_from": doc.name}
	if doc.meta.has_field("patient") and doc.get("patient"):  # the patient record, when bookings have one
		values["patient"] = doc.patient
	new = book_slot(
		new_slot,
		patient,
		reason=reason or doc.reason,
		channel=doc.channel,
		request={"regulated": doc.regulated, "patient_of_doctor": doc.patient_of_doctor},
		values=values,
	)
	doc.to_rebook, doc.rebook_outcome, doc.rebooked_as = 0, REBOOKED, new.name
	server_write(doc).save()
	return new


def close_to_rebook(booking: str, note: str | None = None):
	"""« Patient prévenu, pas de nouveau RDV »: the booking leaves the « à replacer » list without a new
	appointment. A booking still active (its doctor is absent) is cancelled, by the doctor."""
	doc = frappe.get_doc("SNP Booking", booking)
	doc.check_permission("write")
	if not doc.to_rebook:
		frappe.throw(
			_("Booking {0} is not waiting to be rebooked").format(doc.name), InvalidStatusChangeError
		)
	if doc.status == "Booked":
		doc.status = "Cancelled"
		doc.cancellation_reason = note or _("The doctor is absent: the patient was told")
		doc.flags.cancelled_by = "Doctor"
		doc.flags.patient_already_told = True
	doc.to_rebook, doc.rebook_outcome = 0, NO_NEW_APPOINTMENT
	server_write(doc).save()
	if note:
		doc.add_comment("Comment", note)
	return doc


def flag_to_rebook(booking: str) -> None:
	"""A booking whose doctor will not be there (absence): on the « à replacer » list. For the caller who
	declared the absence (its right was checked on the absence)."""
	doc = frappe.get_doc("SNP Booking", booking)
	if doc.to_rebook or doc.status != "Booked":
		return
	doc.to_rebook = 1
	doc.flags.ignore_permissions = True
	server_write(doc).save()


def cancellation_party(booking) -> str:
	"""Who cancels `booking` now: its doctor (his portal, or the staff recording it for him), a partner, or the
	CPTS."""
	from cpts_snp.permissions import professional_of
	from cpts_snp.services.partners import is_partner_user

	if booking.flags.cancelled_by:
		return booking.flags.cancelled_by
	if is_partner_user():
		return "Partner"
	if booking.professional and professional_of() == booking.professional:
		return "Doctor"
	return "CPTS"
