"""The SAS booking link (/sas/agenda/<doctor>, the address of every FHIR Slot's `comment`): a regulator sent by the
SAS platform (`origin=sas`) logs in (password or Pro Santé Connect), picks one of the doctor's free slots, gives
the patient and books: the booking is the SAS's, regulated, and names the regulator. Without `origin=sas`, as a
view-only or expired partner, on another doctor's slot or a taken one, nothing is written."""

import html
import json
import re
import secrets
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, quote, urlencode, urlparse

import frappe
import jwt
import pytest
import requests
from cpts_snp.integrations import psc
from cpts_snp.tests.factories import PATIENT, TEST_PASSWORD, future_start, make_slot, unique_rpps
from cpts_snp.tests.http import server_messages
from cpts_snp.tests.partner_factories import delete_partners, make_partner
from frappe.utils import add_days, today

from conftest import Committed

BOOK = "/api/method/cpts_snp.api.sas_booking.book"


@pytest.fixture(scope="module")
def regulators(server):
	"""SAS partner S (may book; one user with an RPPS, one without), view-only partner V, expired partner X."""
	records = Committed()
	world = frappe._dict()
	for key, values in (
		("s", {"partner_type": "SAS / SAMU"}),
		("v", {"partner_type": "SAS / SAMU", "access_level": "View availability"}),
		(
			"x",
			{
				"partner_type": "SAS / SAMU",
				"active_from": add_days(today(), -30),
				"active_to": add_days(today(), -1),
			},
		),
	):
		user = records.user(["Partenaire SNP"])
		world[key] = frappe._dict(user=user, partner=make_partner(users=[user], **values).name)
	s = frappe.get_doc("SNP Partner", world.s.partner)
	world.s.rpps = unique_rpps()
	s.users[0].rpps = world.s.rpps
	world.s.other_user = records.user(["Partenaire SNP"])
	s.append("users", {"user": world.s.other_user})
	s.save()
	frappe.db.commit()
	yield world
	delete_partners(
		[p.partner for p in world.values()], [p.user for p in world.values()] + [world.s.other_user]
	)
	records.cleanup()


def session_of(server, user) -> requests.Session:
	session = requests.Session()
	assert session.post(f"{server}/api/method/login", data={"usr": user, "pwd": TEST_PASSWORD}, timeout=30).ok
	return session


def agenda(server, professional, **params) -> str:
	return f"{server}/sas/agenda/{quote(professional)}" + (f"?{urlencode(params)}" if params else "")


def csrf_of(page_html: str) -> str:
	return re.search(r'<meta name="csrf-token" content="([^"]*)"', page_html).group(1)


def post_booking(session, server, csrf, professional, slot, origin="sas", **patient):
	return session.post(
		f"{server}{BOOK}",
		data={
			**PATIENT,
			"professional": professional,
			"slot": slot,
			"origin": origin,
			"reason": "Fièvre",
			**patient,
		},
		headers={"X-Frappe-CSRF-Token": csrf, "Accept": "application/json"},
		timeout=60,
	)


def bookings_of(slot) -> list:
	frappe.db.rollback()
	return frappe.get_all(
		"SNP Booking",
		filters={"slot": slot},
		fields=[
			"name",
			"channel",
			"regulated",
			"partner",
			"operator_id_type",
			"operator_id",
			"operator_name",
		],
	)


def tomorrow(hour):
	return future_start(1, hour)


def slot_at(professional, hour) -> str:
	"""A free slot of `professional` tomorrow at `hour` (tests of other files insert slots at the same time)."""
	frappe.db.commit()  # the professional survives a deadlock of the slot's insert
	for attempt in range(5):
		try:
			name = make_slot(professional, tomorrow(hour)).name
			frappe.db.commit()
			return name
		except frappe.QueryDeadlockError:
			frappe.db.rollback()
			if attempt == 4:
				raise
			time.sleep(0.2 * (attempt + 1))


def test_a_guest_is_sent_to_the_login_page_and_back_here_with_origin(server, committed):
	professional = committed.professional()
	frappe.db.commit()
	response = requests.get(agenda(server, professional, origin="sas"), allow_redirects=False, timeout=30)
	assert response.status_code in (301, 302, 303)
	location = urlparse(response.headers["Location"])
	assert location.path == "/login"
	assert parse_qs(location.query)["redirect-to"] == [f"/sas/agenda/{professional}?origin=sas"]


