"""The doctors' portal (/snp): what a logged-in doctor sees and does, always on his own SNP Professional.

Every function takes the doctor's professional (from `current_professional`) and refuses a record of another
professional before anything else. Doctors and interns hold no generic write permission on the app's doctypes
(cpts_snp.permissions): these functions are their only way to change data, so after their own checks they write
with `ignore_permissions` — never on a record they have not checked is the doctor's own."""

import hmac
from datetime import date, datetime, time, timedelta

import frappe
from frappe import _
from frappe.utils import get_datetime, get_url, getdate, now_datetime
from frappe.utils.password import get_decrypted_password, set_encrypted_password

from cpts_snp.exceptions import InvalidStatusChangeError, WithdrawalTooLateError
from cpts_snp.exports.ics import slots_calendar
from cpts_snp.permissions import professional_of
from cpts_snp.rules.slots import can_cancel_booking, can_record_outcome, can_withdraw, weekly_target_status
from cpts_snp.services.callbacks import waiting_in_sectors_of
from cpts_snp.services.generation import generate_for_template
from cpts_snp.services.places import active_places, check_active_place
from cpts_snp.services.settings import weekly_target

PROFILE_FIELDS = ("phone", "email", "iban", "bic")
FEED_PAST_DAYS, FEED_FUTURE_DAYS = 60, 180


def current_professional() -> str:
	"""The SNP Professional of the logged-in doctor, or a PermissionError."""
	if frappe.session.user == "Guest":
		raise frappe.PermissionError(_("Please log in to reach the doctors' space"))
	professional = professional_of(frappe.session.user)
	if not professional:
		frappe.throw(_("This space is for the doctors of the CPTS"), frappe.PermissionError)
	return professional


def own_document(doctype: str, name: str, professional: str, for_write: bool = False):
	"""The document if its stored `professional` is `professional`, else a PermissionError (same answer whether
	it exists). `for_write`: the document is marked to be saved by the app on the doctor's behalf."""
	owner = frappe.db.get_value(doctype, name, "professional") if isinstance(name, str) and name else None
	if owner != professional:
		frappe.throw(_("This record is not yours"), frappe.PermissionError)
	doc = frappe.get_doc(doctype, name)
	doc.check_permission("read")
	if for_write:
		doc.flags.ignore_permissions = True
	return doc


# --- Mes créneaux ------------------------------------------------------------------------------------------
def monday_of(day: date) -> date:
	return day - timedelta(days=day.weekday())


def week_view(professional: str, monday: date) -> dict:
	next_monday = monday + timedelta(days=7)
	slots = frappe.get_list(
		"SNP Slot",
		filters=[
			["professional", "=", professional],
			["starts_at", ">=", datetime.combine(monday, time.min)],
			["starts_at", "<", datetime.combine(next_monday, time.min)],
		],
		fields=["name", "starts_at", "ends_at", "duration", "modality", "location", "status", "is_pdsa"],
		order_by="starts_at asc",
	)
	now = now_datetime()
	days = []
	for offset in range(7):
		day = monday + timedelta(days=offset)
		days.append({"date": day, "slots": [s for s in slots if get_datetime(s.starts_at).date() == day]})
	for slot in slots:
		slot.can_withdraw = can_withdraw(slot.status, get_datetime(slot.starts_at), now)
	offered = sum(1 for s in slots if s.status != "Cancelled")
	minimum, maximum = weekly_target()
	return {
		"monday": monday,
		"sunday": monday + timedelta(days=6),
		"days": days,
		"offered": offered,
		"target_min": minimum,
		"target_max": maximum,
		"target_status": weekly_target_status(offered, minimum, maximum),
		# the call-back list: patients waiting for a slot in his sectors (cpts_snp.services.callbacks)
		"waiting_callbacks": waiting_in_sectors_of(professional),
		"places": active_places(),
		"main_place": frappe.db.get_value("SNP Professional", professional, "place"),
		"templates": frappe.get_list(
			"SNP Availability Template",
			filters={"professional": professional, "enabled": 1},
			fields=[
				"name",
				"start_time",
				"number_of_slots",
				"slot_duration",
				"location",
				"monday",
				"tuesday",
				"wednesday",
				"thursday",
				"friday",
				"saturday",
				"sunday",
			],
		),
	}


