"""The doctors' portal (/snp): pages, actions, and nobody reaching another doctor's data."""

import json
from datetime import timedelta

import frappe
import pytest
import requests
from cpts_snp.services import portal
from cpts_snp.services.booking import book_slot
from cpts_snp.tests.factories import (
	PATIENT,
	as_user,
	future_start,
	make_doctor,
	make_slot,
	make_template,
)
from cpts_snp.tests.http import server_messages
from frappe.utils import add_days, now_datetime, today

PAGES = [
	"/snp",
	"/snp/creneaux",
	"/snp/rendez-vous",
	"/snp/absences",
	"/snp/indemnites",
	"/snp/profil",
]


def in_hours(hours):
	return (now_datetime() + timedelta(hours=hours)).replace(second=0, microsecond=0)


@pytest.fixture
def doctors(committed):
	"""Doctors A and B (committed, for HTTP), each with a free slot, a booked slot and a template."""
	world = {}
	for key in ("a", "b"):
		user, professional = committed.doctor()
		free = make_slot(professional, future_start(days=10, hour=9)).name
		booked = make_slot(professional, future_start(days=10, hour=11)).name
		booking = book_slot(booked, {**PATIENT, "patient_last_name": f"Patient{key.upper()}"}).name
		template = make_template(professional).name
		world[key] = frappe._dict(
			user=user,
			professional=professional,
			free=free,
			booked=booked,
			booking=booking,
			template=template,
		)
	frappe.db.commit()
	yield frappe._dict(world)
	for key in ("a", "b"):
		frappe.db.delete("SNP Availability Template", {"professional": world[key].professional})
		frappe.db.delete("SNP Absence", {"professional": world[key].professional})
	frappe.db.commit()


def call(session, server, method, **args):
	return session.post(f"{server}/api/method/cpts_snp.api.portal.{method}", json=args)


# --- pages ---------------------------------------------------------------------------------------------------
def test_every_portal_page_answers_in_french_for_a_doctor(server, http_login, doctors):
	session = http_login(doctors.a.user)
	for page in PAGES:
		response = session.get(server + page)
		assert response.status_code == 200, page
		assert "Mes créneaux" in response.text and "Mes rendez-vous" in response.text
		assert 'src="/assets/frappe/dist/js/desk.bundle' not in response.text  # no desk asset loaded
	assert "PatientA" in session.get(server + "/snp/rendez-vous").text
	assert "PatientB" not in session.get(server + "/snp/rendez-vous").text


def test_guests_are_sent_to_the_login_page(server):
	response = requests.get(server + "/snp/creneaux", allow_redirects=False)
	assert response.status_code == 302  # not permanent: a browser would keep a 301 after the login
	assert "/snp/connexion?redirect-to=/snp/creneaux" in response.headers["Location"]


def test_staff_without_a_professional_record_get_no_doctor_space(server, http_login, committed):
	telesecretary = committed.user(["Télésecrétaire"])
	frappe.db.commit()
	assert http_login(telesecretary).get(server + "/snp/creneaux").status_code == 403


# --- actions on one's own data -------------------------------------------------------------------------------
def test_a_doctor_publishes_withdraws_and_applies_a_template(server, http_login, doctors):
	session = http_login(doctors.a.user)
	start = future_start(days=12, hour=15)
	response = call(
		session,
		server,
		"publish_slot",
		starts_at=str(start),
		duration=20,
		modality="Teleconsultation",
	)
	assert response.ok, response.text
	published = response.json()["message"]
	assert call(session, server, "withdraw_slot", slot=published).json()["message"] == "Cancelled"
	monday = future_start(days=14).date()
	created = call(
		session,
		server,
		"apply_template",
		template=doctors.a.template,
		monday=str(monday),
	).json()["message"]
	assert created
	frappe.db.rollback()
	assert set(frappe.get_all("SNP Slot", {"name": ["in", created]}, pluck="professional")) == {
		doctors.a.professional
	}