def test_a_sas_regulator_books_a_slot_in_two_steps_and_the_booking_names_him(server, committed, regulators):
	professional = committed.professional()
	slots = [slot_at(professional, h) for h in (9, 10)]
	other_pro_slot = slot_at(committed.professional(), 11)
	frappe.db.commit()
	session = session_of(server, regulators.s.user)

	step1 = session.get(agenda(server, professional, origin="sas"), timeout=30)
	assert step1.status_code == 200 and "Content-Security-Policy" in step1.headers
	assert all(f'data-slot="{slot}"' in step1.text for slot in slots)
	assert other_pro_slot not in step1.text
	assert f"creneau={slots[0]}" in step1.text

	step2 = session.get(agenda(server, professional, origin="sas", creneau=slots[0]), timeout=30)
	assert 'id="sas-book-form"' in step2.text and 'name="origin" value="sas"' in step2.text
	response = post_booking(session, server, csrf_of(step2.text), professional, slots[0])
	assert response.ok, response.text
	answer = response.json()["message"]
	assert answer["redirect"] == f"/sas/agenda/{professional}?origin=sas&rdv={answer['name']}"

	[booking] = bookings_of(slots[0])
	assert (booking.channel, booking.regulated, booking.partner) == ("SAS", 1, regulators.s.partner)
	assert (booking.operator_id_type, booking.operator_id) == ("IDNPS", "8" + regulators.s.rpps)
	assert booking.operator_name
	assert frappe.db.get_value("SNP Slot", slots[0], "status") == "Booked"

	confirmation = session.get(server + answer["redirect"], timeout=30)
	assert 'id="sas-confirmation"' in confirmation.text and "Durand" in confirmation.text
	assert "Rendez-vous pris" in confirmation.text

	# the slot is taken: asked again, a clear message, the list of the other slots, nothing written
	again = session.get(agenda(server, professional, origin="sas", creneau=slots[0]), timeout=30)
	assert "plus disponible" in again.text and f'data-slot="{slots[1]}"' in again.text
	assert 'id="sas-book-form"' not in again.text
	taken = post_booking(
		session, server, csrf_of(again.text), professional, slots[0], patient_last_name="Autre"
	)
	assert taken.status_code == 417 and "plus disponible" in server_messages(taken)
	assert len(bookings_of(slots[0])) == 1


def test_the_agenda_shows_the_doctor_his_place_and_the_slot_times(server, committed, regulators):
	from cpts_snp.tests.factories import unique_suffix

	name = "Maison de santé SAS " + unique_suffix(4)
	place = frappe.get_doc(
		{
			"doctype": "SNP Place",
			"place_name": name,
			"address_line": "3 rue des Tilleuls",
			"postal_code": "44400",
			"city": "Rezé",
		}
	).insert()
	professional = committed.professional()
	frappe.db.set_value("SNP Professional", professional, "place", place.name)
	slot = slot_at(professional, 8)
	try:
		page = (
			session_of(server, regulators.s.user)
			.get(agenda(server, professional, origin="sas"), timeout=30)
			.text
		)
		doctor = frappe.db.get_value("SNP Professional", professional, "full_name")
		assert f"Agenda du Dr {doctor}" in page and "Médecin généraliste" in page
		assert f"{name}, 3 rue des Tilleuls, 44400 Rezé" in page
		row = re.search(rf'data-slot="{slot}">(.*?)</div>', page, re.S).group(1)
		assert "08:00–08:20" in row and "44400 Rezé" in row
	finally:
		frappe.db.delete("SNP Slot", {"professional": professional})
		frappe.db.set_value("SNP Professional", professional, "place", None)
		frappe.delete_doc("SNP Place", place.name, force=True)
		frappe.db.commit()


def test_a_partner_user_without_rpps_is_named_by_his_login(server, committed, regulators):
	professional = committed.professional()
	slot = slot_at(professional, 12)
	frappe.db.commit()
	session = session_of(server, regulators.s.other_user)
	page = session.get(agenda(server, professional, origin="sas", creneau=slot), timeout=30)
	assert post_booking(session, server, csrf_of(page.text), professional, slot).ok
	[booking] = bookings_of(slot)
	assert (booking.operator_id_type, booking.operator_id) == ("INTRN", regulators.s.other_user)


def test_without_origin_sas_the_agenda_is_read_only_and_booking_is_refused(server, committed, regulators):
	professional = committed.professional()
	slot = slot_at(professional, 13)
	frappe.db.commit()
	session = session_of(server, regulators.s.user)
	page = session.get(agenda(server, professional, creneau=slot), timeout=30)
	assert page.status_code == 200 and f'data-slot="{slot}"' in page.text
	assert 'id="sas-notice"' in page.text and "plateforme SAS" in page.text
	assert 'id="sas-book-form"' not in page.text and "creneau=" not in page.text
	for origin in ("", "autre"):
		refused = post_booking(session, server, csrf_of(page.text), professional, slot, origin=origin)
		assert refused.status_code == 403, refused.text
	assert bookings_of(slot) == []


