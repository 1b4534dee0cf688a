"""Absences: a professional's leave withdraws his free slots in the period and flags the booked ones."""

from datetime import datetime, time, timedelta

import frappe
from frappe.utils import getdate

from cpts_snp.services import notifications
from cpts_snp.services.booking import flag_to_rebook


def period_bounds(absence) -> tuple[datetime, datetime]:
	"""[first day 00:00, day after the last day 00:00)"""
	start = datetime.combine(getdate(absence.from_date), time.min)
	end = datetime.combine(getdate(absence.to_date) + timedelta(days=1), time.min)
	return start, end


def apply_absence(absence) -> None:
	"""Withdraw the free slots of the absence period and list the booked ones on the absence (their patients
	and the telesecretariat are notified once). Called by SNP Absence on every save; idempotent."""
	frappe.db.get_value("SNP Professional", absence.professional, "name", for_update=True)
	start, end = period_bounds(absence)
	Slot = frappe.qb.DocType("SNP Slot")
	slots = (
		frappe.qb.from_(Slot)
		.select(Slot.name, Slot.status)
		.where(Slot.professional == absence.professional)
		.where(Slot.starts_at >= start)
		.where(Slot.starts_at < end)
		.where(Slot.status.isin(["Available", "Booked"]))
		.orderby(Slot.starts_at)
		.for_update()
		.run(as_dict=True)
	)
	withdrawn = 0
	for row in slots:
		if row.status != "Available":
			continue
		slot = frappe.get_doc("SNP Slot", row.name)
		slot.status = "Cancelled"
		slot.flags.from_absence = True
		# Declaring an absence needs the right to change the absence; its slots follow it.
		slot.flags.ignore_permissions = True
		slot.save()
		withdrawn += 1
	absence.cancelled_slots = (absence.cancelled_slots or 0) + withdrawn

	already_listed = {row.booking for row in absence.affected_bookings}
	booked = [row.name for row in slots if row.status == "Booked"]
	if not booked:
		return
	for booking in frappe.get_all(
		"SNP Booking",
		filters={"slot": ["in", booked], "status": "Booked"},
		fields=["name", "slot_start", "patient_first_name", "patient_last_name", "patient_phone", "status"],
		order_by="slot_start asc",
	):
		if booking.name in already_listed:
			continue
		absence.append(
			"affected_bookings",
			{
				"booking": booking.name,
				"slot_start": booking.slot_start,
				"patient": f"{booking.patient_first_name} {booking.patient_last_name}",
				"patient_phone": booking.patient_phone,
				"status": booking.status,
			},
		)
		notifications.booking_hit_by_absence(frappe.get_doc("SNP Booking", booking.name), absence)
		# the telesecretariat moves the patient, or records that he was told (« à replacer »)
		flag_to_rebook(booking.name)


def absent_days(professional: str, first_day, last_day) -> set:
	"""The days between first_day and last_day (included) on which `professional` is absent."""
	Absence = frappe.qb.DocType("SNP Absence")
	rows = (
		frappe.qb.from_(Absence)
		.select(Absence.from_date, Absence.to_date)
		.where(Absence.professional == professional)
		.where(Absence.from_date <= last_day)
		.where(Absence.to_date >= first_day)
		.run(as_dict=True)
	)
	days = set()
	for row in rows:
		day = max(getdate(row.from_date), getdate(first_day))
		while day <= min(getdate(row.to_date), getdate(last_day)):
			days.add(day)
			day += timedelta(days=1)
	return days
