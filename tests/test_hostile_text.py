"""Text typed by someone else never runs as markup on the app's pages.

A partner, a télésecrétaire or a doctor types markup into a reason, a location, a cancellation reason (names with
markup are refused on input; records saved before that rule still hold some): the portal (/snp/…), the public
page /permanences and the PDF statement print it as text. These pages also carry a Content-Security-Policy
without inline script; the desk and the API do not get it (their responses are left as Frappe makes them)."""

import frappe
import pytest
import requests
from cpts_snp.interns.factories import make_permanence
from cpts_snp.services.statements import STATEMENT_FORMAT
from cpts_snp.tests.factories import PATIENT, future_start, make_slot
from cpts_snp.tests.http import server_messages
from frappe.www.printview import get_rendered_template
from markupsafe import escape

# Frappe's input sanitiser leaves alone a value that parses as JSON: this one reaches the database as it is.
MARKUP = "<img src=x onerror=window.__pwned=1><script>window.__pwned=1</script>"
HOSTILE = f'["{MARKUP}"]'
LIVE = ("<img src=x", "<script>window.__pwned", "onerror=window.__pwned=1>")
REFUSED_NAME = "ne peut pas contenir de chevrons"

PORTAL_PAGES = [
	"/snp",
	"/snp/rendez-vous",
	"/snp/creneaux",
	"/snp/absences",
	"/snp/indemnites",
	"/snp/profil",
]
CSP = "Content-Security-Policy"


def assert_shown_as_text(page: str, stored: str, where: str):
	assert not [live for live in LIVE if live in page], f"markup live on {where}"
	assert str(escape(stored)) in page, f"{stored!r} not shown (escaped) on {where}"


def portal(server, method):
	return f"{server}/api/method/cpts_snp.api.portal.{method}"


@pytest.fixture
def world(server, http_login, committed, partners):
	"""A doctor whose records hold hostile text, entered through the real paths where they still accept it."""
	user, professional = committed.doctor()
	telesecretary = committed.user(["Télésecrétaire"])
	frappe.db.commit()
	doctor = http_login(user)
	desk = http_login(telesecretary)
	partner = {"Authorization": f"token {partners.a.token}"}
	day = future_start(days=3, hour=9)

	# the doctor publishes a slot on the portal; its location is a hostile legacy text (typed before places of
	# practice, never linked to a place)
	published = doctor.post(portal(server, "publish_slot"), json={"starts_at": str(day), "duration": 20})
	assert published.ok, published.text
	frappe.db.set_value("SNP Slot", published.json()["message"], {"place": None, "location": HOSTILE})
	partner_slot = make_slot(professional, day.replace(hour=11)).name
	desk_slot = make_slot(professional, day.replace(hour=12)).name
	legacy_slot = make_slot(professional, day.replace(hour=14)).name
	frappe.db.commit()

	# a partner books through the partner API, with a hostile reason
	booked = requests.post(
		f"{server}/api/method/cpts_snp.api.partners.book",
		headers=partner,
		json={"slot": partner_slot, **PATIENT, "reason": HOSTILE},
		timeout=30,
	)
	assert booked.ok, booked.text
	# the télésecrétaire books from the desk page; the doctor cancels it with a hostile reason
	desk_booked = desk.post(
		f"{server}/api/method/cpts_snp.api.telesecretariat.book",
		json={"slot": desk_slot, "patient": PATIENT, "call": {"caller_type": "Patient"}, "reason": HOSTILE},
	)
	assert desk_booked.ok, desk_booked.text
	desk_booking = desk_booked.json()["message"]["booking"]
	cancelled = doctor.post(
		portal(server, "cancel_booking"), json={"booking": desk_booking, "reason": HOSTILE}
	)
	assert cancelled.ok, cancelled.text
	# an absence with a hostile reason, on a day without slots
	absent = str(future_start(days=40).date())
	declared = doctor.post(
		portal(server, "declare_absence"), json={"from_date": absent, "to_date": absent, "reason": HOSTILE}
	)
	assert declared.ok, declared.text

	# names saved before names were cleaned on input: the doctor's, a patient's, a permanence organisation's
	frappe.db.rollback()
	legacy = frappe.get_doc("SNP Booking", {"slot": partner_slot})
	frappe.db.set_value(
		"SNP Booking", legacy.name, {"patient_last_name": MARKUP, "patient_first_name": MARKUP}
	)
	frappe.db.set_value("SNP Professional", professional, "full_name", "Dr " + MARKUP)
	permanence = make_permanence(professional, future_start(days=1, hour=18), future_start(days=1, hour=19))
	frappe.db.set_value(
		"SNP Permanence", permanence.name, {"organisation_name": MARKUP, "professional_name": MARKUP}
	)
	frappe.db.commit()
	frappe.clear_document_cache("SNP Professional", professional)
	yield frappe._dict(
		user=user,
		professional=professional,
		doctor=doctor,
		desk=desk,
		partner=partner,
		day=day,
		legacy_slot=legacy_slot,
		desk_booking=desk_booking,
		stored=frappe._dict(
			location=frappe.db.get_value("SNP Slot", published.json()["message"], "location"),
			reason=frappe.db.get_value("SNP Booking", desk_booking, "reason"),
			cancellation=frappe.db.get_value("SNP Booking", desk_booking, "cancellation_reason"),
			absence=frappe.db.get_value("SNP Absence", declared.json()["message"]["name"], "reason"),
		),
	)
	frappe.db.rollback()
	frappe.db.delete(
		"SNP Call",
		{"booking": ["in", frappe.get_all("SNP Booking", {"professional": professional}, pluck="name")]},
	)
	frappe.db.delete("SNP Absence", {"professional": professional})
	frappe.db.delete("SNP Permanence", {"professional": professional})
	frappe.db.commit()


