"""Teleconsultation permanences: the rota's checks, swaps between doctors, coverage, demand and the public
week. The ranking and coverage rules are the pure functions of cpts_snp.rules.permanences."""

from datetime import date, datetime, time, timedelta

import frappe
from frappe import _
from frappe.utils import flt, format_datetime, get_datetime, getdate, now_datetime

from cpts_snp.exceptions import PermanenceSwapError
from cpts_snp.permissions import is_staff, professional_of
from cpts_snp.rules.permanences import HourDemand, covered_hours, recommend_blocks, uncovered_blocks

MAX_HOURS = 12
# What a doctor may change himself on his own permanence; who is on duty changes only through a swap.
SELF_SERVICE_FIELDS = ("teleconsultation_link",)


# --- SNP Permanence -------------------------------------------------------------------------------------------
def validate_permanence(doc) -> None:
	start, end = get_datetime(doc.starts_at), get_datetime(doc.ends_at)
	if end <= start:
		frappe.throw(_("A permanence ends after it starts"))
	doc.hours = flt((end - start).total_seconds() / 3600, 2)
	if doc.hours > MAX_HOURS:
		frappe.throw(_("A permanence lasts at most {0} hours").format(MAX_HOURS))
	if not doc.professional:
		doc.professional_name = None
	if not doc.is_new() and not doc.flags.from_swap and not is_staff():
		for field in (
			"professional",
			"starts_at",
			"ends_at",
			"status",
			"organisation_type",
			"organisation_name",
		):
			if doc.has_value_changed(field):
				frappe.throw(
					_("Only the CPTS coordination changes the rota: ask a colleague for a swap instead"),
					frappe.PermissionError,
				)
	if doc.professional and (doc.is_new() or doc.has_value_changed("professional")):
		if not frappe.db.get_value("SNP Professional", doc.professional, "active"):
			frappe.throw(_("{0} is not an active professional of the CPTS").format(doc.professional))


# --- SNP Permanence Swap ----------------------------------------------------------------------------------------
def validate_swap(swap) -> None:
	if swap.is_new():
		permanence = frappe.db.get_value(
			"SNP Permanence", swap.permanence, ["professional", "starts_at", "status"], as_dict=True
		)
		if not permanence or permanence.status != "Scheduled" or not permanence.professional:
			frappe.throw(
				_("Only a scheduled permanence with a doctor on duty can be swapped"), PermanenceSwapError
			)
		if get_datetime(permanence.starts_at) <= now_datetime():
			frappe.throw(_("This permanence has already started: it cannot be swapped"), PermanenceSwapError)
		swap.from_professional = permanence.professional
		swap.status = "Requested"
		if not is_staff() and professional_of() != swap.from_professional:
			frappe.throw(_("Only the doctor on duty asks to swap his permanence"), frappe.PermissionError)
		if frappe.db.exists("SNP Permanence Swap", {"permanence": swap.permanence, "status": "Requested"}):
			frappe.throw(_("A swap of this permanence is already waiting for an answer"), PermanenceSwapError)
	if swap.to_professional == swap.from_professional:
		frappe.throw(_("Choose another doctor to take the permanence"), PermanenceSwapError)
	if not frappe.db.get_value("SNP Professional", swap.to_professional, "active"):
		frappe.throw(
			_("{0} is not an active professional of the CPTS").format(swap.to_professional),
			PermanenceSwapError,
		)
	if swap.is_new():
		return
	before = swap.get_doc_before_save().status
	if before != swap.status:
		if before != "Requested":
			frappe.throw(_("This swap has already been answered"), PermanenceSwapError)
		# Besides the workflow's roles: only the doctor asked (or the coordination) answers.
		if not is_staff() and professional_of() != swap.to_professional:
			frappe.throw(
				_("Only the doctor asked to take the permanence answers this swap"), frappe.PermissionError
			)
		swap.decided_by = frappe.session.user
		swap.decided_at = now_datetime()
	elif before != "Requested" and swap.has_value_changed("to_professional"):
		frappe.throw(_("This swap has already been answered"), PermanenceSwapError)


