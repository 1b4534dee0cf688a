"""In a real browser: the portal works under its Content-Security-Policy (no page reports a violation, its
forms still publish, preview and save), and hostile text on the telesecretariat page shows as text, never runs."""

from datetime import timedelta

import frappe
from cpts_snp.tests.factories import (
	TEST_PASSWORD,
	future_start,
	make_professional,
	make_sector,
	make_slot,
)
from frappe.utils import now_datetime

from .conftest import screenshot
from .test_doctor_portal import PAGES, portal_login

# Records saved before names were cleaned on input may still hold this; the desk has no CSP, so it would run.
MARKUP = "<img src=x onerror=window.__pwned=1>"
WATCH_CSP = """
window.__csp = [];
document.addEventListener("securitypolicyviolation", (e) => window.__csp.push(e.violatedDirective + " " + e.blockedURI));
"""


def new_page(browser):
	context = browser.new_context(
		locale="fr-FR", timezone_id="Europe/Paris", viewport={"width": 1280, "height": 900}
	)
	page = context.new_page()
	page.set_default_timeout(30_000)
	page.add_init_script(WATCH_CSP)
	console = []
	page.on("console", lambda message: console.append(message.text) if message.type == "error" else None)
	return context, page, console


def csp_reports(page, console):
	return page.evaluate("window.__csp") + [text for text in console if "Content Security Policy" in text]


def test_no_portal_page_reports_a_content_security_policy_violation_and_the_forms_still_work(
	server, browser, committed
):
	user, professional = committed.doctor()
	frappe.db.commit()
	context, page, console = new_page(browser)
	portal_login(page, server, user)
	for path in PAGES.values():
		page.goto(server + path)
		page.locator(".snp h1").wait_for()
		assert page.locator("#snp-logout").is_visible(), path
		assert csp_reports(page, console) == [], path

	# publishing a slot (the form's day and time become one datetime in snp_portal.js)
	day = future_start(days=9).date()
	page.goto(f"{server}/snp/creneaux?semaine={day}")
	page.fill("#publish-slot input[name=day]", str(day))
	page.fill("#publish-slot input[name=time]", "16:20")
	page.click("#publish-slot button[type=submit]")
	page.locator(f'[data-day="{day}"] .snp-row', has_text="16:20").wait_for()
	assert frappe.db.exists("SNP Slot", {"professional": professional, "starts_at": f"{day} 16:20:00"})

	# previewing an absence: the message comes translated from the page's data attributes
	page.goto(f"{server}/snp/absences")
	page.fill("#absence-form input[name=from_date]", str(future_start(days=30).date()))
	page.fill("#absence-form input[name=to_date]", str(future_start(days=30).date()))
	page.click("#absence-preview")
	page.get_by_text("Cette absence ne touche aucun rendez-vous.").wait_for()
	assert page.locator("#absence-confirm").is_enabled()

	# saving the profile (the checked sectors travel as one JSON list)
	page.goto(f"{server}/snp/profil")
	page.fill("#profile-form input[name=phone]", "06 12 34 56 78")
	page.click("#profile-form button[type=submit]")
	page.get_by_text("Profil enregistré").wait_for()
	frappe.db.rollback()
	assert frappe.db.get_value("SNP Professional", professional, "phone").endswith("6 12 34 56 78")
	assert csp_reports(page, console) == []

	# logging out, then the public page
	page.click("#snp-logout")
	page.goto(f"{server}/permanences")
	page.locator(".permanences h1").wait_for()
	screenshot(page, "permanences-csp")
	assert csp_reports(page, console) == []
	context.close()


def fill_patient(page, last_name):
	# through the dialog's own API: typed values are debounced and a date typed races Frappe's date picker
	page.wait_for_function("window.cur_dialog && cur_dialog.fields_dict.patient_last_name")
	page.evaluate(
		"(values) => cur_dialog.set_values(values)",
		{"patient_last_name": last_name, "patient_first_name": "Hugo", "patient_date_of_birth": "2015-09-02"},
	)


def test_hostile_names_and_locations_show_as_text_on_the_telesecretariat_page(server, desk_login, committed):
	telesecretary = committed.user(["Télésecrétaire"])
	commune = "Hostile-" + frappe.generate_hash(length=5)
	sector = make_sector(communes=commune)
	professional = make_professional(sector=sector.name, last_name="Piegé").name
	committed.professionals.append(professional)
	start = (now_datetime() + timedelta(hours=3)).replace(second=0, microsecond=0)
	first = make_slot(professional, start).name
	second = make_slot(professional, start + timedelta(hours=1)).name
	frappe.db.set_value("SNP Professional", professional, "full_name", "Dr Piegé " + MARKUP)
	for slot in (first, second):
		frappe.db.set_value("SNP Slot", slot, {"professional_name": "Dr Piegé " + MARKUP, "location": MARKUP})
	frappe.db.commit()

	page = desk_login(telesecretary, TEST_PASSWORD)

	def search():
		page.goto(f"{server}/app/snp-desk")
		page.locator('input[data-fieldname="query"]').fill(commune)
		page.locator('input[data-fieldname="query"]').press("Tab")
		row = page.locator("tr", has_text="Piegé").first
		row.wait_for()
		return row

	try:
		row = search()
		assert MARKUP in row.inner_text()  # the name and the location, as text
		assert page.locator(".snp-desk-results img").count() == 0
		screenshot(page, "telesecretariat-hostile-search")

		# booking: the dialog's title and the confirmation name the doctor as text
		row.get_by_role("button", name="Réserver").click()
		dialog = page.locator(".modal.show")
		assert MARKUP in dialog.locator(".modal-title").inner_text()
		fill_patient(page, "Lefebvre")
		dialog.get_by_role("button", name="Réserver").click()
		confirmation = page.locator(".modal.show", has_text="Rendez-vous pris")
		confirmation.wait_for()
		# (the booking keeps the name as Frappe's input sanitiser left it: « <img src="x"> », shown as text)
		assert "Dr Piegé <img" in confirmation.inner_text() and confirmation.locator("img").count() == 0

		# a patient's name with markup is refused, in French, and nothing is booked
		row = search()
		row.get_by_role("button", name="Réserver").click()
		dialog = page.locator(".modal.show", has=page.locator('input[data-fieldname="patient_last_name"]'))
		fill_patient(page, "Lefebvre <3")  # Frappe's Data control drops a whole tag by itself
		dialog.get_by_role("button", name="Réserver").click()
		page.get_by_text("Nom du patient ne peut pas contenir de chevrons").first.wait_for()
		screenshot(page, "telesecretariat-hostile-refused")
		assert page.evaluate("window.__pwned") is None
		frappe.db.rollback()
		assert frappe.db.exists("SNP Booking", {"slot": first})
		assert not frappe.db.exists("SNP Booking", {"slot": second})
	except Exception:
		screenshot(page, "telesecretariat-hostile-failure")
		raise
	finally:
		frappe.db.rollback()
		frappe.db.delete(
			"SNP Call",
			{"booking": ["in", frappe.get_all("SNP Booking", {"professional": professional}, pluck="name")]},
		)
		frappe.db.delete("SNP Sector", sector.name)
		frappe.db.commit()