def test_a_doctor_records_the_outcome_after_the_start_and_cancels_before(server, http_login, committed):
	user, professional = committed.doctor()
	past = make_slot(professional, in_hours(-3))
	coming = make_slot(professional, in_hours(30))
	past_booking = book_slot(past.name, PATIENT).name
	coming_booking = book_slot(coming.name, PATIENT).name
	frappe.db.commit()
	session = http_login(user)
	early = call(session, server, "record_outcome", booking=coming_booking, status="Honoured")
	assert early.status_code == 417 and "une fois son heure passée" in server_messages(early)
	assert (
		call(session, server, "record_outcome", booking=past_booking, status="Honoured").json()["message"]
		== "Honoured"
	)
	assert call(
		session,
		server,
		"cancel_booking",
		booking=coming_booking,
		reason="Urgence familiale",
	).ok
	frappe.db.rollback()
	assert frappe.db.get_value("SNP Slot", past.name, "status") == "Honoured"
	assert frappe.db.get_value("SNP Slot", coming.name, "status") == "Available"


def test_an_absence_is_previewed_then_declared(server, http_login, doctors):
	session = http_login(doctors.a.user)
	day = str(future_start(days=10).date())
	preview = session.get(
		f"{server}/api/method/cpts_snp.api.portal.preview_absence",
		params={"from_date": day, "to_date": day},
	).json()["message"]
	assert [b["name"] for b in preview] == [doctors.a.booking]
	declared = call(
		session,
		server,
		"declare_absence",
		from_date=day,
		to_date=day,
		reason="Formation",
	).json()["message"]
	assert declared["cancelled_slots"] == 1 and declared["affected"] == 1
	frappe.db.rollback()
	assert frappe.db.get_value("SNP Slot", doctors.a.free, "status") == "Cancelled"
	assert frappe.db.get_value("SNP Slot", doctors.b.free, "status") == "Available"


def test_the_profile_takes_a_valid_iban_and_refuses_a_bad_one_in_french(server, http_login, doctors):
	session = http_login(doctors.a.user)
	bad = call(session, server, "update_profile", iban="FR76 3000 6000 0112 3456 7890 188")
	assert (
		bad.status_code == 417
		and "L'IBAN FR76 3000 6000 0112 3456 7890 188 n'est pas valide" in server_messages(bad)
	)
	good = call(
		session,
		server,
		"update_profile",
		phone="06 12 34 56 78",
		iban="FR76 3000 6000 0112 3456 7890 189",
		bic="AGRIFRPP",
	)
	assert good.ok
	frappe.db.rollback()
	# a new IBAN waits for the finance team's confirmation (tests/test_money_rules.py)
	assert frappe.db.get_value(
		"SNP Professional", doctors.a.professional, ["phone", "pending_iban", "pending_bic"]
	) == ("+33 6 12 34 56 78", "FR7630006000011234567890189", "AGRIFRPP")


# --- nobody reaches another doctor's data --------------------------------------------------------------------
def test_a_doctor_cannot_act_on_another_doctors_records_through_the_portal(server, http_login, doctors):
	a, b = doctors.a, doctors.b
	session = http_login(a.user)
	attempts = [
		("withdraw_slot", {"slot": b.free}),
		("record_outcome", {"booking": b.booking, "status": "No-show"}),
		("cancel_booking", {"booking": b.booking, "reason": "piratage"}),
		(
			"apply_template",
			{"template": b.template, "monday": str(future_start(days=21).date())},
		),
	]
	for method, args in attempts:
		assert call(session, server, method, **args).status_code == 403, method
	frappe.db.rollback()
	assert frappe.db.get_value("SNP Slot", b.free, "status") == "Available"
	assert frappe.db.get_value("SNP Booking", b.booking, "status") == "Booked"
	assert not frappe.db.exists("SNP Slot", {"template": b.template})


