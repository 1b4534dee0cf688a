"""A portal for phones, for everyone: every page of the doctors' portal, the SAS booking link and the public page
/permanences, opened on a phone's screen with a cold cache, weighs at most 60 KB of HTML and 150 KB downloaded in
all (measured uncompressed: the test server does not gzip, nginx does in production), loads only files of the site,
runs under its Content-Security-Policy without a violation and passes axe-core's WCAG 2.1 A and AA rules (RGAA 4,
the French reference, follows WCAG 2.1 AA) with no violation. The doctor's pages are full: a week of slots of every
kind, upcoming appointments and the 50 past ones the page lists (with the patients' phones, each a link), an
absence, a calendar feed, a permanence on the public page."""

import os
import time
from datetime import timedelta
from pathlib import Path

import frappe
import pytest
from cpts_snp.interns.factories import make_permanence
from cpts_snp.services import portal
from cpts_snp.services.booking import book_slot
from cpts_snp.tests.factories import PATIENT, TEST_PASSWORD, future_start, make_absence, make_slot
from frappe.utils import add_days, now_datetime, today

from conftest import Committed

ROOT = Path(__file__).resolve().parents[2]
AXE_CORE_JS = Path(
	os.environ.get("AXE_CORE_JS") or ROOT / ".bench-tools/axe-core/node_modules/axe-core/axe.min.js"
)
WCAG_21_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
MAX_HTML = 60_000
MAX_FIRST_VISIT = 150_000
PHONE = {"width": 390, "height": 844}
PAST_SHOWN = 50  # the past appointments /snp/rendez-vous lists (www/snp/rendez_vous.py)
DAY = 3  # days ahead of this module's slots

WATCH_CSP = """
window.__csp = [];
document.addEventListener("securitypolicyviolation", (e) => window.__csp.push(e.violatedDirective + " " + e.blockedURI));
"""
RUN_AXE = """async (tags) => {
	const result = await axe.run(document, {runOnly: {type: "tag", values: tags}, resultTypes: ["violations"]});
	return result.violations.map((v) => `${v.id} (${v.impact}): ${v.help}\\n    ` + v.nodes.slice(0, 5)
		.map((n) => n.target.join(" ") + " → " + (n.failureSummary || "").replace(/\\s+/g, " ")).join("\\n    "));
}"""
DOWNLOADED = """() => performance.getEntriesByType("navigation").concat(performance.getEntriesByType("resource"))
	.map((e) => [e.name, e.transferSize])"""


def _retried(make):
	"""Commits what `make` wrote, retried when another test run's inserts deadlock it."""
	for attempt in range(5):
		try:
			result = make()
			frappe.db.commit()
			return result
		except frappe.QueryDeadlockError:
			frappe.db.rollback()
			if attempt == 4:
				raise
			time.sleep(0.2 * (attempt + 1))


