"""In a real browser, on a phone's screen: a regulator of the SAS follows the link of a doctor's slot
(/sas/agenda/<doctor>?origin=sas), logs in, picks a slot, gives the patient, confirms and sees the appointment;
the page runs under its Content-Security-Policy without a violation."""

import time

import frappe
from cpts_snp.tests.factories import TEST_PASSWORD, future_start, make_slot

from .conftest import screenshot

PHONE = {"width": 390, "height": 844}
WATCH_CSP = """
window.__csp = [];
document.addEventListener("securitypolicyviolation", (e) => window.__csp.push(e.violatedDirective + " " + e.blockedURI));
"""


def free_slot(professional, hour) -> str:
	"""A slot tomorrow at `hour`, committed (retried when another test run's inserts deadlock it)."""
	frappe.db.commit()
	for attempt in range(5):
		try:
			name = make_slot(professional, future_start(1, hour)).name
			frappe.db.commit()
			return name
		except frappe.QueryDeadlockError:
			frappe.db.rollback()
			if attempt == 4:
				raise
			time.sleep(0.2 * (attempt + 1))


def test_a_regulator_books_a_slot_from_the_sas_link_on_a_phone(server, browser, committed, partners):
	professional = committed.professional()
	slots = [free_slot(professional, h) for h in (10, 11)]
	context = browser.new_context(locale="fr-FR", timezone_id="Europe/Paris", viewport=PHONE, is_mobile=True)
	try:
		page = context.new_page()
		page.set_default_timeout(30_000)
		page.add_init_script(WATCH_CSP)
		page.goto(f"{server}/sas/agenda/{professional}?origin=sas")
		page.wait_for_url("**/login**")
		page.fill("#login_email", partners.a.user)
		page.fill("#login_password", TEST_PASSWORD)
		page.click(".btn-login")
		page.wait_for_url(f"**/sas/agenda/{professional}?origin=sas")
		page.locator(f'.sas-slot[data-slot="{slots[0]}"]').wait_for()
		screenshot(page, "sas-booking-link-1-agenda")

		page.locator(f'.sas-slot[data-slot="{slots[0]}"] .sas-choose').click()
		page.locator("#sas-book-form").wait_for()
		page.fill("input[name=patient_last_name]", "Navigateur")
		page.fill("input[name=patient_first_name]", "Lucie")
		page.fill("input[name=patient_date_of_birth]", "1990-05-17")
		page.fill("input[name=patient_phone]", "06 12 34 56 78")
		page.fill("textarea[name=reason]", "Douleur abdominale")
		screenshot(page, "sas-booking-link-2-patient")
		page.click("#sas-confirm")
		page.locator("#sas-confirmation").wait_for()
		assert "Lucie Navigateur" in page.locator("#sas-patient").inner_text()
		assert "Rendez-vous pris" in page.locator("#sas-confirmation").inner_text()
		screenshot(page, "sas-booking-link-3-confirmation")
		assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
		assert page.evaluate("window.__csp") == []
	finally:
		context.close()
	frappe.db.rollback()
	booking = frappe.get_all(
		"SNP Booking",
		filters={"slot": slots[0]},
		fields=["channel", "regulated", "partner", "operator_id_type"],
	)
	assert [(b.channel, b.regulated, b.partner, b.operator_id_type) for b in booking] == [
		("SAS", 1, partners.a.partner, "INTRN")
	]
