"""Supervision of SASPAS interns over the database: the checks SNP Slot and SNP Booking call, the debriefs
that follow an intern's consultations, and what the coordinator follows up. The rules themselves are the pure
functions of cpts_snp.rules.supervision."""

from datetime import timedelta

import frappe
from frappe import _
from frappe.query_builder.functions import Count
from frappe.utils import cint, format_datetime, get_datetime, getdate, now_datetime

from cpts_snp.exceptions import SupervisionError
from cpts_snp.rules.supervision import (
	DEFAULT_HALF_DAY_CAP,
	half_day_bounds,
	half_day_cap_reached,
	half_day_of,
	uncovered_part,
	within_semester,
)
from cpts_snp.services.settings import get_settings


def _when(moment) -> str:
	return format_datetime(moment, "dd/MM/yyyy HH:mm")


def half_day_cap() -> int:
	return cint(get_settings().get("intern_half_day_cap")) or DEFAULT_HALF_DAY_CAP


def intern_for(professional: str | None):
	"""The SNP Intern record whose professional is `professional`, or None (most professionals are not interns)."""
	if not professional:
		return None
	# plain SQL: every slot and booking change asks (Frappe's get_value parses its field list each time)
	rows = frappe.db.sql(
		"""SELECT `name`, `full_name`, `status`, `semester_start`, `semester_end` FROM `tabSNP Intern`
		WHERE `professional` = %s LIMIT 1""",
		professional,
		as_dict=True,
	)
	return rows[0] if rows else None


def supervisors_of(intern: str) -> list[str]:
	return frappe.get_all(
		"SNP Intern Supervisor", filters={"parent": intern, "parenttype": "SNP Intern"}, pluck="supervisor"
	)


def shifts_between(supervisors: list[str], start, end) -> list[frappe._dict]:
	"""Supervision shifts of `supervisors` overlapping [start, end), earliest first."""
	if not supervisors:
		return []
	Shift = frappe.qb.DocType("SNP Supervision Shift")
	return (
		frappe.qb.from_(Shift)
		.select(Shift.name, Shift.supervisor, Shift.starts_at, Shift.ends_at)
		.where(Shift.supervisor.isin(supervisors))
		.where(Shift.starts_at < end)
		.where(Shift.ends_at > start)
		.orderby(Shift.starts_at)
		.run(as_dict=True)
	)


# --- SNP Slot ---------------------------------------------------------------------------------------------------
def check_slot(slot) -> None:
	"""An intern holds a slot only within his semester and while a supervisor is reachable for all of it."""
	if slot.status == "Cancelled":
		return
	if not slot.is_new() and not any(
		slot.has_value_changed(field) for field in ("professional", "starts_at", "duration", "status")
	):
		return
	intern = intern_for(slot.professional)
	if not intern:
		return
	start, end = get_datetime(slot.starts_at), get_datetime(slot.ends_at)
	if intern.status != "Active":
		frappe.throw(
			_("{0} is not an active intern of the CPTS and cannot hold SNP slots").format(intern.full_name),
			SupervisionError,
		)
	if not within_semester(start, getdate(intern.semester_start), getdate(intern.semester_end)):
		frappe.throw(
			_("The slot of {0} on {1} is outside his semester ({2} to {3})").format(
				intern.full_name,
				_when(start),
				format_datetime(intern.semester_start, "dd/MM/yyyy"),
				format_datetime(intern.semester_end, "dd/MM/yyyy"),
			),
			SupervisionError,
		)
	shifts = shifts_between(supervisors_of(intern.name), start, end)
	gap = uncovered_part(start, end, [(get_datetime(s.starts_at), get_datetime(s.ends_at)) for s in shifts])
	if gap:
		frappe.throw(
			_(
				"Intern {0} cannot hold this slot: none of his supervisors is reachable from {1} to {2}. "
				"A supervisor must declare a supervision shift covering the whole slot."
			).format(intern.full_name, _when(gap[0]), _when(gap[1])),
			SupervisionError,
			title=_("No supervisor reachable"),
		)