def test_a_view_only_or_expired_partner_cannot_book(server, committed, regulators):
	professional = committed.professional()
	slot = slot_at(professional, 14)
	frappe.db.commit()
	viewer = session_of(server, regulators.v.user)
	page = viewer.get(agenda(server, professional, origin="sas"), timeout=30)
	assert page.status_code == 200 and 'id="sas-notice"' in page.text and "creneau=" not in page.text
	assert post_booking(viewer, server, csrf_of(page.text), professional, slot).status_code == 403

	expired = session_of(server, regulators.x.user)
	page = expired.get(agenda(server, professional, origin="sas"), timeout=30)
	assert (
		page.status_code == 403 and 'id="sas-refusal"' in page.text and f'data-slot="{slot}"' not in page.text
	)
	assert post_booking(expired, server, csrf_of(page.text), professional, slot).status_code == 403
	assert bookings_of(slot) == []


def test_a_slot_of_another_doctor_sent_through_a_forged_form_is_refused(server, committed, regulators):
	professional, other = committed.professional(), committed.professional()
	slot_at(professional, 15)
	foreign = slot_at(other, 15)
	frappe.db.commit()
	session = session_of(server, regulators.s.user)
	page = session.get(agenda(server, professional, origin="sas", creneau=foreign), timeout=30)
	assert 'id="sas-book-form"' not in page.text and 'id="sas-slot-error"' in page.text
	refused = post_booking(session, server, csrf_of(page.text), professional, foreign)
	assert refused.status_code == 404, refused.text
	assert bookings_of(foreign) == [] and frappe.db.get_value("SNP Slot", foreign, "status") == "Available"


def test_a_booking_without_the_csrf_token_is_refused(server, committed, regulators):
	professional = committed.professional()
	slot = slot_at(professional, 16)
	frappe.db.commit()
	session = session_of(server, regulators.s.user)
	page = session.get(agenda(server, professional, origin="sas", creneau=slot), timeout=30)
	assert csrf_of(page.text)
	refused = post_booking(session, server, "not-the-token", professional, slot)
	assert refused.status_code in (400, 403), refused.text
	assert session.get(
		f"{server}{BOOK}", params={"professional": professional, "slot": slot}
	).status_code in (403, 405)
	assert bookings_of(slot) == []


def test_hostile_text_of_the_patient_is_shown_as_text(server, committed, regulators):
	professional = committed.professional()
	slot = slot_at(professional, 17)
	frappe.db.commit()
	session = session_of(server, regulators.s.user)
	page = session.get(agenda(server, professional, origin="sas", creneau=slot), timeout=30)
	hostile = '<img src=x onerror="alert(1)">'
	response = post_booking(
		session,
		server,
		csrf_of(page.text),
		professional,
		slot,
		patient_last_name='D\'Artagnan & "Fils"',
		reason=hostile,
	)
	assert response.ok, response.text
	confirmation = session.get(server + response.json()["message"]["redirect"], timeout=30).text
	reason = re.search(r'id="sas-reason">([^<]*)</span>', confirmation).group(1)
	assert "<img" not in confirmation and reason.startswith("&lt;img")
	assert "D&#39;Artagnan &amp; &#34;Fils&#34;" in confirmation


def test_another_partner_never_sees_the_confirmation_of_a_booking(server, committed, regulators):
	professional = committed.professional()
	slot = slot_at(professional, 19)
	session = session_of(server, regulators.s.user)
	page = session.get(agenda(server, professional, origin="sas", creneau=slot), timeout=30)
	secret = "Confidentiel-" + frappe.generate_hash(length=6)
	booked = post_booking(session, server, csrf_of(page.text), professional, slot, patient_last_name=secret)
	confirmation = booked.json()["message"]["redirect"]
	assert secret in session.get(server + confirmation, timeout=30).text
	other = session_of(server, regulators.v.user).get(server + confirmation, timeout=30)
	assert other.status_code == 200 and secret not in other.text and 'id="sas-confirmation"' not in other.text
	# what the regulator's partner did is in its access log: the agenda read, the booking, its confirmation
	name = booked.json()["message"]["name"]
	frappe.db.rollback()
	logged = frappe.get_all(
		"SNP Partner Access Log", filters={"partner": regulators.s.partner}, pluck="action"
	)
	assert {"Search slots", "Book", "Read bookings"} <= set(logged)
	read = {"partner": regulators.s.partner, "resource": f"SNP Booking/{name}", "action": "Read bookings"}
	assert frappe.db.exists("SNP Partner Access Log", read)