def publish_slot(professional: str, starts_at, duration, modality: str = "Office", place: str | None = None):
	"""A slot of the doctor at one of the CPTS's active places (none given: his main place)."""
	return frappe.get_doc(
		{
			"doctype": "SNP Slot",
			"professional": professional,
			"starts_at": get_datetime(starts_at),
			"duration": duration,
			"modality": modality,
			"place": check_active_place(place),
		}
	).insert(ignore_permissions=True)


def apply_template(professional: str, template: str, monday: date) -> list[str]:
	doc = own_document("SNP Availability Template", template, professional)
	return generate_for_template(doc, days=(monday, monday + timedelta(days=6)))


def withdraw_slot(professional: str, slot: str):
	doc = own_document("SNP Slot", slot, professional, for_write=True)
	if doc.status != "Available":
		frappe.throw(_("Only a free slot can be withdrawn: cancel its booking first"))
	if not can_withdraw(doc.status, get_datetime(doc.starts_at), now_datetime()):
		frappe.throw(
			_("This slot starts in less than 24 hours: ask the CPTS coordination to withdraw it"),
			WithdrawalTooLateError,
		)
	doc.status = "Cancelled"
	doc.save()
	return doc


# --- Mes rendez-vous ----------------------------------------------------------------------------------------
def my_bookings(professional: str, upcoming: bool = True, limit: int = 100) -> list[dict]:
	now = now_datetime()
	bookings = frappe.get_list(
		"SNP Booking",
		filters=[["professional", "=", professional], ["slot_start", ">=" if upcoming else "<", now]],
		fields=[
			"name",
			"slot_start",
			"status",
			"patient_last_name",
			"patient_first_name",
			"patient_date_of_birth",
			"patient_phone",
			"reason",
			"channel",
			"cancellation_reason",
			"supplement_eligible",
		],
		order_by="slot_start asc" if upcoming else "slot_start desc",
		limit_page_length=limit,
	)
	for booking in bookings:
		start = get_datetime(booking.slot_start)
		booking.can_mark_honoured = can_record_outcome(booking.status, "Honoured", start, now)
		booking.can_mark_no_show = can_record_outcome(booking.status, "No-show", start, now)
		booking.can_cancel = can_cancel_booking(booking.status, start, now)
	return bookings


def record_outcome(professional: str, booking: str, status: str):
	if status not in ("Honoured", "No-show"):
		frappe.throw(_("Unknown outcome: {0}").format(status))
	doc = own_document("SNP Booking", booking, professional, for_write=True)
	start, now = get_datetime(doc.slot_start), now_datetime()
	if not can_record_outcome(doc.status, status, start, now):
		frappe.throw(
			_("The outcome of a consultation can only be recorded once it has started")
			if start > now
			else _("A booking cannot go from {0} to {1}").format(_(doc.status), _(status)),
			InvalidStatusChangeError,
		)
	doc.status = status
	doc.save()
	return doc


def cancel_booking(professional: str, booking: str, reason: str):
	doc = own_document("SNP Booking", booking, professional, for_write=True)
	if not can_cancel_booking(doc.status, get_datetime(doc.slot_start), now_datetime()):
		frappe.throw(
			_("Only a booking still to come can be cancelled: record its outcome instead"),
			InvalidStatusChangeError,
		)
	doc.status = "Cancelled"
	doc.cancellation_reason = reason
	doc.save()
	return doc


# --- Mes absences -------------------------------------------------------------------------------------------
def _check_period(from_date, to_date) -> tuple[date, date]:
	if not from_date or not to_date:
		frappe.throw(_("Give the first and the last day of the absence"))
	first, last = getdate(from_date), getdate(to_date)
	if last < first:
		frappe.throw(_("The end of the absence cannot be before its start"))
	return first, last