# --- SNP Booking --------------------------------------------------------------------------------------------------
def check_booking(booking) -> None:
	"""Called by SNP Booking.validate: the intern's half-day cap (for a new booking: the professional's row is
	locked by claim_slot, so the count cannot change under us) and the protocol's validity."""
	if booking.protocol and (booking.is_new() or booking.has_value_changed("protocol")):
		check_protocol(booking.protocol, get_datetime(booking.slot_start))
	if not booking.is_new():
		return
	intern = intern_for(booking.professional)
	if not intern:
		return
	day, half = half_day_of(get_datetime(booking.slot_start))
	start, end = half_day_bounds(day, half)
	Booking = frappe.qb.DocType("SNP Booking")
	already = (
		frappe.qb.from_(Booking)
		.select(Count("*"))
		.where(Booking.professional == booking.professional)
		.where(Booking.status != "Cancelled")
		.where(Booking.slot_start >= start)
		.where(Booking.slot_start < end)
		.run()[0][0]
	)
	cap = half_day_cap()
	if half_day_cap_reached(already, cap):
		frappe.throw(
			_("Intern {0} already has {1} consultations this half-day: the cap is {2}").format(
				intern.full_name, already, cap
			),
			SupervisionError,
			title=_("Half-day cap reached"),
		)


def check_protocol(protocol: str, moment) -> None:
	valid_from, valid_to = frappe.db.get_value("SNP Protocol", protocol, ["valid_from", "valid_to"]) or (
		None,
		None,
	)
	day = moment.date()
	if not valid_from or getdate(valid_from) > day or (valid_to and getdate(valid_to) < day):
		frappe.throw(
			_("Protocol {0} is not in force on {1}").format(protocol, format_datetime(day, "dd/MM/yyyy")),
			SupervisionError,
		)


def follow_booking(booking) -> None:
	"""Called by SNP Booking.on_update: an intern's consultation honoured gets a debrief « to do »; an outcome
	corrected to no-show drops the debrief still to do."""
	if booking.flags.in_insert or not booking.has_value_changed("status"):
		return
	if booking.status == "Honoured":
		intern = intern_for(booking.professional)
		if intern and not frappe.db.exists("SNP Debrief", {"booking": booking.name}):
			create_debrief(booking, intern)
	elif (booking.get_doc_before_save() or frappe._dict()).get("status") == "Honoured":
		frappe.db.delete("SNP Debrief", {"booking": booking.name, "status": "To do"})


def create_debrief(booking, intern) -> None:
	start = get_datetime(booking.slot_start)
	supervisors = supervisors_of(intern.name)
	on_duty = shifts_between(supervisors, start, start + timedelta(seconds=1))
	debrief = frappe.get_doc(
		{
			"doctype": "SNP Debrief",
			"booking": booking.name,
			"intern": intern.name,
			"consultation_at": start,
			"supervisor": on_duty[0].supervisor if on_duty else (supervisors[0] if supervisors else None),
			"status": "To do",
		}
	)
	# The debrief follows the outcome recorded on the booking, whose write right was checked on the booking.
	debrief.flags.ignore_permissions = True
	debrief.insert()


def pending_debriefs(intern: str | None = None) -> list[frappe._dict]:
	"""Consultations by interns still waiting for their debrief, oldest first (with the caller's permissions)."""
	filters = {"status": "To do"}
	if intern:
		filters["intern"] = intern
	return frappe.get_list(
		"SNP Debrief",
		filters=filters,
		fields=[
			"name",
			"booking",
			"intern",
			"intern_name",
			"supervisor",
			"supervisor_name",
			"consultation_at",
		],
		order_by="consultation_at asc",
	)


def validate_debrief(debrief) -> None:
	"""A debrief is marked done by one of the intern's supervisors (or the coordination), with its notes."""
	if debrief.status != "Done":
		debrief.debriefed_at = None
		return
	from cpts_snp.permissions import is_staff, professional_of

	supervisors = supervisors_of(debrief.intern)
	if debrief.has_value_changed("status") and not is_staff():
		me = professional_of()
		if me not in supervisors:
			frappe.throw(_("Only a supervisor of the intern marks a debrief as done"), frappe.PermissionError)
		debrief.supervisor = me
	if not debrief.supervisor:
		frappe.throw(_("Please give the supervisor who held the debrief"), SupervisionError)
	if not (debrief.notes or "").strip():
		frappe.throw(_("Please write the notes of the debrief"), SupervisionError)
	debrief.debriefed_at = debrief.debriefed_at or now_datetime()
