from datetime import datetime, time, timedelta

import frappe
import pytest
from frappe.tests.utils import change_settings

from cpts_snp.services.booking import book_slot
from cpts_snp.tests.factories import PATIENT, make_absence, make_professional, make_slot, next_weekday


@pytest.fixture
def week():
	"""A professional with four slots next week (Monday to Thursday at 10:00); Tuesday's is booked."""
	professional = make_professional(email="dr.absent@cpts-test.fr").name
	monday = next_weekday(0)
	slots = [
		make_slot(professional, datetime.combine(monday + timedelta(days=i), time(10))) for i in range(4)
	]
	booking = book_slot(slots[1].name, {**PATIENT, "patient_email": "louise.durand@example.fr"})
	return frappe._dict(professional=professional, monday=monday, slots=slots, booking=booking)


def status(slot):
	return frappe.db.get_value("SNP Slot", slot.name, "status")


def test_an_absence_withdraws_the_free_slots_of_its_period_only(week):
	absence = make_absence(week.professional, week.monday, week.monday + timedelta(days=2), reason="Congés")
	assert [status(s) for s in week.slots] == ["Cancelled", "Booked", "Cancelled", "Available"]
	assert absence.cancelled_slots == 2


def test_booked_slots_hit_by_an_absence_are_listed_and_their_patients_notified(week):
	with change_settings("SNP Settings", telesecretariat_email="telesecretariat@cpts-test.fr"):
		absence = make_absence(week.professional, week.monday, week.monday + timedelta(days=2))
		assert [row.booking for row in absence.affected_bookings] == [week.booking.name]
		assert absence.affected_bookings[0].patient == "Louise Durand"
		recipients = set(
			frappe.get_all(
				"Email Queue Recipient",
				filters={
					"parent": [
						"in",
						frappe.get_all("Email Queue", {"reference_name": week.booking.name}, pluck="name"),
					]
				},
				pluck="recipient",
			)
		)
		assert {"louise.durand@example.fr", "telesecretariat@cpts-test.fr"} <= recipients
		# the booking itself stays: the coordinator moves or cancels it
		assert frappe.db.get_value("SNP Booking", week.booking.name, "status") == "Booked"

		queued = frappe.db.count("Email Queue", {"reference_name": week.booking.name})
		absence.reason = "Congés prolongés"
		absence.save()
		assert len(absence.affected_bookings) == 1
		assert frappe.db.count("Email Queue", {"reference_name": week.booking.name}) == queued


def test_an_absence_ending_before_it_starts_is_refused_in_french(week):
	with pytest.raises(frappe.ValidationError, match="La fin de l'absence ne peut pas précéder son début"):
		make_absence(week.professional, week.monday + timedelta(days=2), week.monday)
	assert [status(s) for s in week.slots] == ["Available", "Booked", "Available", "Available"]
