"""Concertation meetings and working groups (issue 17 §4): a meeting (SNP Meeting) of the CPTS, its participants
(professionals, partners' people, others), its minutes and decisions, the attendance the coordination confirms,
and the professionals' attendance paid in the payment runs.

- Only the coordination confirms the attendance (`confirm_attendance`, button « Confirmer les présences »): the
  server records who and when (server-owned `confirmed_by`, `confirmed_on`). From then on the meeting's date, start,
  duration and participants are fixed, by every path (form, REST on the meeting or on a participant row,
  frappe.client, Data Import): `check_meeting_changes`, `check_participant_row`. The coordination may reopen it
  (`reopen_attendance`) only while no payment run holds one of its attendances.
- Payment (services.payment_run, item type « Meeting attendance »): each professional marked present at a meeting
  whose attendance is confirmed, dated in the run's period, is one item of `duration_hours` hours at the scheme's
  `meeting_rate_per_hour`. Its key names the meeting and the professional (`meeting:<meeting>/<professional>`,
  the primary key of SNP Paid Item), so an attendance is paid once, however many runs or rows. SASPAS interns are
  SNP Professionals: present, they are paid like any professional, as their slots are.
- Minutes and decisions may hold patients' information (concertation on complex cases): they are at permission
  level 1, read and written by the coordination only; the finance reads the rest (what it pays); the
  télésecrétariat reads nothing. Doctors see their own meetings in the portal (/snp/reunions, `my_meetings`):
  date, type, title, duration, attendance and the run that paid it, never the minutes.
"""

from datetime import datetime, time, timedelta

import frappe
from frappe import _
from frappe.utils import cint, flt, get_time, getdate, now_datetime

from cpts_snp.exceptions import MeetingError
from cpts_snp.permissions import COORDINATION, server_write
from cpts_snp.services.text import clean_name_fields

MEETING = "SNP Meeting"
PARTICIPANT = "SNP Meeting Participant"
PLANNED, HELD, CONFIRMED, CANCELLED = "Planned", "Held", "Attendance confirmed", "Cancelled"
PROFESSIONAL, PARTNER_STAFF, OTHER = "Professional", "Partner staff", "Other"
ITEM_TYPE = "Meeting attendance"
KEY_PREFIX = "meeting"
MAX_HOURS = 12
# what cannot change once the attendance is confirmed
LOCKED_FIELDS = ("meeting_date", "start_time", "duration_hours")
ROW_FIELDS = ("kind", "professional", "partner", "person_name", "function", "present")

# The payment run's source of items (services.payment_run.ITEM_SOURCES): one row per professional present at a
# meeting whose attendance is confirmed, in the period [%(start)s, %(end_next)s).
PAYABLE_SQL = f"""SELECT DISTINCT CONCAT(m.name, '/', p.professional) AS name, p.professional,
		m.meeting_date AS item_date
	FROM `tabSNP Meeting` m
	JOIN `tabSNP Meeting Participant` p ON p.parent = m.name AND p.parenttype = 'SNP Meeting'
		AND p.parentfield = 'participants'
	WHERE m.status = '{CONFIRMED}' AND p.kind = '{PROFESSIONAL}' AND p.present = 1
		AND IFNULL(p.professional, '') != '' AND m.meeting_date >= %(start)s AND m.meeting_date < %(end_next)s"""
# The item's quantity: the meeting's hours (the claimed item `c` names the meeting before its « / »).
QUANTITY_SQL = (
	"(SELECT mt.duration_hours FROM `tabSNP Meeting` mt WHERE mt.name = SUBSTRING_INDEX(c.item_name, '/', 1))"
)


def item_key(meeting: str, professional: str) -> str:
	"""The primary key of the attendance's SNP Paid Item."""
	return f"{KEY_PREFIX}:{meeting}/{professional}"


def is_coordination(user: str | None = None) -> bool:
	user = user or frappe.session.user
	return user == "Administrator" or bool(COORDINATION.intersection(frappe.get_roles(user)))


# --- the meeting's own checks (SNP Meeting.validate) --------------------------------------------------------------
def validate_meeting(doc) -> None:
	check_duration(doc)
	check_participants(doc)
	check_meeting_changes(doc)


def check_duration(doc) -> None:
	hours = flt(doc.duration_hours)
	if hours <= 0 or hours > MAX_HOURS:
		frappe.throw(
			_("The duration of a meeting is more than 0 and at most {0} hours").format(MAX_HOURS),
			MeetingError,
		)


