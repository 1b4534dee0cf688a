"""In a real browser, a booking whose SMS could not be sent says so on its form, and lists its messages."""

import frappe
from cpts_snp.services import sms
from cpts_snp.services.booking import book_slot
from cpts_snp.tests.factories import PATIENT, TEST_PASSWORD, future_start, make_slot

from .conftest import screenshot


def test_a_booking_whose_sms_failed_says_so_on_its_form(server, desk_login, committed):
	telesecretary = committed.user(["Télésecrétaire"])
	slot = make_slot(committed.professional(), future_start(days=3, hour=11)).name
	booking = book_slot(slot, PATIENT).name
	sms.log_message(
		"SMS", "+33611223344", "Rappel", booking, "reminder_patient", status="Failed", error="HTTP 402"
	)
	frappe.db.commit()
	try:
		page = desk_login(telesecretary, TEST_PASSWORD)
		page.goto(f"{server}/app/snp-booking/{booking}")
		page.locator(".form-dashboard .indicator", has_text="Messages non envoyés : 1").wait_for()
		page.locator(".form-dashboard", has_text="Journal des messages SNP").first.wait_for()
		screenshot(page, "booking-messages-failed")
	finally:
		frappe.db.rollback()
		frappe.db.delete("SNP Message Log", {"booking": booking})
		frappe.db.commit()