def test_the_cpts_staff_book_through_the_sas_link_too(server, committed):
	professional = committed.professional()
	slot = slot_at(professional, 20)
	secretary = committed.user(["Télésecrétaire"])
	frappe.db.commit()
	session = session_of(server, secretary)
	page = session.get(agenda(server, professional, origin="sas", creneau=slot), timeout=30)
	assert post_booking(session, server, csrf_of(page.text), professional, slot).ok
	[booking] = bookings_of(slot)
	assert (booking.channel, booking.regulated, booking.partner) == ("SAS", 1, None)
	assert (booking.operator_id_type, booking.operator_id) == ("INTRN", secretary)


# --- Pro Santé Connect, with a local OpenID Connect provider ---------------------------------------------------


class OIDCProvider:
	"""A small OpenID Connect provider on loopback answering as PSC does: `SubjectNameID` (8 + RPPS), names,
	no e-mail. `next_rpps` is the professional the next authorization authenticates."""

	def __init__(self, client_id, client_secret):
		self.client_id, self.client_secret = client_id, client_secret
		self.next_rpps = None
		self.codes, self.tokens, self.authorize_requests = {}, {}, []
		provider = self

		class Handler(BaseHTTPRequestHandler):
			def log_message(self, *args):
				pass

			def reply(self, status, body=None, headers=None):
				self.send_response(status)
				for key, value in (headers or {}).items():
					self.send_header(key, value)
				data = json.dumps(body).encode() if body is not None else b""
				if body is not None:
					self.send_header("Content-Type", "application/json")
				self.send_header("Content-Length", str(len(data)))
				self.end_headers()
				self.wfile.write(data)

			def do_GET(self):
				url = urlparse(self.path)
				query = {k: v[0] for k, v in parse_qs(url.query).items()}
				if url.path == "/.well-known/openid-configuration":
					return self.reply(200, provider.configuration())
				if url.path == "/authorize":
					provider.authorize_requests.append(query)
					code = secrets.token_urlsafe(16)
					provider.codes[code] = (provider.next_rpps, query["redirect_uri"])
					target = query["redirect_uri"] + "?" + urlencode({"code": code, "state": query["state"]})
					return self.reply(302, headers={"Location": target})
				if url.path == "/userinfo":
					token = self.headers.get("Authorization", "").removeprefix("Bearer ")
					if token not in provider.tokens:
						return self.reply(401, {"error": "invalid_token"})
					return self.reply(200, provider.tokens[token])
				return self.reply(404, {"error": "not_found"})

			def do_POST(self):
				body = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode()
				form = {k: v[0] for k, v in parse_qs(body).items()}
				if urlparse(self.path).path != "/token":
					return self.reply(404, {"error": "not_found"})
				if (form.get("client_id"), form.get("client_secret")) != (
					provider.client_id,
					provider.client_secret,
				):
					return self.reply(401, {"error": "invalid_client"})
				rpps, redirect_uri = provider.codes.pop(form.get("code"), (None, None))
				if not redirect_uri or form.get("redirect_uri") != redirect_uri:
					return self.reply(400, {"error": "invalid_grant"})
				claims = {
					"sub": secrets.token_hex(8),
					"SubjectNameID": "8" + rpps,
					"given_name": "Régis",
					"family_name": "Régulateur",
					"preferred_username": "8" + rpps,
				}
				access_token = secrets.token_urlsafe(24)
				provider.tokens[access_token] = claims
				id_token = jwt.encode(
					{**claims, "aud": provider.client_id, "iss": provider.url}, provider.client_secret
				)
				return self.reply(
					200, {"access_token": access_token, "token_type": "Bearer", "id_token": id_token}
				)

		self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
		self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
		threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

	def configuration(self):
		return {
			"issuer": self.url,
			"authorization_endpoint": f"{self.url}/authorize",
			"token_endpoint": f"{self.url}/token",
			"userinfo_endpoint": f"{self.url}/userinfo",
		}

	def close(self):
		self.httpd.shutdown()