def test_a_doctor_cannot_reach_another_doctor_through_the_rest_api(server, http_login, doctors):
	a, b = doctors.a, doctors.b
	session = http_login(a.user)
	for doctype, name in (
		("SNP Slot", b.free),
		("SNP Booking", b.booking),
		("SNP Availability Template", b.template),
		("SNP Professional", b.professional),
	):
		assert session.get(f"{server}/api/resource/{doctype}/{name}").status_code == 403, doctype
		assert (
			session.put(f"{server}/api/resource/{doctype}/{name}", json={"location": "x"}).status_code == 403
		), doctype
	response = session.post(
		f"{server}/api/resource/SNP Absence",
		json={
			"professional": b.professional,
			"from_date": today(),
			"to_date": add_days(today(), 1),
		},
	)
	assert response.status_code == 403
	assert not frappe.db.exists("SNP Absence", {"professional": b.professional})


def test_a_doctor_changes_his_profile_only_through_the_portal(server, http_login, doctors):
	session = http_login(doctors.a.user)
	url = f"{server}/api/resource/SNP Professional/{doctors.a.professional}"
	for change in (
		{"rpps": "19999999999"},
		{"status": "Suspended"},
		{"last_name": "Autre"},
		{"phone": "0622222222"},
	):
		assert session.put(url, json=change).status_code == 403, change
	update = f"{server}/api/method/cpts_snp.api.portal.update_profile"
	assert session.post(update, json={"phone": "0611111111", "rpps": "19999999999"}).ok
	frappe.db.rollback()
	assert frappe.db.get_value("SNP Professional", doctors.a.professional, ["rpps", "phone"]) != (
		"19999999999",
		"0622222222",
	)
	assert (
		frappe.db.get_value("SNP Professional", doctors.a.professional, "phone").replace(" ", "")[-9:]
		== "611111111"
	)


# --- calendar feed -------------------------------------------------------------------------------------------
def test_the_calendar_feed_needs_the_current_secret_and_hides_patients(server, doctors):
	a, b = doctors.a, doctors.b
	url_a = server + "/api/" + portal.feed_url(a.professional).split("/api/", 1)[1]
	frappe.db.commit()
	response = requests.get(url_a)
	assert response.ok and response.headers["Content-Type"].startswith("text/calendar")
	body = response.text
	assert body.startswith("BEGIN:VCALENDAR") and body.count("BEGIN:VEVENT") >= 2
	assert "PatientA" not in body and "Durand" not in body
	assert "Créneau SNP libre" in body and "Rendez-vous SNP" in body

	token_a = url_a.split("token=")[1]
	feed = f"{server}/api/method/cpts_snp.api.portal.calendar_feed"
	assert requests.get(feed, params={"professional": b.professional, "token": token_a}).status_code == 403
	assert (
		requests.get(feed, params={"professional": a.professional, "token": token_a[:-1] + "x"}).status_code
		== 403
	)
	assert requests.get(feed, params={"professional": a.professional, "token": ""}).status_code in (403, 417)

	with as_user(a.user):
		portal.regenerate_feed_token(a.professional)
	frappe.db.commit()
	assert requests.get(url_a).status_code == 403
	assert requests.get(server + "/api/" + portal.feed_url(a.professional).split("/api/", 1)[1]).ok


def test_withdrawing_a_slot_within_24_hours_needs_the_coordination():
	from cpts_snp.exceptions import WithdrawalTooLateError

	user, professional = make_doctor()
	soon = make_slot(professional, in_hours(20))
	later = make_slot(professional, in_hours(30))
	with as_user(user):
		with pytest.raises(WithdrawalTooLateError, match="moins de 24 heures"):
			portal.withdraw_slot(professional, soon.name)
		assert portal.withdraw_slot(professional, later.name).status == "Cancelled"
	soon.reload()
	soon.status = "Cancelled"
	soon.save()  # Administrator / the coordination may


