"""The télésecrétaire's page, the two paths of issue 15: find the patient (phone) and book with the two supplement
questions; « aucun créneau » puts the caller on the call-back list, and a new slot serves him from the « Rappels
en attente » panel."""

import random
import string
from datetime import timedelta

import frappe
from cpts_snp.services import callbacks
from cpts_snp.services.booking import book_slot
from cpts_snp.tests.factories import TEST_PASSWORD, make_professional, make_sector, make_slot
from frappe.utils import add_days, now_datetime, today

from .conftest import fill, screenshot


def soon(hours):
	return (now_datetime() + timedelta(hours=hours)).replace(second=0, microsecond=0)


def set_date(page, field, iso):
	typed = page.evaluate(f"frappe.datetime.str_to_user('{iso}')")
	field.fill(typed)
	field.press("Tab")
	page.wait_for_timeout(300)
	if field.input_value() != typed:
		field.evaluate(
			"(el, v) => { el.value = v; el.dispatchEvent(new Event('change', { bubbles: true })); }", typed
		)


def cleanup(sector, patient_names=(), callback_names=()):
	frappe.db.rollback()
	frappe.db.delete("SNP Call", {"patient": ["in", list(patient_names) or [""]]})
	frappe.db.delete("SNP Callback Offer", {"parent": ["in", list(callback_names) or [""]]})
	frappe.db.delete("Notification Log", {"document_name": ["in", list(callback_names) or [""]]})
	frappe.db.delete("SNP Callback", {"name": ["in", list(callback_names) or [""]]})
	frappe.db.delete("SNP Sector", sector)
	frappe.db.commit()


def test_the_telesecretary_finds_the_patient_and_books_with_the_two_questions(server, desk_login, committed):
	telesecretary = committed.user(["Télésecrétaire"])
	commune = "Chantenay-" + frappe.generate_hash(length=5)
	sector = make_sector(communes=commune).name
	professional = make_professional(sector=sector, last_name="Timonier").name
	committed.professionals.append(professional)
	# 061…: a French mobile (06 9x numbers belong to the overseas departments and are refused)
	phone = "061" + "".join(random.choices(string.digits, k=7))
	identity = {
		"patient_last_name": "Morvan",
		"patient_first_name": "Yann",
		"patient_date_of_birth": "1968-04-21",
		"patient_phone": phone,
	}
	earlier = book_slot(make_slot(professional, soon(30)).name, identity)
	slot = make_slot(professional, soon(4)).name
	frappe.db.commit()

	page = desk_login(telesecretary, TEST_PASSWORD)
	page.goto(f"{server}/app/snp-desk")
	search = page.locator(".snp-patient-search")
	fill(search.locator('input[data-fieldname="phone"]'), phone)
	search.get_by_role("button", name="Rechercher le patient").click()
	search.locator("[data-patient]", has_text="Morvan").click()
	history = search.locator(".snp-patient-history")
	history.get_by_text("Timonier").wait_for()
	screenshot(page, "desk-patient-found")

	page.locator('input[data-fieldname="query"]').fill(commune)
	page.locator('input[data-fieldname="query"]').press("Tab")
	row = page.locator(".snp-desk-results tr", has_text="Timonier").first
	row.get_by_role("button", name="Réserver").first.click()
	dialog = page.locator(".modal.show")
	dialog.locator('input[data-fieldname="patient_last_name"]').wait_for()
	assert dialog.locator('input[data-fieldname="patient_last_name"]').input_value() == "Morvan"
	assert dialog.locator('input[data-fieldname="patient_first_name"]').input_value() == "Yann"
	dialog.get_by_label("Patient suivi par ce médecin (médecin traitant) ?").check()
	dialog.get_by_label("Demande régulée (SAS/15) ?").check()
	screenshot(page, "desk-patient-two-questions")
	dialog.get_by_role("button", name="Réserver").click()
	page.get_by_text("Rendez-vous pris").wait_for()

	frappe.db.rollback()
	booking = frappe.get_doc("SNP Booking", {"slot": slot, "status": "Booked"})
	assert booking.patient == earlier.patient
	assert (booking.patient_of_doctor, booking.regulated, booking.supplement_eligible) == (1, 1, 0)
	# the supplement decision is shown (own patient, or PDSA hours when the test runs at night)
	page.get_by_text(booking.supplement_note).wait_for()
	assert frappe.db.get_value("SNP Call", booking.call, "patient") == earlier.patient
	cleanup(sector, [earlier.patient])