def check_participants(doc) -> None:
	seen = set()
	for row in doc.get("participants") or []:
		clean_name_fields(row, "person_name", "function")
		if row.kind == PROFESSIONAL:
			if not row.professional:
				frappe.throw(
					_("Row {0}: choose the professional who takes part").format(row.idx), MeetingError
				)
			if row.professional in seen:
				frappe.throw(
					_("Row {0}: {1} is already listed among the participants").format(
						row.idx, row.person_name or row.professional
					),
					MeetingError,
				)
			seen.add(row.professional)
			if not row.person_name or doc.status != CONFIRMED:
				# the name as it was when the attendance was confirmed stays (a later change of the
				# professional's name is no change of the participants)
				row.person_name = frappe.db.get_value("SNP Professional", row.professional, "full_name")
			row.partner = None
			continue
		if row.professional:
			frappe.throw(
				_("Row {0}: a professional of the CPTS takes part with the kind « {1} »").format(
					row.idx, _(PROFESSIONAL)
				),
				MeetingError,
			)
		if row.kind == PARTNER_STAFF and not row.partner:
			frappe.throw(_("Row {0}: choose the person's partner").format(row.idx), MeetingError)
		if row.kind == OTHER:
			row.partner = None
		if not row.person_name:
			frappe.throw(_("Row {0}: give the participant's name").format(row.idx), MeetingError)


def _rows(doc_or_rows) -> list[tuple]:
	rows = doc_or_rows.get("participants") if hasattr(doc_or_rows, "get") else doc_or_rows
	return sorted(
		tuple(
			str(row.get(field) or "") if field != "present" else cint(row.get(field)) for field in ROW_FIELDS
		)
		for row in rows or []
	)


def _same(stored, doc, field: str) -> bool:
	old, new = stored.get(field), doc.get(field)
	if field == "duration_hours":
		return flt(old, 6) == flt(new, 6)
	if field == "start_time":
		return (get_time(old) if old else None) == (get_time(new) if new else None)
	return (getdate(old) if old else None) == (getdate(new) if new else None)


def check_meeting_changes(doc) -> None:
	"""The status « Attendance confirmed » is the coordination's action (confirm_attendance); once confirmed, the
	date, start, duration and participants never change (reopen_attendance first, while nothing is paid)."""
	if doc.flags.cpts_server_write:
		return
	stored = None if doc.is_new() else doc.get_doc_before_save()
	was_confirmed = bool(stored) and stored.status == CONFIRMED
	if doc.status == CONFIRMED and not was_confirmed:
		frappe.throw(
			_("The attendance is confirmed by the coordination with « Confirm attendance »"), MeetingError
		)
	if not was_confirmed:
		return
	if doc.status != CONFIRMED:
		frappe.throw(
			_("The attendance of this meeting is confirmed: reopen it first (« Reopen attendance »)"),
			MeetingError,
		)
	changed = [field for field in LOCKED_FIELDS if not _same(stored, doc, field)]
	if changed or _rows(stored) != _rows(doc):
		frappe.throw(
			_(
				"The attendance of this meeting is confirmed: its date, duration and participants cannot change"
			),
			MeetingError,
		)


def check_participant_row(row) -> None:
	"""A participant row saved or deleted on its own (REST on the row): never in a meeting whose attendance is
	confirmed."""
	if row.flags.cpts_server_write or row.parenttype != MEETING or not row.parent:
		return
	if frappe.db.get_value(MEETING, row.parent, "status") == CONFIRMED:
		frappe.throw(
			_(
				"The attendance of this meeting is confirmed: its date, duration and participants cannot change"
			),
			MeetingError,
		)


def check_deletion(doc) -> None:
	if doc.status == CONFIRMED or claims(doc.name):
		frappe.throw(
			_("A meeting whose attendance is confirmed cannot be deleted: reopen it first"), MeetingError
		)


# --- the coordination's actions -----------------------------------------------------------------------------------
def _locked_meeting(meeting: str):
	if not isinstance(meeting, str) or not frappe.db.exists(MEETING, meeting):
		frappe.throw(_("{0} {1} not found").format(_(MEETING), meeting), frappe.DoesNotExistError)
	frappe.db.sql("SELECT name FROM `tabSNP Meeting` WHERE name = %s FOR UPDATE", meeting)
	return frappe.get_doc(MEETING, meeting)


def _check_coordination(message: str) -> None:
	if not is_coordination():
		frappe.throw(message, frappe.PermissionError)


def starts_at(doc) -> datetime:
	start = get_time(doc.start_time) if doc.start_time else time(0, 0)
	return datetime.combine(getdate(doc.meeting_date), start)