def test_a_doctor_reads_and_downloads_only_his_own_statements(server, http_login, doctors, monkeypatch):
	from cpts_snp.services.payment_run import compute_run, release_items
	from cpts_snp.tests.factories import make_user
	from frappe.model.workflow import apply_workflow

	a, b = doctors.a, doctors.b
	for doctor in (a, b):
		frappe.db.set_value(
			"SNP Professional",
			doctor.professional,
			"iban",
			"FR7630006000011234567890189",
		)
		make_slot(doctor.professional, frappe.utils.get_datetime("2015-03-10 10:00:00"))
	frappe.db.delete(
		"SNP Indemnity Scheme", {"scheme_name": "Test barème 2015"}
	)  # left by an interrupted run
	frappe.get_doc(
		{
			"doctype": "SNP Indemnity Scheme",
			"scheme_name": "Test barème 2015",
			"valid_from": "2015-01-01",
			"rate_per_slot": 15,
		}
	).insert()
	run = frappe.get_doc(
		{
			"doctype": "SNP Payment Run",
			"period_start": "2015-03-01",
			"period_end": "2015-03-31",
		}
	).insert()
	compute_run(run)
	treasurer = make_user(["Trésorier CPTS"], desk_user=True)
	with as_user(treasurer):
		apply_workflow(frappe.get_doc("SNP Payment Run", run.name), "Approve")
	frappe.db.commit()
	mine, theirs = (
		frappe.db.get_value("SNP Indemnity Payment", {"run": run.name, "professional": d.professional})
		for d in (a, b)
	)
	try:
		session = http_login(a.user)
		page = session.get(f"{server}/snp/indemnites").text
		assert mine in page and theirs not in page
		pdf = f"{server}/api/method/frappe.utils.print_format.download_pdf"
		args = {
			"doctype": "SNP Indemnity Payment",
			"format": "Relevé d'indemnités SNP",
			"no_letterhead": 1,
		}
		own_pdf = session.get(pdf, params={**args, "name": mine})
		assert own_pdf.ok and own_pdf.content.startswith(b"%PDF")
		assert session.get(pdf, params={**args, "name": theirs}).status_code == 403
		assert session.get(f"{server}/api/resource/SNP Indemnity Payment/{theirs}").status_code == 403
		listed = session.get(f"{server}/api/resource/SNP Indemnity Payment").json()["data"]
		assert [row["name"] for row in listed] == [mine]
		assert session.get(f"{server}/api/resource/SNP Payment Run/{run.name}").status_code == 403
	finally:
		frappe.db.rollback()
		with as_user(treasurer):
			frappe.get_doc("SNP Payment Run", run.name).cancel()
		release_items(run.name)
		frappe.db.delete("SNP Payment Run", run.name)
		frappe.db.delete("SNP Indemnity Scheme", {"scheme_name": "Test barème 2015"})
		frappe.db.delete("User", treasurer)
		frappe.db.commit()


# --- the portal's light login page -----------------------------------------------------------------------------
def test_the_portal_login_page_is_light_in_french_and_offers_the_full_login_for_the_rest(server):
	page = requests.get(server + "/snp/connexion?redirect-to=/snp/creneaux", timeout=30)
	assert page.ok and len(page.content) < 10_000
	assert "Se connecter" in page.text and "Mot de passe oublié" in page.text
	assert 'data-next="/snp/creneaux"' in page.text
	assert 'href="/login?redirect-to=/snp/creneaux#forgot"' in page.text
	assert "/assets/frappe/dist" not in page.text


def test_the_portal_login_page_never_sends_elsewhere_after_the_login(server):
	for target in ("https://evil.example/snp", "//evil.example", "javascript:alert(1)"):
		page = requests.get(server + "/snp/connexion", params={"redirect-to": target}, timeout=30)
		assert page.ok
		assert 'data-next="/snp"' in page.text, target
		assert "evil.example" not in page.text.replace("redirect-to", "")


def test_a_logged_in_doctor_opening_the_login_page_goes_on_to_the_page_he_asked_for(
	server, http_login, doctors
):
	session = http_login(doctors.a.user)
	response = session.get(server + "/snp/connexion?redirect-to=/snp/absences", allow_redirects=False)
	assert response.status_code in (301, 302)
	assert response.headers["Location"].endswith("/snp/absences")