def apply_swap(swap) -> None:
	"""Called by SNP Permanence Swap.on_update: an accepted swap hands the permanence over, in the same
	transaction, after locking its row; a permanence that changed hands meanwhile refuses the swap."""
	if swap.status != "Accepted" or not swap.has_value_changed("status"):
		return
	current = frappe.db.get_value(
		"SNP Permanence", swap.permanence, ["professional", "starts_at"], as_dict=True, for_update=True
	)
	if current.professional != swap.from_professional:
		frappe.throw(
			_("This permanence has changed hands since the request: the swap cannot apply"),
			PermanenceSwapError,
		)
	if get_datetime(current.starts_at) <= now_datetime():
		frappe.throw(_("This permanence has already started: it cannot be swapped"), PermanenceSwapError)
	permanence = frappe.get_doc("SNP Permanence", swap.permanence)
	permanence.professional = swap.to_professional
	permanence.professional_name = frappe.db.get_value("SNP Professional", swap.to_professional, "full_name")
	permanence.flags.from_swap = True
	# The right to hand the permanence over was checked on the swap (workflow transition and validate_swap).
	permanence.flags.ignore_permissions = True
	permanence.save()


# --- Coverage, demand, public week ------------------------------------------------------------------------------
def rota_blocks(start: datetime, end: datetime) -> list[tuple[datetime, datetime]]:
	"""(start, end) of the scheduled permanences with a doctor on duty overlapping [start, end)."""
	rows = frappe.get_all(
		"SNP Permanence",
		filters=[
			["status", "=", "Scheduled"],
			["professional", "is", "set"],
			["starts_at", "<", end],
			["ends_at", ">", start],
		],
		fields=["starts_at", "ends_at"],
	)
	return [(get_datetime(r.starts_at), get_datetime(r.ends_at)) for r in rows]


def coverage(first_day: date, days: int, hours: tuple[int, ...]) -> list[tuple[datetime, datetime]]:
	start = datetime.combine(first_day, time.min)
	return uncovered_blocks(first_day, days, hours, rota_blocks(start, start + timedelta(days=days)))


def call_demand(from_date: date, to_date: date) -> dict[tuple[int, int], HourDemand]:
	"""Calls of the period by (weekday, hour), with those that ended with no slot: one GROUP BY query."""
	rows = frappe.db.sql(
		"""SELECT WEEKDAY(received_at) AS weekday, HOUR(received_at) AS hour, COUNT(*) AS calls,
			SUM(outcome = 'No slot available') AS unmet
		FROM `tabSNP Call`
		WHERE received_at >= %(start)s AND received_at < %(end)s
		GROUP BY WEEKDAY(received_at), HOUR(received_at)""",
		{"start": getdate(from_date), "end": getdate(to_date) + timedelta(days=1)},
		as_dict=True,
	)
	return {(r.weekday, r.hour): HourDemand(r.weekday, r.hour, int(r.calls), int(r.unmet or 0)) for r in rows}


def recommendations(demand, first_day: date, weeks: int = 4, limit: int = 5) -> list[HourDemand]:
	"""The blocks to open next: uncovered by the rota of the coming weeks, with the most unmet demand."""
	start = datetime.combine(first_day, time.min)
	covered = covered_hours(rota_blocks(start, start + timedelta(weeks=weeks)))
	return recommend_blocks(demand, covered, limit)


def public_week(first_day: date | None = None) -> list[dict]:
	"""The permanences of the coming seven days for the public page: day, hours and the doctor's name only."""
	first_day = getdate(first_day) if first_day else getdate()
	start = datetime.combine(first_day, time.min)
	# Public information chosen field by field: no link, no contact detail of the doctors.
	rows = frappe.get_all(
		"SNP Permanence",
		filters=[
			["status", "=", "Scheduled"],
			["professional", "is", "set"],
			["starts_at", ">=", start],
			["starts_at", "<", start + timedelta(days=7)],
		],
		fields=["starts_at", "ends_at", "professional_name", "organisation_type", "organisation_name"],
		order_by="starts_at asc",
	)
	days = []
	for row in rows:
		day = get_datetime(row.starts_at).date()
		if not days or days[-1]["date"] != day:
			days.append({"date": day, "label": format_datetime(row.starts_at, "EEEE d MMMM"), "blocks": []})
		days[-1]["blocks"].append(
			{
				"hours": "{0} – {1}".format(
					format_datetime(row.starts_at, "HH:mm"), format_datetime(row.ends_at, "HH:mm")
				),
				"doctor": row.professional_name,
				"organisation": " ".join(x for x in (row.organisation_type, row.organisation_name) if x),
			}
		)
	return days
