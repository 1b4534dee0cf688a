"""The slot cascade and the PDSA flags of slots to come.

- Cascade: a slot reserved for the CPTS's telesecretariat (`reserved_for`) is not offered to partners (partner
  API, SAS FHIR searches). Still free `cascade_open_hours` (24) before it starts, it opens to them; still free
  `cascade_alert_hours` (2) before, its doctor and the coordination are told, once (the marker
  `still_free_alert_at` is set by a conditional UPDATE: two runs, or two workers, cannot both send it). The job
  runs every few minutes (hooks.scheduler_events) and is idempotent.
- PDSA flags: when the PDSA hours or the bridge days change in SNP Settings, the slots to come are flagged again
  (a background job, idempotent) and the supplements of their bookings re-decided.
"""

from datetime import timedelta

import frappe
from frappe.utils import cint, get_datetime, now_datetime

from cpts_snp.permissions import server_write
from cpts_snp.rules.pdsa import is_pdsa
from cpts_snp.services.settings import get_settings, pdsa_schedule

RESERVED = "CPTS telesecretariat"
OPEN = "Open to partners"


def default_reservation() -> str:
	return get_settings().get("slot_reserved_for_default") or OPEN


def open_hours() -> int:
	return cint(get_settings().get("cascade_open_hours")) or 24


def alert_hours() -> int:
	return cint(get_settings().get("cascade_alert_hours")) or 2


def partner_visible_sql(alias: str = "") -> str:
	"""The SQL condition of a slot offered to partners and the SAS (not reserved for the telesecretariat)."""
	column = f"{alias}.`reserved_for`" if alias else "`reserved_for`"
	return f"({column} IS NULL OR {column} != '{RESERVED}')"


def run(now=None, commit: bool = True) -> dict:
	"""Scheduled job (every 5 minutes): open the reserved slots still free at T-open_hours, alert at
	T-alert_hours. Each slot is changed by its primary key, with its conditions checked again, in its own
	transaction when `commit` (the job): the job never holds more than one slot's lock, so it cannot block the
	bookings nor deadlock with them. Returns the counts (for the tests and the logs)."""
	now = get_datetime(now) if now else now_datetime()
	return {"opened": open_reserved_slots(now, commit), "alerted": alert_still_free_slots(now, commit)}


def _candidates(condition: str, hours: int, now) -> list:
	"""The free slots starting in (now, now + hours] that meet `condition` (a plain read: no lock)."""
	return frappe.db.sql(
		f"""SELECT `name`, `professional`, `professional_name`, `starts_at` FROM `tabSNP Slot`
		WHERE `status` = 'Available' AND `starts_at` > %(now)s AND `starts_at` <= %(until)s AND {condition}
		ORDER BY `starts_at`""",
		{"reserved": RESERVED, "now": now, "until": now + timedelta(hours=hours)},
		as_dict=True,
	)


def _claim(update: str, values: tuple) -> bool:
	"""Run one conditional UPDATE of one slot; True when this run changed it (another run, or a booking, may
	have changed it since it was read)."""
	frappe.db.sql(update, values)
	return frappe.db._cursor.rowcount == 1


def open_reserved_slots(now, commit: bool = True) -> int:
	"""Open to partners the reserved slots still free `open_hours` before they start (idempotent: an opened
	slot is no longer reserved)."""
	opened = 0
	for slot in _candidates("`reserved_for` = %(reserved)s", open_hours(), now):
		if _claim(
			"""UPDATE `tabSNP Slot` SET `reserved_for` = %s, `opened_to_partners_at` = %s
			WHERE `name` = %s AND `reserved_for` = %s AND `status` = 'Available'""",
			(OPEN, now, slot.name, RESERVED),
		):
			opened += 1
		if commit:
			frappe.db.commit()
	return opened


def alert_still_free_slots(now, commit: bool = True) -> int:
	"""Tell the doctor and the coordination that a slot of the cascade (reserved, or opened by it) is still free
	`alert_hours` before it starts. Once per slot: the marker is set by a conditional UPDATE, and only the
	run that set it queues the message, in the same transaction."""
	sent = 0
	condition = "`still_free_alert_at` IS NULL AND (`reserved_for` = %(reserved)s OR `opened_to_partners_at` IS NOT NULL)"
	for slot in _candidates(condition, alert_hours(), now):
		if _claim(
			"""UPDATE `tabSNP Slot` SET `still_free_alert_at` = %s
			WHERE `name` = %s AND `still_free_alert_at` IS NULL AND `status` = 'Available'""",
			(now, slot.name),
		):
			_send_still_free(slot)
			sent += 1
		if commit:
			frappe.db.commit()
	return sent


def _send_still_free(slot) -> None:
	from cpts_snp.services.notifications import slot_still_free

	doctor = frappe.db.get_value("SNP Professional", slot.professional, "email")
	slot_still_free(slot, alert_hours(), [doctor, get_settings().telesecretariat_email, *coordinators()])


def coordinators() -> list[str]:
	"""The e-mail addresses of the enabled users of the coordination."""
	HasRole, User = frappe.qb.DocType("Has Role"), frappe.qb.DocType("User")
	return (
		frappe.qb.from_(HasRole)
		.join(User)
		.on(User.name == HasRole.parent)
		.select(User.email)
		.distinct()
		.where(HasRole.role == "Coordinateur CPTS")
		.where(HasRole.parenttype == "User")
		.where(User.enabled == 1)
		.run(pluck=True)
	)


# --- PDSA flags of the slots to come ----------------------------------------------------------------------------


def reflag_pdsa_slots(now=None, commit: bool = True) -> int:
	"""Background job after a change of the PDSA hours or bridge days (SNP Settings): every slot to come whose PDSA
	flag the new schedule changes is saved again (its history shows it; its booking's supplement is re-decided,
	SNPSlot.on_update → follow_pdsa_flag). Idempotent: a second run finds nothing to change. One transaction per
	slot when `commit` (the job); returns the number of slots changed."""
	now = get_datetime(now) if now else now_datetime()
	schedule = pdsa_schedule()
	rows = frappe.db.sql(
		"""SELECT `name`, `starts_at`, `is_pdsa` FROM `tabSNP Slot`
		WHERE `starts_at` > %s AND `status` IN ('Available', 'Booked') ORDER BY `starts_at`""",
		now,
		as_dict=True,
	)
	changed = 0
	for row in rows:
		if int(is_pdsa(get_datetime(row.starts_at), schedule)) == int(row.is_pdsa or 0):
			continue
		try:
			slot = frappe.get_doc("SNP Slot", row.name)
			slot.flags.ignore_permissions = True  # the settings' change was the coordination's
			slot.save()
			changed += 1
			if commit:
				frappe.db.commit()
		except Exception:
			if not commit:
				raise
			frappe.db.rollback()
			frappe.log_error(title=f"SNP PDSA flag of slot {row.name} not updated")
	return changed


def follow_pdsa_flag(slot) -> None:
	"""The slot's PDSA flag changed: its active booking follows, and its supplement is re-decided (with the
	week's, SNPBooking.validate)."""
	name = frappe.db.get_value("SNP Booking", {"active_slot": slot.name, "status": "Booked"}, "name")
	if not name:
		return
	booking = frappe.get_doc("SNP Booking", name)
	booking.is_pdsa = slot.is_pdsa
	booking.flags.ignore_permissions = True
	server_write(booking).save()