@pytest.fixture
def psc_provider(server):
	"""The Social Login Key « Pro Santé Connect » pointed at a local provider, enabled; disabled afterwards."""
	provider = OIDCProvider("cpts-test-client", secrets.token_urlsafe(16))
	config = requests.get(f"{provider.url}/.well-known/openid-configuration", timeout=10).json()
	frappe.db.rollback()
	psc.ensure_social_login_key()
	doc = frappe.get_doc("Social Login Key", psc.provider())
	doc.update(
		{
			"base_url": config["issuer"],
			"authorize_url": config["authorization_endpoint"],
			"access_token_url": config["token_endpoint"],
			"api_endpoint": config["userinfo_endpoint"],
			"client_id": provider.client_id,
			"client_secret": provider.client_secret,
			"enable_social_login": 1,
		}
	)
	doc.save(ignore_permissions=True)
	frappe.db.commit()
	yield provider
	frappe.db.rollback()
	doc = frappe.get_doc("Social Login Key", psc.provider())
	doc.update({**psc.DEFAULTS, "enable_social_login": 0, "client_id": None})
	doc.save(ignore_permissions=True)
	frappe.db.commit()
	provider.close()


def psc_button(login_page: str) -> str:
	found = re.search(r'<a href="([^"]+)"\s+class="[^"]*btn-login-option[^"]*">(.*?)</a>', login_page, re.S)
	assert found, "no Pro Santé Connect button on the login page"
	assert "Se connecter avec Pro Santé Connect" in found.group(2)
	return html.unescape(found.group(1))


def test_a_regulator_logs_in_with_pro_sante_connect_and_books(server, committed, regulators, psc_provider):
	professional = committed.professional()
	slot = slot_at(professional, 18)
	frappe.db.commit()
	session = requests.Session()
	login_page = session.get(agenda(server, professional, origin="sas"), timeout=30)
	assert urlparse(login_page.url).path == "/login"
	auth_url = psc_button(login_page.text)
	assert auth_url.startswith(psc_provider.url + "/authorize")

	psc_provider.next_rpps = regulators.s.rpps
	back = session.get(auth_url, timeout=60)
	asked = psc_provider.authorize_requests[-1]
	assert (asked["scope"], asked["acr_values"], asked["client_id"]) == (
		"openid scope_all",
		"eidas1",
		"cpts-test-client",
	)
	assert asked["redirect_uri"] == f"{server}{psc.CALLBACK}"
	assert back.status_code == 200 and back.url == agenda(server, professional, origin="sas")
	assert f"creneau={slot}" in back.text
	page = session.get(agenda(server, professional, origin="sas", creneau=slot), timeout=30)
	assert post_booking(session, server, csrf_of(page.text), professional, slot).ok
	[booking] = bookings_of(slot)
	assert (booking.partner, booking.operator_id) == (regulators.s.partner, "8" + regulators.s.rpps)


def test_an_unknown_pro_sante_connect_identity_is_refused_and_no_user_is_created(
	server, regulators, psc_provider
):
	session = requests.Session()
	auth_url = psc_button(session.get(f"{server}/login?redirect-to=/sas/agenda/x", timeout=30).text)
	psc_provider.next_rpps = unknown = unique_rpps()
	users_before = frappe.db.count("User")
	refused = session.get(auth_url, timeout=60)
	assert (
		refused.status_code == 403 and "Aucun compte partenaire" in refused.text and unknown in refused.text
	)
	assert session.get(f"{server}/api/method/frappe.auth.get_logged_user", timeout=30).status_code in (
		401,
		403,
	)
	frappe.db.rollback()
	assert frappe.db.count("User") == users_before


def test_the_pro_sante_connect_key_is_created_disabled():
	psc.ensure_social_login_key()
	key = frappe.get_doc("Social Login Key", psc.provider())
	assert key.provider_name == "Pro Santé Connect" and key.redirect_url == psc.CALLBACK
	assert json.loads(key.auth_url_data)["acr_values"] == "eidas1"
	assert key.user_id_property == "SubjectNameID" and key.sign_ups == "Deny"


def test_a_partner_users_rpps_has_11_digits_and_names_one_regulator():
	from cpts_snp.exceptions import InvalidRPPSError
	from cpts_snp.tests.factories import make_user

	def give(partner, row, rpps):
		doc = frappe.get_doc("SNP Partner", partner)
		doc.users[row].rpps = rpps
		doc.save()
		return doc.users[row].rpps

	users = [make_user(roles=["Partenaire SNP"], desk_user=True) for _ in range(2)]
	partner = make_partner(users=users).name
	with pytest.raises(InvalidRPPSError):
		give(partner, 0, "123 45")
	rpps = unique_rpps()
	assert give(partner, 0, rpps[:5] + " " + rpps[5:]) == rpps
	with pytest.raises(InvalidRPPSError):
		give(partner, 1, rpps)
	other = make_partner(users=[make_user(roles=["Partenaire SNP"], desk_user=True)]).name
	with pytest.raises(InvalidRPPSError):
		give(other, 0, rpps)
