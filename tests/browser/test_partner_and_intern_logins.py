"""In a real browser, the logins that have no other browser test still do their job under the access model: a
partner's user lists the free slots and only his partner's bookings in the desk; an intern opens his portal."""

from datetime import timedelta

import frappe
from cpts_snp.interns.factories import make_intern, make_shift, make_supervisor
from cpts_snp.services.booking import book_slot
from cpts_snp.tests.factories import PATIENT, TEST_PASSWORD, as_user, future_start, make_slot

from .conftest import screenshot


def test_a_partner_lists_free_slots_and_only_his_partners_bookings(server, desk_login, committed, partners):
	professional = committed.professional()
	free = make_slot(professional, future_start(days=3, hour=16)).name
	mine, theirs = (make_slot(professional, future_start(days=3, hour=h)).name for h in (9, 10))
	with as_user(partners.a.user):
		mine = book_slot(mine, {**PATIENT, "patient_last_name": "Partenaire-A"}).name
	with as_user(partners.b.user):
		theirs = book_slot(theirs, {**PATIENT, "patient_last_name": "Partenaire-B"}).name
	frappe.db.commit()

	page = desk_login(partners.a.user, TEST_PASSWORD)
	page.goto(f"{server}/app/snp-slot/{free}")
	page.get_by_text("Disponible").first.wait_for()
	page.goto(f"{server}/app/snp-booking?patient_last_name=Partenaire-A")
	page.locator(f'a[href*="{mine}"]').first.wait_for()
	screenshot(page, "partner-bookings")
	page.goto(f"{server}/app/snp-booking?patient_last_name=Partenaire-B")
	page.locator(".no-result:visible, .msg-box:visible").first.wait_for()
	assert page.locator(f'a[href*="{theirs}"]').count() == 0
	frappe.db.delete("SNP Booking", {"name": ("in", [mine, theirs])})
	frappe.db.commit()


def test_an_intern_opens_his_portal_on_his_own_slots(server, browser, committed):
	supervisor_user = committed.user(["Médecin SNP"], desk_user=False)
	supervisor = make_supervisor(user=supervisor_user)
	committed.professionals.append(supervisor)
	intern_user = committed.user(["Médecin SNP", "Interne SNP"], desk_user=False)
	intern = make_intern([supervisor], user=intern_user)
	committed.professionals.append(intern.professional)
	start = future_start(days=2, hour=10)
	shift = make_shift(supervisor, start - timedelta(hours=1), start + timedelta(hours=2)).name
	slot = make_slot(intern.professional, start).name
	frappe.db.commit()
	try:
		context = browser.new_context(locale="fr-FR", timezone_id="Europe/Paris")
		page = context.new_page()
		page.goto(f"{server}/login")
		page.fill("#login_email", intern_user)
		page.fill("#login_password", TEST_PASSWORD)
		page.click(".btn-login")
		page.wait_for_load_state("networkidle")
		page.goto(f"{server}/snp/creneaux?semaine={start.date() - timedelta(days=start.weekday())}")
		page.locator(f'[data-slot="{slot}"]').wait_for()
		screenshot(page, "intern-portal")
		context.close()
	finally:
		frappe.db.delete("SNP Supervision Shift", shift)
		frappe.db.delete("SNP Intern", intern.name)
		frappe.db.commit()