def confirm_attendance(meeting: str):
	"""The coordination confirms who attended (the rows' « Present »): the meeting becomes « Attendance
	confirmed », its professionals present are payable from then on."""
	_check_coordination(_("Only the coordination confirms the attendance of a meeting"))
	doc = _locked_meeting(meeting)
	if doc.status == CANCELLED:
		frappe.throw(_("A cancelled meeting has no attendance to confirm"), MeetingError)
	if doc.status == CONFIRMED:
		frappe.throw(_("The attendance of this meeting is already confirmed"), MeetingError)
	if starts_at(doc) > now_datetime():
		frappe.throw(_("The attendance is confirmed once the meeting has started"), MeetingError)
	doc.status = CONFIRMED
	doc.confirmed_by = frappe.session.user
	doc.confirmed_on = now_datetime()
	server_write(doc).save()
	return doc


def reopen_attendance(meeting: str):
	"""Undo a confirmation made by mistake, while no payment run holds one of the meeting's attendances."""
	_check_coordination(_("Only the coordination reopens the attendance of a meeting"))
	doc = _locked_meeting(meeting)
	if doc.status != CONFIRMED:
		frappe.throw(_("The attendance of this meeting is not confirmed"), MeetingError)
	held = claims(doc.name)
	if held:
		frappe.throw(
			_("Payment run {0} pays this meeting's attendance: it cannot be reopened").format(
				", ".join(sorted(set(held.values())))
			),
			MeetingError,
		)
	doc.status = HELD
	doc.confirmed_by = None
	doc.confirmed_on = None
	server_write(doc).save()
	return doc


def claims(meeting: str) -> dict[str, str]:
	"""{professional: payment run} of the meeting's attendances a run holds (SNP Paid Item)."""
	rows = frappe.db.sql(
		"""SELECT professional, run FROM `tabSNP Paid Item`
		WHERE item_doctype = %(doctype)s AND item_type = %(item_type)s
			AND SUBSTRING_INDEX(item_name, '/', 1) = %(meeting)s""",
		{"doctype": MEETING, "item_type": ITEM_TYPE, "meeting": meeting},
		as_dict=True,
	)
	return {row.professional: row.run for row in rows}


# --- the doctors' portal (/snp/reunions) ----------------------------------------------------------------------
PORTAL_PAST_DAYS = 730


def my_meetings(professional: str, since=None, limit: int = 100) -> list[dict]:
	"""The meetings `professional` is listed in (from `since`, by default of the last two years, and to come),
	newest first: date, type, title, duration, status, whether he was present, and the payment run holding his
	attendance. Never the minutes, the decisions nor the other participants."""
	rows = frappe.db.sql(
		"""SELECT m.name, m.meeting_type, m.title, m.meeting_date, m.start_time, m.duration_hours, m.status,
			m.place, p.present, pi.run, r.status AS run_status, r.paid_on
		FROM `tabSNP Meeting Participant` p
		JOIN `tabSNP Meeting` m ON m.name = p.parent
		LEFT JOIN `tabSNP Paid Item` pi ON pi.name = CONCAT(%(prefix)s, m.name, '/', p.professional)
		LEFT JOIN `tabSNP Payment Run` r ON r.name = pi.run
		WHERE p.parenttype = 'SNP Meeting' AND p.parentfield = 'participants' AND p.kind = %(kind)s
			AND p.professional = %(professional)s AND m.meeting_date >= %(since)s
		ORDER BY m.meeting_date DESC, m.start_time DESC
		LIMIT %(limit)s""",
		{
			"prefix": f"{KEY_PREFIX}:",
			"kind": PROFESSIONAL,
			"professional": professional,
			"since": getdate(since) if since else getdate() - timedelta(days=PORTAL_PAST_DAYS),
			"limit": cint(limit),
		},
		as_dict=True,
	)
	for row in rows:
		row.duration = _("{0} h").format(f"{flt(row.duration_hours, 2):g}".replace(".", ","))
		row.attendance = attendance_label(row)
		row.payment = payment_label(row)
	return rows


def attendance_label(row) -> str:
	if row.status == CANCELLED:
		return _("Cancelled")
	if row.status != CONFIRMED:
		return _("Attendance to be confirmed")
	return _("Present") if cint(row.present) else _("Absent")


def payment_label(row) -> str | None:
	if not row.run:
		return None
	if row.run_status == "Paid":
		return _("Paid with run {0}").format(row.run)
	return _("In payment run {0} ({1})").format(row.run, _(row.run_status or "Draft"))
