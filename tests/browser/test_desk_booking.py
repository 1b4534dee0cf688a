"""In a real browser, the télésecrétaire finds a free slot in the French desk and books it."""

import frappe
from cpts_snp.tests.factories import TEST_PASSWORD, future_start, make_slot

from .conftest import fill, screenshot


def test_the_telesecretary_books_a_free_slot_from_the_desk(server, desk_login, committed):
	telesecretary = committed.user(["Télésecrétaire"])
	professional = committed.professional()
	slot = make_slot(professional, future_start(days=2, hour=16)).name
	frappe.db.commit()

	page = desk_login(telesecretary, TEST_PASSWORD)
	# the free slots of the doctor (the test site holds many others, earlier ones first)
	page.goto(f"{server}/app/snp-slot?status=Available&professional={professional}")
	page.locator(f'a[href*="{slot}"]').first.click()
	page.get_by_role("button", name="Réserver ce créneau").click()

	dialog = page.locator(".modal.show")
	dialog.locator('input[data-fieldname="patient_last_name"]').wait_for()
	fill(dialog.locator('input[data-fieldname="patient_last_name"]'), "Durand")
	fill(dialog.locator('input[data-fieldname="patient_first_name"]'), "Louise")
	date_of_birth = dialog.locator('input[data-fieldname="patient_date_of_birth"]')
	date_of_birth.fill(page.evaluate("frappe.datetime.str_to_user('1987-03-12')"))
	date_of_birth.press("Tab")
	fill(dialog.locator('input[data-fieldname="patient_phone"]'), "06 11 22 33 44")
	screenshot(page, "desk-booking-dialog")
	dialog.get_by_role("button", name="Réserver").click()

	page.wait_for_url("**/app/snp-booking/RDV-*")
	page.locator(".page-head:visible .indicator-pill", has_text="Réservé").wait_for()
	screenshot(page, "desk-booking-created")
	booking = frappe.db.get_value(
		"SNP Booking", {"slot": slot}, ["patient_last_name", "booked_by", "status"], as_dict=True
	)
	assert booking == {"patient_last_name": "Durand", "booked_by": telesecretary, "status": "Booked"}
	assert frappe.db.get_value("SNP Slot", slot, "status") == "Booked"
