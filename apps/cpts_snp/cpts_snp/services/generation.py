"""Slot generation from availability templates, idempotent: a slot is created only where the professional
has no slot starting at that time (whatever its status: a withdrawn slot is not re-offered), no overlapping
slot, and no absence. The professional's row is locked first, so the daily job and a click on « Générer »
at the same moment cannot create a slot twice."""

from datetime import timedelta

import frappe
from frappe.utils import get_datetime, get_time, getdate, now_datetime

from cpts_snp.rules.slots import overlaps, slot_end
from cpts_snp.rules.templates import template_slot_starts
from cpts_snp.services.absences import absent_days
from cpts_snp.services.settings import generation_weeks

WEEKDAY_FIELDS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


def generate_for_template(template, weeks: int | None = None, now=None, days=None) -> list[str]:
	"""Create the missing slots of `template` (a document) over the next `weeks` weeks, or over `days`
	(first and last day, e.g. one week chosen in the doctors' portal); return their names."""
	now = get_datetime(now) if now else now_datetime()
	if not template.enabled or not frappe.db.get_value("SNP Professional", template.professional, "active"):
		return []
	if days:
		first_day, last_day = (getdate(day) for day in days)
	else:
		first_day = now.date()
		last_day = first_day + timedelta(weeks=weeks or generation_weeks())
	starts = template_slot_starts(
		weekdays=[i for i, field in enumerate(WEEKDAY_FIELDS) if template.get(field)],
		start_time=get_time(template.start_time),
		number_of_slots=template.number_of_slots,
		slot_duration=template.slot_duration,
		valid_from=getdate(template.valid_from),
		valid_to=getdate(template.valid_to) if template.valid_to else None,
		window_start=first_day,
		window_end=last_day,
	)
	starts = [start for start in starts if start > now]
	if not starts:
		return []

	frappe.db.get_value("SNP Professional", template.professional, "name", for_update=True)
	Slot = frappe.qb.DocType("SNP Slot")
	existing = (
		frappe.qb.from_(Slot)
		.select(Slot.starts_at, Slot.ends_at, Slot.status)
		.where(Slot.professional == template.professional)
		.where(Slot.starts_at < slot_end(starts[-1], template.slot_duration))
		.where(Slot.ends_at > starts[0])
		.for_update()
		.run(as_dict=True)
	)
	taken_starts = {get_datetime(row.starts_at) for row in existing}
	busy = [(get_datetime(r.starts_at), get_datetime(r.ends_at)) for r in existing if r.status != "Cancelled"]
	away = absent_days(template.professional, first_day, last_day)

	created = []
	for start in starts:
		end = slot_end(start, template.slot_duration)
		if start in taken_starts or start.date() in away or any(overlaps(start, end, s, e) for s, e in busy):
			continue
		slot = frappe.get_doc(
			{
				"doctype": "SNP Slot",
				"professional": template.professional,
				"starts_at": start,
				"duration": template.slot_duration,
				"modality": template.modality,
				"place": template.place,
				"location": template.location,
				"template": template.name,
				# empty: the settings' default (services.cascade.default_reservation)
				"reserved_for": template.get("reserved_for"),
			}
			# the caller's right to the template was checked (its form's button, the portal's apply_template)
		).insert(ignore_permissions=True)
		busy.append((start, end))
		created.append(slot.name)
	return created


def generate_all() -> int:
	"""Daily job: every enabled template of an active professional, one transaction per template."""
	total = 0
	for name in frappe.get_all("SNP Availability Template", filters={"enabled": 1}, pluck="name"):
		try:
			total += len(generate_for_template(frappe.get_doc("SNP Availability Template", name)))
			frappe.db.commit()
		except Exception:
			frappe.db.rollback()
			frappe.log_error(title=f"SNP slot generation failed for {name}")
	return total