def test_no_slot_puts_the_caller_on_the_call_back_list_and_a_new_slot_serves_him(
	server, desk_login, committed
):
	telesecretary = committed.user(["Télésecrétaire"])
	commune = "Doulon-" + frappe.generate_hash(length=5)
	sector = make_sector(communes=commune).name
	professional = make_professional(sector=sector, last_name="Batelier").name
	committed.professionals.append(professional)
	frappe.db.commit()

	page = desk_login(telesecretary, TEST_PASSWORD)
	page.goto(f"{server}/app/snp-desk")
	page.locator('input[data-fieldname="query"]').fill(commune)
	page.locator('input[data-fieldname="query"]').press("Tab")
	page.get_by_role("button", name="Mettre sur la liste de rappel").click()
	dialog = page.locator(".modal.show")
	dialog.locator('input[data-fieldname="patient_last_name"]').wait_for()
	assert dialog.locator('input[data-fieldname="sector"]').input_value() == sector
	set_date(page, dialog.locator('input[data-fieldname="wanted_to"]'), str(add_days(today(), 2)))
	set_date(page, dialog.locator('input[data-fieldname="patient_date_of_birth"]'), "1990-02-03")
	typed = {"patient_last_name": "Quéméner", "patient_first_name": "Anna", "patient_phone": "06 55 44 33 22"}
	for _attempt in range(3):
		for fieldname, value in typed.items():
			fill(dialog.locator(f'input[data-fieldname="{fieldname}"]'), value)
		page.wait_for_timeout(300)
		if all(dialog.locator(f'input[data-fieldname="{f}"]').input_value() == v for f, v in typed.items()):
			break
	screenshot(page, "desk-callback-dialog")
	dialog.get_by_role("button", name="Mettre sur la liste de rappel").click()
	page.get_by_text("mise sur la liste de rappel").wait_for()

	frappe.db.rollback()
	callback = frappe.get_doc("SNP Callback", {"patient_last_name": "Quéméner", "sector": sector})
	assert callback.status == "Waiting"
	# a doctor publishes a slot in the sector: the matching job (run here as the queue would) notifies the desk
	slot = make_slot(professional, soon(3)).name
	frappe.db.commit()
	callbacks.match_waiting()
	frappe.db.commit()
	assert frappe.db.exists(
		"Notification Log",
		{"for_user": telesecretary, "document_type": "SNP Callback", "document_name": callback.name},
	)

	page.reload()
	panel = page.locator(".snp-callbacks-panel")
	panel.get_by_text("Rappels en attente").wait_for()
	served = panel.locator("tr", has_text="Quéméner")
	screenshot(page, "desk-callbacks-panel")
	served.get_by_role("button", name="Batelier").click()
	dialog = page.locator(".modal.show")
	dialog.locator('input[data-fieldname="patient_last_name"]').wait_for()
	assert dialog.locator('input[data-fieldname="patient_last_name"]').input_value() == "Quéméner"
	dialog.get_by_role("button", name="Réserver").click()
	page.get_by_text("Rendez-vous pris").wait_for()

	frappe.db.rollback()
	callback.reload()
	booking = frappe.get_doc("SNP Booking", {"slot": slot, "status": "Booked"})
	assert (callback.status, callback.booking, booking.patient) == ("Booked", booking.name, callback.patient)
	cleanup(sector, [callback.patient], [callback.name])
