"""In a real browser: the télésecrétaire moves a patient's booking from the desk page (« Déplacer »), and a
doctor's cancellation from his portal tells the patient and puts the booking on « À replacer », from where the
télésecrétariat rebooks the patient."""

import frappe
from cpts_snp.services.booking import book_slot
from cpts_snp.tests.factories import PATIENT, TEST_PASSWORD, as_user, future_start, make_slot, unique_suffix

from .conftest import fill, screenshot
from .test_doctor_portal import portal_login


def _patient():
	# a patient of his own (phone and name), so the desk's lookup finds him only
	# 061…: a French mobile (06 9x numbers belong to the overseas departments and are refused)
	digits = "".join(str(ord(c) % 10) for c in unique_suffix(7))
	return {
		**PATIENT,
		"patient_last_name": "Déplacé" + unique_suffix(4).capitalize(),
		"patient_phone": "061" + digits,
		"patient_email": f"patient-{unique_suffix()}@patient-test.fr",
	}


def test_the_telesecretary_moves_a_booking_from_the_desk_page(server, desk_login, committed):
	telesecretary = committed.user(["Télésecrétaire"])
	professional = committed.professional()
	patient = _patient()
	old = make_slot(professional, future_start(days=3, hour=9)).name
	new = make_slot(professional, future_start(days=3, hour=15)).name
	with as_user(telesecretary):
		booking = book_slot(old, patient).name
	frappe.db.commit()

	page = desk_login(telesecretary, TEST_PASSWORD)
	page.goto(f"{server}/app/snp-desk")
	fill(page.locator('.snp-patient-fields input[data-fieldname="phone"]'), patient["patient_phone"])
	page.locator(".snp-patient-find").click()
	page.locator(".snp-patient-results [data-patient]").first.click()
	page.locator(f'.snp-move-booking[data-booking="{booking}"]').click()

	dialog = page.locator(".modal.show")
	dialog.locator(f'input[name="snp-move-slot"][value="{new}"]').check()
	fill(dialog.locator('textarea[data-fieldname="reason"]'), "Le patient préfère l'après-midi")
	screenshot(page, "desk-move-booking-dialog")
	dialog.get_by_role("button", name="Déplacer", exact=True).click()
	page.locator(".modal.show").wait_for(state="detached")

	frappe.db.rollback()
	assert frappe.db.get_value("SNP Booking", booking, ["slot", "status"]) == (new, "Booked")
	assert frappe.db.get_value("SNP Slot", old, "status") == "Available"
	assert frappe.db.get_value("SNP Slot", new, "status") == "Booked"


def test_a_doctors_cancellation_tells_the_patient_and_the_telesecretary_rebooks_him(
	server, browser, desk_login, committed
):
	user, professional = committed.doctor()
	telesecretary = committed.user(["Télésecrétaire"])
	patient = _patient()
	slot = make_slot(professional, future_start(days=4, hour=10)).name
	free = make_slot(professional, future_start(days=5, hour=11)).name
	with as_user(telesecretary):
		booking = book_slot(slot, patient).name
	frappe.db.commit()

	# the doctor cancels from his portal
	context = browser.new_context(
		locale="fr-FR", timezone_id="Europe/Paris", viewport={"width": 1280, "height": 900}
	)
	doctor_page = context.new_page()
	doctor_page.set_default_timeout(30_000)
	portal_login(doctor_page, server, user)
	doctor_page.goto(f"{server}/snp/rendez-vous")
	doctor_page.once("dialog", lambda dialog: dialog.accept("Urgence personnelle"))
	row = doctor_page.locator(f'[data-booking="{booking}"]')
	row.get_by_role("button", name="Annuler", exact=True).click()
	row.locator(".snp-pill.cancelled").wait_for()
	context.close()

	frappe.db.rollback()
	cancelled = frappe.db.get_value(
		"SNP Booking", booking, ["status", "cancelled_by", "to_rebook"], as_dict=True
	)
	assert cancelled == {"status": "Cancelled", "cancelled_by": "Doctor", "to_rebook": 1}
	# the patient is told (the Email Queue row of his message)
	queued = frappe.get_all(
		"Email Queue", {"reference_doctype": "SNP Booking", "reference_name": booking}, pluck="name"
	)
	assert patient["patient_email"] in frappe.get_all(
		"Email Queue Recipient", {"parent": ("in", queued)}, pluck="recipient"
	)

	# the telesecretariat finds him on « À replacer » and rebooks him
	page = desk_login(telesecretary, TEST_PASSWORD)
	page.goto(f"{server}/app/snp-desk")
	page.get_by_role("button", name="À replacer", exact=True).click()
	page.wait_for_url("**/app/query-report/A*replacer*")
	page.locator(".dt-scrollable", has_text=patient["patient_last_name"]).wait_for()
	screenshot(page, "a-replacer-report")
	page.goto(f"{server}/app/snp-booking/{booking}")
	page.get_by_role("button", name="À replacer").click()
	page.locator(".dropdown-item:visible", has_text="Replacer").click()
	dialog = page.locator(".modal.show")
	dialog.locator(f'input[name="snp-move-slot"][value="{free}"]').check()
	dialog.get_by_role("button", name="Replacer", exact=True).click()
	page.wait_for_url(lambda url: "/app/snp-booking/RDV-" in url and booking not in url)

	frappe.db.rollback()
	new = frappe.db.get_value(
		"SNP Booking", {"rebooked_from": booking}, ["name", "slot", "status"], as_dict=True
	)
	assert new and new.slot == free and new.status == "Booked"
	assert frappe.db.get_value("SNP Booking", booking, "to_rebook") == 0