def absence_preview(professional: str, from_date, to_date) -> list[dict]:
	"""The bookings an absence over [from_date, to_date] would hit, before it is declared."""
	first, last = _check_period(from_date, to_date)
	return frappe.get_list(
		"SNP Booking",
		filters=[
			["professional", "=", professional],
			["status", "=", "Booked"],
			["slot_start", ">=", datetime.combine(first, time.min)],
			["slot_start", "<", datetime.combine(last + timedelta(days=1), time.min)],
		],
		fields=["name", "slot_start", "patient_first_name", "patient_last_name"],
		order_by="slot_start asc",
	)


def declare_absence(professional: str, from_date, to_date, reason: str | None = None):
	first, last = _check_period(from_date, to_date)
	return frappe.get_doc(
		{
			"doctype": "SNP Absence",
			"professional": professional,
			"from_date": first,
			"to_date": last,
			"reason": reason,
		}
	).insert(ignore_permissions=True)


def my_absences(professional: str) -> list[dict]:
	return frappe.get_list(
		"SNP Absence",
		filters={"professional": professional},
		fields=["name", "from_date", "to_date", "reason", "cancelled_slots"],
		order_by="from_date desc",
		limit_page_length=50,
	)


# --- Mon profil ---------------------------------------------------------------------------------------------
def update_profile(professional: str, values: dict, sectors: list[str] | None = None):
	"""The doctor's contact and bank details. A new IBAN/BIC is not used at once: SNP Professional keeps it as
	pending (pending_iban, pending_bic, iban_changed_on) and asks the finance team to confirm it
	(services.bank_details); bank details not sent (None) stay as they are, an empty IBAN removes it."""
	doc = frappe.get_doc("SNP Professional", professional)
	for field in PROFILE_FIELDS:
		if field in ("iban", "bic") and values.get(field) is None:
			continue
		if field in values:
			doc.set(field, (values.get(field) or "").strip() or None)
	if sectors is not None:
		doc.set("sectors", [{"sector": sector} for sector in sectors if sector and sector != doc.sector])
	doc.flags.ignore_permissions = True  # `professional` is the caller's own (current_professional)
	doc.save()
	return doc


# --- Calendar feed ------------------------------------------------------------------------------------------
def _token(professional: str) -> str | None:
	return get_decrypted_password("SNP Professional", professional, "ics_token", raise_exception=False)


def regenerate_feed_token(professional: str) -> str:
	"""A new secret for the feed URL; the previous URL stops working at once."""
	frappe.get_doc("SNP Professional", professional).check_permission("read")
	token = new_feed_token()
	set_encrypted_password("SNP Professional", professional, token, "ics_token")
	return token


def new_feed_token() -> str:
	return frappe.generate_hash(length=40)


def feed_url(professional: str) -> str | None:
	"""The private feed address, or None before a token exists (a GET page never writes: it offers a button)."""
	token = _token(professional)
	if not token:
		return None
	return get_url(f"/api/method/cpts_snp.api.portal.calendar_feed?professional={professional}&token={token}")


def calendar_feed(professional: str, token: str) -> bytes:
	"""The feed of `professional` if `token` is his current secret (compared in constant time)."""
	expected = (
		_token(professional) if professional and frappe.db.exists("SNP Professional", professional) else None
	)
	if not expected or not hmac.compare_digest(expected.encode(), (token or "").encode()):
		raise frappe.PermissionError(_("This calendar link is not valid any more"))
	now = now_datetime()
	# The token was checked above: it stands for the doctor, who may read his own slots.
	slots = frappe.get_all(
		"SNP Slot",
		filters=[
			["professional", "=", professional],
			["starts_at", ">=", now - timedelta(days=FEED_PAST_DAYS)],
			["starts_at", "<", now + timedelta(days=FEED_FUTURE_DAYS)],
			["status", "!=", "Cancelled"],
		],
		fields=["name", "starts_at", "ends_at", "status", "modality", "location", "modified"],
		order_by="starts_at asc",
	)
	for slot in slots:
		slot.starts_at, slot.ends_at = get_datetime(slot.starts_at), get_datetime(slot.ends_at)
		slot.modified = get_datetime(slot.modified)
		slot.modality_label = _(slot.modality)
	settings_name = frappe.db.get_single_value("SNP Settings", "cpts_name") or "CPTS"
	return slots_calendar(
		slots,
		calendar_name=f"{settings_name} – SNP",
		timezone=frappe.utils.get_system_timezone(),
		domain=frappe.local.site,
	)