def test_hostile_text_reaches_the_database_as_typed(world):
	# the test is only worth something if the markup was stored as it is
	assert all(MARKUP in value for value in world.stored.values()), world.stored


def test_the_portal_shows_hostile_text_as_text(server, world):
	pages = {path: world.doctor.get(server + path) for path in PORTAL_PAGES}
	pages["/snp/creneaux"] = world.doctor.get(f"{server}/snp/creneaux?semaine={world.day.date()}")
	for path, response in pages.items():
		assert response.status_code == 200, (path, response.text[-3000:])
		assert_shown_as_text(response.text, "Dr " + MARKUP, path)  # the doctor's name, on every page
	assert_shown_as_text(pages["/snp"].text, MARKUP, "/snp")  # the patient's names
	rendez_vous = pages["/snp/rendez-vous"].text
	for stored in (MARKUP, world.stored.reason, world.stored.cancellation):
		assert_shown_as_text(rendez_vous, stored, "/snp/rendez-vous")
	assert_shown_as_text(pages["/snp/creneaux"].text, world.stored.location, "/snp/creneaux")
	assert_shown_as_text(pages["/snp/absences"].text, world.stored.absence, "/snp/absences")


def test_the_public_permanences_page_shows_hostile_names_as_text(server, world):
	response = requests.get(server + "/permanences", timeout=30)
	assert response.status_code == 200
	assert_shown_as_text(response.text, MARKUP, "/permanences")


def test_the_statement_shows_hostile_names_as_text():
	doc = frappe.get_doc(
		{
			"doctype": "SNP Indemnity Payment",
			"professional_name": "Dr " + MARKUP,
			"iban": "FR7630006000011234567890189",
			"amount": 50,
			"lines": [{"item_type": "Consultation honoured", "item_name": MARKUP, "rate": 50, "amount": 50}],
		}
	)
	doc.docstatus = 1  # an approved statement, never saved: rendered as printview renders it
	html = get_rendered_template(
		doc, print_format=frappe.get_doc("Print Format", STATEMENT_FORMAT), no_letterhead=1
	)
	assert_shown_as_text(html, "Dr " + MARKUP, "the statement")
	assert_shown_as_text(html, MARKUP, "the statement")


def test_names_with_markup_are_refused_from_the_partner_api_and_the_desk(server, world):
	partner = requests.post(
		f"{server}/api/method/cpts_snp.api.partners.book",
		headers=world.partner,
		json={"slot": world.legacy_slot, **PATIENT, "patient_last_name": MARKUP},
		timeout=30,
	)
	assert partner.status_code == 417 and REFUSED_NAME in server_messages(partner)
	desk = world.desk.post(
		f"{server}/api/method/cpts_snp.api.telesecretariat.book",
		json={
			"slot": world.legacy_slot,
			"patient": {**PATIENT, "patient_first_name": HOSTILE},
			"call": {"caller_type": "Patient"},
		},
	)
	assert desk.status_code == 417 and REFUSED_NAME in server_messages(desk)
	caller = world.desk.post(
		f"{server}/api/method/cpts_snp.api.telesecretariat.book",
		json={
			"slot": world.legacy_slot,
			"patient": PATIENT,
			"call": {"caller_type": "Patient", "caller_name": MARKUP},
		},
	)
	assert caller.status_code == 417 and REFUSED_NAME in server_messages(caller)
	frappe.db.rollback()
	assert not frappe.db.exists("SNP Booking", {"slot": world.legacy_slot})
	assert frappe.db.get_value("SNP Slot", world.legacy_slot, "status") == "Available"


def test_the_apps_pages_carry_the_content_security_policy_and_nothing_else_does(server, world, http_login):
	responses = {path: world.doctor.get(server + path) for path in PORTAL_PAGES}
	responses["/permanences"] = requests.get(server + "/permanences", timeout=30)
	for path, response in responses.items():
		policy = response.headers.get(CSP, "")
		assert "script-src 'self'" in policy and "object-src 'none'" in policy, path
		assert "frame-ancestors 'self'" in policy and "'unsafe-inline'" not in policy, path
		assert response.headers.get("X-Content-Type-Options") == "nosniff", path
		assert response.headers.get("Referrer-Policy") == "same-origin", path
	others = {
		"/app": world.desk.get(server + "/app"),
		"/api/method/ping": requests.get(server + "/api/method/ping", timeout=30),
		"/api/resource/SNP Slot": world.desk.get(server + "/api/resource/SNP Slot"),
		"/api/method/…portal.preview_absence": world.doctor.get(
			portal(server, "preview_absence"), params={"from_date": "2030-01-01", "to_date": "2030-01-01"}
		),
		"/login": requests.get(server + "/login", timeout=30),
	}
	for path, response in others.items():
		assert response.status_code == 200, path
		assert CSP not in response.headers, path


def test_the_portal_pages_load_no_inline_script(server, world):
	for path in PORTAL_PAGES:
		page = world.doctor.get(server + path).text
		assert page.count("<script") == page.count('<script src="/assets/cpts_snp/js/snp_portal.js'), path
		assert 'name="csrf-token"' in page, path