@pytest.fixture(scope="module")
def world(server):
	"""One doctor with full pages, committed once for the module and removed afterwards."""
	if not AXE_CORE_JS.exists():
		pytest.fail(f"axe-core is missing ({AXE_CORE_JS}): run the tests with `make test`, which installs it")
	frappe.db.rollback()
	frappe.set_user("Administrator")
	records = Committed()
	user, professional = _retried(records.doctor)
	patient = {**PATIENT, "patient_last_name": "Lefèvre-Dupont", "patient_first_name": "Marie-Hélène"}
	reason = "Fièvre depuis trois jours, toux, demande un avis rapide"

	def week():
		# the week shown: free, booked and PDSA (weekday evening) slots on two days, three of them booked
		slots = [
			make_slot(professional, future_start(DAY + d, hour)).name
			for d in (0, 1)
			for hour in (9, 10, 11, 21)
		]
		for slot in slots[1:4]:
			book_slot(slot, patient, reason=reason)
		# the past appointments the page lists, each with the patient's phone; some honoured, some missed
		start = (now_datetime() - timedelta(days=1)).replace(hour=10, minute=0, second=0, microsecond=0)
		for k in range(PAST_SHOWN):
			slot = make_slot(professional, start - timedelta(days=k // 4, hours=2 * (k % 4))).name
			booking = book_slot(slot, patient, reason=reason)
			if k % 3:
				booking.db_set("status", "Honoured" if k % 3 == 1 else "No-show", update_modified=False)
		make_absence(professional, add_days(today(), DAY + 20), add_days(today(), DAY + 22), reason="Congés")
		portal.regenerate_feed_token(professional)
		make_permanence(professional, future_start(1, 18), future_start(1, 20))
		return slots

	slots = _retried(week)
	yield frappe._dict(user=user, professional=professional, slots=slots)
	frappe.db.rollback()
	frappe.db.delete("SNP Permanence", {"professional": professional})
	frappe.db.delete("SNP Absence", {"professional": professional})
	frappe.db.commit()
	records.cleanup()


def phone_context(browser, server, user=None):
	context = browser.new_context(locale="fr-FR", timezone_id="Europe/Paris", viewport=PHONE, is_mobile=True)
	context.add_init_script(WATCH_CSP)
	# axe-core comes in as an init script (the pages' Content-Security-Policy allows no other script)
	context.add_init_script(path=str(AXE_CORE_JS))
	if user:
		response = context.request.post(
			f"{server}/api/method/login", form={"usr": user, "pwd": TEST_PASSWORD}
		)
		assert response.ok, response.text()
	return context


def audit(browser, server, user, path):
	"""Opens `path` as `user` (None: a visitor) in a new browser profile (a cold cache); returns what is wrong with
	the page (nothing, for a good page)."""
	context = phone_context(browser, server, user)
	try:
		return _problems(context.new_page(), server, path)
	finally:
		context.close()


def _problems(page, server, path):
	page.set_default_timeout(30_000)
	response = page.goto(server + path, wait_until="load")
	assert response.ok and response.url == server + path, f"{path}: {response.status} at {response.url}"
	page.locator("main h1").wait_for()
	problems = []
	html = len(response.body())
	if html > MAX_HTML:
		problems.append(f"{html} bytes of HTML (at most {MAX_HTML})")
	downloaded = page.evaluate(DOWNLOADED)
	foreign = [url for url, _size in downloaded if not url.startswith(server)]
	if foreign:
		problems.append(f"files from elsewhere: {foreign}")
	total = sum(size for _url, size in downloaded)
	if total > MAX_FIRST_VISIT:
		problems.append(
			f"{total} bytes downloaded on a first visit (at most {MAX_FIRST_VISIT}): {downloaded}"
		)
	if page.evaluate("document.documentElement.lang") != "fr":
		problems.append("the page is not declared French (<html lang>)")
	if page.evaluate("document.documentElement.scrollWidth") > PHONE["width"]:
		problems.append("wider than the phone's screen")
	problems += page.evaluate(RUN_AXE, WCAG_21_AA)
	problems += [f"Content-Security-Policy violation: {v}" for v in page.evaluate("window.__csp")]
	print(f"{path}: {html} bytes of HTML, {total} bytes downloaded")
	return problems


PORTAL_PAGES = [
	"/snp",
	"/snp/creneaux?semaine={week}",
	"/snp/rendez-vous",
	"/snp/absences",
	"/snp/reunions",
	"/snp/profil",
	"/snp/indemnites",
]


def report(problems: dict) -> str:
	return "\n".join(f"{page}:\n  " + "\n  ".join(found) for page, found in problems.items() if found)


def test_the_doctors_portal_is_light_and_accessible_on_a_phone(server, browser, world):
	week = add_days(today(), DAY)
	problems = {path: audit(browser, server, world.user, path.format(week=week)) for path in PORTAL_PAGES}
	assert not any(problems.values()), report(problems)


def test_the_appointments_page_lists_fifty_past_appointments_and_their_phone_links(server, browser, world):
	"""The heaviest page, full: the limits above are measured on the real thing."""
	context = phone_context(browser, server, world.user)
	try:
		page = context.new_page()
		page.goto(f"{server}/snp/rendez-vous")
		assert page.locator("[data-booking]").count() == PAST_SHOWN + 3
		assert page.locator('[data-booking] a[href^="tel:"]').count() == PAST_SHOWN + 3
	finally:
		context.close()


def test_the_sas_booking_link_is_light_and_accessible_on_a_phone(server, browser, world, partners):
	agenda = f"/sas/agenda/{world.professional}?origin=sas"
	free = world.slots[4]
	problems = {
		"agenda": audit(browser, server, partners.a.user, agenda),
		"patient form": audit(browser, server, partners.a.user, f"{agenda}&creneau={free}"),
	}
	assert not any(problems.values()), report(problems)


def test_the_portal_login_page_is_light_and_accessible_on_a_phone(server, browser):
	problems = audit(browser, server, None, "/snp/connexion?redirect-to=/snp/creneaux")
	assert not problems, "\n".join(problems)


def test_a_wrong_password_on_the_portal_login_page_is_told_in_french(server, browser, world):
	context = phone_context(browser, server)
	try:
		page = context.new_page()
		page.goto(f"{server}/snp/creneaux")
		page.fill("input[name=usr]", world.user)
		page.fill("input[name=pwd]", "not-the-password")
		page.click("#login-form button[type=submit]")
		alert = page.locator("#snp-alert.error")
		alert.wait_for()
		assert "/snp/connexion" in page.url
		print(alert.inner_text())
		assert alert.inner_text().strip() and "Invalid" not in alert.inner_text()
	finally:
		context.close()


def test_the_public_permanences_page_is_light_and_accessible_on_a_phone(server, browser, world):
	problems = audit(browser, server, None, "/permanences")
	assert not problems, "\n".join(problems)
	# measured with the week's permanences listed
	context = phone_context(browser, server)
	try:
		page = context.new_page()
		page.goto(f"{server}/permanences")
		assert page.locator("main li").count() >= 1
	finally:
		context.close()


def test_a_keyboard_user_skips_the_top_bar_to_the_page_content(server, browser, world):
	context = phone_context(browser, server, world.user)
	try:
		page = context.new_page()
		page.goto(f"{server}/snp")
		page.keyboard.press("Tab")
		focused = page.evaluate(
			"[document.activeElement.textContent.trim(), document.activeElement.getAttribute('href')]"
		)
		assert focused == ["Aller au contenu", "#main-content"]
		assert page.locator(".snp-skip").is_visible()
		page.keyboard.press("Enter")
		assert page.evaluate("location.hash") == "#main-content"
		assert page.locator("main#main-content h1").is_visible()
	finally:
		context.close()


def test_a_refusal_shown_by_the_portal_is_read_out_and_keeps_its_contrast(server, browser, world):
	context = phone_context(browser, server, world.user)
	try:
		page = context.new_page()
		page.goto(f"{server}/snp/absences")
		page.fill("#absence-form input[name=from_date]", str(add_days(today(), DAY + 5)))
		page.fill("#absence-form input[name=to_date]", str(add_days(today(), DAY + 4)))
		page.click("#absence-preview")
		alert = page.locator("#snp-alert.error")
		alert.wait_for()
		assert alert.get_attribute("role") == "alert"  # screen readers announce it
		assert alert.inner_text() == "La fin de l'absence ne peut pas précéder son début"
		assert page.evaluate(RUN_AXE, WCAG_21_AA) == []
	finally:
		context.close()
