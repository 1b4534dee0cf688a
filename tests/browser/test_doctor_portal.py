"""In a real browser, a doctor uses the portal: publishes a slot, sees the booking the telesecretariat made,
marks it honoured, downloads his calendar feed; every page is screenshotted on desktop and on a phone."""

from datetime import timedelta

import frappe
import pytest
from cpts_snp.services.booking import book_slot
from cpts_snp.tests.factories import PATIENT, TEST_PASSWORD, as_user, future_start, make_slot
from frappe.utils import now_datetime

from .conftest import screenshot

PAGES = {
	"accueil": "/snp",
	"creneaux": "/snp/creneaux",
	"rendez-vous": "/snp/rendez-vous",
	"absences": "/snp/absences",
	"indemnites": "/snp/indemnites",
	"profil": "/snp/profil",
}


def portal_login(page, server, user):
	"""The way a doctor comes in: /snp sends a visitor to the portal's light login page, and back after it."""
	page.goto(f"{server}/snp")
	page.wait_for_url("**/snp/connexion?redirect-to=/snp")
	page.fill("input[name=usr]", user)
	page.fill("input[name=pwd]", TEST_PASSWORD)
	page.click("#login-form button[type=submit]")
	page.wait_for_url(f"{server}/snp")


@pytest.fixture
def doctor(committed):
	user, professional = committed.doctor()
	telesecretary = committed.user(["Télésecrétaire"])
	# a consultation that started an hour ago, booked by the telesecretariat
	start = (now_datetime() - timedelta(hours=1)).replace(second=0, microsecond=0)
	slot = make_slot(professional, start).name
	with as_user(telesecretary):
		booking = book_slot(
			slot, {**PATIENT, "patient_last_name": "Fontaine", "patient_first_name": "Emma"}
		).name
	frappe.db.commit()
	return frappe._dict(user=user, professional=professional, booking=booking)


def test_a_doctor_publishes_sees_his_booking_marks_it_honoured_and_gets_his_feed(server, browser, doctor):
	context = browser.new_context(
		locale="fr-FR",
		timezone_id="Europe/Paris",
		viewport={"width": 1280, "height": 900},
		accept_downloads=True,
	)
	page = context.new_page()
	page.set_default_timeout(30_000)
	portal_login(page, server, doctor.user)

	# publish a slot next week
	day = future_start(days=8).date()
	page.goto(f"{server}/snp/creneaux?semaine={day}")
	page.fill("#publish-slot input[name=day]", str(day))
	page.fill("#publish-slot input[name=time]", "17:40")
	page.click("#publish-slot button[type=submit]")
	page.locator(f'[data-day="{day}"] .snp-row', has_text="17:40").wait_for()
	assert frappe.db.exists("SNP Slot", {"professional": doctor.professional, "starts_at": f"{day} 17:40:00"})

	# the booking made by the telesecretariat, marked honoured
	page.goto(f"{server}/snp/rendez-vous")
	row = page.locator(f'[data-booking="{doctor.booking}"]')
	assert "Emma Fontaine" in row.inner_text()
	row.get_by_role("button", name="Honoré", exact=True).click()
	row.locator(".snp-pill.honoured").wait_for()
	frappe.db.rollback()
	assert frappe.db.get_value("SNP Booking", doctor.booking, "status") == "Honoured"

	# the private calendar feed
	page.goto(f"{server}/snp/profil")
	feed_url = page.locator("#feed-url").inner_text()
	feed = page.request.get(server + "/api/" + feed_url.split("/api/", 1)[1])
	assert feed.ok and "BEGIN:VCALENDAR" in feed.text() and "Fontaine" not in feed.text()
	context.close()


@pytest.mark.parametrize(
	"device, viewport",
	[("desktop", {"width": 1280, "height": 900}), ("phone", {"width": 390, "height": 844})],
)
def test_every_portal_page_fits_desktop_and_phone_screens(server, browser, doctor, device, viewport):
	context = browser.new_context(
		locale="fr-FR", timezone_id="Europe/Paris", viewport=viewport, is_mobile=device == "phone"
	)
	page = context.new_page()
	page.set_default_timeout(30_000)
	portal_login(page, server, doctor.user)
	for name, path in PAGES.items():
		page.goto(server + path)
		page.locator(".snp h1").wait_for()
		screenshot(page, f"portal-{name}-{device}")
		# nothing wider than the screen: no horizontal scrolling on a phone
		width = page.evaluate("document.documentElement.scrollWidth")
		assert width <= viewport["width"] + 1, f"{path} is {width}px wide on a {viewport['width']}px screen"
	context.close()