# --- Permanences, supervision shifts, debriefs (doctors have no generic write right: these are their ways) ----
def request_swap(professional: str, permanence: str, to_professional: str, reason: str | None = None):
	"""Ask `to_professional` to take one of the doctor's own permanences (SNP Permanence Swap, workflow)."""
	own_document("SNP Permanence", permanence, professional)
	swap = frappe.get_doc(
		{
			"doctype": "SNP Permanence Swap",
			"permanence": permanence,
			"to_professional": to_professional,
			"reason": reason,
		}
	)
	return swap.insert(ignore_permissions=True)


def answer_swap(professional: str, swap: str, accept: bool):
	"""The doctor asked to take a permanence accepts or refuses (the workflow's transition, as the desk does)."""
	from frappe.model.workflow import apply_workflow

	stored = (
		frappe.db.get_value("SNP Permanence Swap", swap, "to_professional") if isinstance(swap, str) else None
	)
	if not stored or stored != professional:
		frappe.throw(
			_("Only the doctor asked to take the permanence answers this swap"), frappe.PermissionError
		)
	doc = frappe.get_doc("SNP Permanence Swap", swap)
	doc.flags.ignore_permissions = True
	return apply_workflow(doc, "Accept" if accept else "Refuse")


def set_teleconsultation_link(professional: str, permanence: str, link: str | None):
	"""The doctor on duty gives the address of his teleconsultation room (https only)."""
	doc = own_document("SNP Permanence", permanence, professional, for_write=True)
	link = (link or "").strip() or None
	if link and not link.lower().startswith("https://"):
		frappe.throw(_("The teleconsultation link must be an https:// address"))
	doc.teleconsultation_link = link
	doc.save()
	return doc


def declare_shift(professional: str, starts_at, ends_at, notes: str | None = None):
	"""A maître de stage declares when he is reachable for his interns (the shift's own rules apply)."""
	return frappe.get_doc(
		{
			"doctype": "SNP Supervision Shift",
			"supervisor": professional,
			"starts_at": get_datetime(starts_at),
			"ends_at": get_datetime(ends_at),
			"notes": notes,
		}
	).insert(ignore_permissions=True)


def withdraw_shift(professional: str, shift: str) -> None:
	stored = (
		frappe.db.get_value("SNP Supervision Shift", shift, "supervisor") if isinstance(shift, str) else None
	)
	if not stored or stored != professional:
		frappe.throw(_("This record is not yours"), frappe.PermissionError)
	frappe.delete_doc("SNP Supervision Shift", shift, ignore_permissions=True)


def record_debrief(professional: str, debrief: str, notes: str, done: bool = True):
	"""A supervisor of the intern writes the debrief of a consultation (and marks it done)."""
	from cpts_snp.services.supervision import supervisors_of

	intern = frappe.db.get_value("SNP Debrief", debrief, "intern") if isinstance(debrief, str) else None
	if not intern or professional not in supervisors_of(intern):
		frappe.throw(_("Only a supervisor of the intern marks a debrief as done"), frappe.PermissionError)
	doc = frappe.get_doc("SNP Debrief", debrief)
	doc.notes = notes
	if done:
		doc.status = "Done"
	doc.flags.ignore_permissions = True
	doc.save()
	return doc
