"""Every message about a booking comes from an editable template, in French, with the booking's data and never
its reasons; SMS reach the gateway of SMS Settings with a timeout, and the gateway's answer is kept on the
booking's messages."""

import email
import email.policy
import time
from datetime import datetime
from datetime import time as clock

import frappe
import pytest
from cpts_snp.services import notifications, sms
from cpts_snp.services.booking import book_slot
from cpts_snp.tests.factories import PATIENT, make_absence, make_professional, make_slot, next_weekday
from cpts_snp.tests.sms_gateway import sms_gateway, snp_settings

REASON = "Douleur thoracique confidentielle"
CANCELLATION = "Motif d'annulation confidentiel"


@pytest.fixture
def doctor():
	return make_professional(email="dr.messages@cpts-test.fr", first_name="Jeanne", last_name="Martin")


@pytest.fixture
def booking(doctor):
	slot = make_slot(doctor.name, datetime.combine(next_weekday(2), clock(9, 30)))
	return book_slot(slot.name, {**PATIENT, "patient_email": "louise@example.fr"}, reason=REASON)


def queued(booking) -> list[dict]:
	"""The e-mails queued about `booking`: recipients, subject and decoded text."""
	mails = []
	for row in frappe.get_all(
		"Email Queue",
		filters={"reference_name": booking.name},
		fields=["name", "message"],
		order_by="creation",
	):
		parsed = email.message_from_string(row.message, policy=email.policy.default)
		texts = [part.get_content() for part in parsed.walk() if part.get_content_type() == "text/html"]
		mails.append(
			{
				"to": set(
					frappe.get_all("Email Queue Recipient", filters={"parent": row.name}, pluck="recipient")
				),
				"subject": str(parsed["Subject"]),
				"text": "\n".join(texts),
			}
		)
	return mails


def to(mails, address) -> list[dict]:
	return [mail for mail in mails if address in mail["to"]]


def test_the_confirmation_comes_from_its_email_template_and_an_edit_is_used_by_the_next_mail(doctor):
	template = frappe.get_doc("Email Template", "SNP - Confirmation patient")
	assert "confirmé" in template.response  # French default created at migrate
	template.subject = "Rendez-vous noté pour {{ when }}"
	template.response = "<p>Chère {{ patient }}, à bientôt chez {{ professional_name }}.</p>"
	template.save()

	slot = make_slot(doctor.name, datetime.combine(next_weekday(1), clock(10)))
	booking = book_slot(slot.name, {**PATIENT, "patient_email": "louise@example.fr"})

	[mail] = to(queued(booking), "louise@example.fr")
	assert mail["subject"] == f"Rendez-vous noté pour {next_weekday(1):%d/%m/%Y} à 10:00"
	assert "Chère Louise Durand, à bientôt chez" in mail["text"]


def test_migrate_creates_a_missing_template_and_keeps_an_edited_one():
	frappe.db.set_value("Email Template", "SNP - Rappel patient", "subject", "Sujet de la coordination")
	frappe.delete_doc("Email Template", "SNP - Déplacement (patient)", ignore_permissions=True)

	notifications.ensure_email_templates()

	assert (
		frappe.db.get_value("Email Template", "SNP - Rappel patient", "subject") == "Sujet de la coordination"
	)
	assert "déplacé" in frappe.db.get_value("Email Template", "SNP - Déplacement (patient)", "response")


def test_the_doctor_and_the_patient_get_a_french_confirmation_without_the_reason(booking):
	mails = queued(booking)
	[patient] = to(mails, "louise@example.fr")
	[doctor] = to(mails, "dr.messages@cpts-test.fr")
	when = f"{next_weekday(2):%d/%m/%Y} à 09:30"
	assert when in patient["subject"] and "est confirmé le " + when in patient["text"]
	assert "Louise Durand" in doctor["text"] and "né(e) le 12/03/1987" in doctor["text"]
	assert "Télésecrétariat" in doctor["text"]  # the channel, in French
	assert not any(REASON in mail["text"] for mail in mails)


@pytest.mark.parametrize("kind", sorted(notifications.MESSAGES))
def test_every_message_kind_renders_in_french_with_the_booking_data_and_without_its_reasons(booking, kind):
	booking.cancellation_reason = CANCELLATION
	context = notifications.message_context(
		booking,
		previous_when="01/02/2027 à 08:00",
		previous_professional_name="Dr Paul Ancien",
		absence="ABS-0001",
		absence_from="01/02/2027",
		absence_to="03/02/2027",
		period="janvier 2027",
		amount="150,00 €",
		paid_on="05/02/2027",
		year=2026,
		from_professional_name="Dr Anne Leduc",
		to_professional_name="Dr Marc Petit",
		accepted=True,
		hours=2,
	)
	subject, text = notifications.render_email(kind, context)
	rendered = subject + text
	assert "{{" not in rendered and "{%" not in rendered
	assert REASON not in rendered and CANCELLATION not in rendered
	if not kind.startswith("statement"):  # the statements (of a run, of a year) are about no booking
		assert f"{next_weekday(2):%d/%m/%Y} à 09:30" in rendered
	if not kind.startswith(("statement", "swap_")):
		assert "Louise Durand" in rendered or booking.professional_name in rendered
	assert any(word in rendered for word in (" le ", " votre ", " du ", " est "))
	if kind in notifications.SMS_FIELDS:
		text_message = notifications.render_sms(kind, context)
		assert f"{next_weekday(2):%d/%m/%Y} à 09:30" in text_message
		assert REASON not in text_message


def test_an_edited_template_cannot_show_the_reason(booking):
	frappe.db.set_value("Email Template", "SNP - Rappel patient", "response", "<p>Motif : {{ reason }}</p>")
	_, text = notifications.render_email("reminder_patient", notifications.message_context(booking))
	assert REASON not in text


def test_patient_names_are_escaped_in_html_mails_but_not_in_subjects(booking):
	context = notifications.message_context(booking, patient="<img src=x onerror=alert(1)>")
	frappe.db.set_value("Email Template", "SNP - Rappel patient", "subject", "Rappel {{ patient }}")
	subject, text = notifications.render_email("reminder_patient", context)
	assert "<img" not in text and "&lt;img src=x onerror=alert(1)&gt;" in text
	assert subject == "Rappel <img src=x onerror=alert(1)>"


def test_a_move_tells_the_patient_and_both_doctors_with_the_old_and_new_times(booking, doctor):
	other = make_professional(email="dr.nouveau@cpts-test.fr")
	previous = {
		"slot": booking.slot,
		"slot_start": booking.slot_start,
		"professional": booking.professional,
		"professional_name": booking.professional_name,
	}
	new_start = datetime.combine(next_weekday(3), clock(14))
	booking.db_set(
		{"professional": other.name, "professional_name": other.full_name, "slot_start": new_start}
	)
	sent_before = len(queued(booking))

	notifications.booking_moved(booking, previous)

	mails = queued(booking)[sent_before:]
	old, new = f"{next_weekday(2):%d/%m/%Y} à 09:30", f"{next_weekday(3):%d/%m/%Y} à 14:00"
	for address in ("louise@example.fr", "dr.messages@cpts-test.fr", "dr.nouveau@cpts-test.fr"):
		[mail] = to(mails, address)
		assert old in mail["text"] and new in mail["text"] and "déplacé" in mail["text"]


def test_a_cancellation_by_the_doctor_tells_the_patient_how_to_get_another_appointment(booking):
	sent_before = len(queued(booking))

	with snp_settings(cpts_phone="04 75 00 00 00"):
		notifications.booking_cancelled_by_doctor(booking)

	[mail] = to(queued(booking)[sent_before:], "louise@example.fr")
	assert "annulé" in mail["subject"] and "04 75 00 00 00" in mail["text"]


def test_an_absence_tells_the_patient_and_the_telesecretariat_without_its_reason(booking, doctor):
	day = next_weekday(2)
	with snp_settings(telesecretariat_email="secretariat@cpts-test.fr"):
		make_absence(doctor.name, day, day, reason="Raison personnelle confidentielle")

	mails = queued(booking)
	[patient] = to(mails, "louise@example.fr")[-1:]
	[desk] = to(mails, "secretariat@cpts-test.fr")
	assert "absent" in patient["text"] and "déplacé ou annulé" in desk["text"]
	assert not any("Raison personnelle" in mail["text"] for mail in mails)


def test_an_sms_reaches_the_gateway_and_its_answer_is_kept(booking):
	with sms_gateway() as gateway:
		log = sms.queue(booking.patient_phone, "Bonjour Louise", booking=booking.name, kind="test")
		assert sms.send_logged(log.name) == "Sent"
	[request] = gateway.received
	assert request == {
		"method": "POST",
		"path": "/send",
		"api_key": "secret-key",
		"to": "+33611223344",
		"text": "Bonjour Louise",
	}
	log.reload()
	assert (log.status, log.http_status, log.answer) == ("Sent", 200, "OK id=42")
	assert sms.send_logged(log.name) == "Sent" and len(gateway.received) == 1  # a job run twice sends once


def test_the_booking_confirmation_sms_is_sent_after_commit_from_the_settings_text(doctor):
	with sms_gateway(use_post=False) as gateway:
		slot = make_slot(doctor.name, datetime.combine(next_weekday(1), clock(11)))
		booking = book_slot(slot.name, PATIENT)
		[log] = frappe.get_all(
			"SNP Message Log", filters={"booking": booking.name, "channel": "SMS"}, fields=["name", "status"]
		)
		assert log.status == "Queued" and not gateway.received  # nothing leaves before the commit
		sms.send_logged(log.name)
	[request] = gateway.received
	assert request["method"] == "GET" and request["to"] == "+33611223344"
	assert f"est confirmé le {next_weekday(1):%d/%m/%Y} à 11:00." in request["text"]


def test_a_gateway_failure_is_logged_with_its_answer_and_listed_on_the_booking(booking):
	with sms_gateway() as gateway:
		gateway.status, gateway.body = 402, "Crédit SMS épuisé"
		log = sms.queue(booking.patient_phone, "Bonjour", booking=booking.name, kind="test")
		assert sms.send_logged(log.name) == "Failed"
	log.reload()
	assert (log.http_status, log.answer, log.error) == (402, "Crédit SMS épuisé", "HTTP 402")
	links = frappe.get_meta("SNP Booking").links
	assert any(link.link_doctype == "SNP Message Log" and link.link_fieldname == "booking" for link in links)
	assert frappe.get_all(
		"SNP Message Log", filters={"booking": booking.name, "status": "Failed"}, pluck="name"
	) == [log.name]


def test_a_gateway_that_does_not_answer_fails_after_the_timeout_instead_of_hanging(booking):
	with snp_settings(sms_timeout_seconds=1), sms_gateway() as gateway:
		gateway.delay = 5
		log = sms.queue(booking.patient_phone, "Bonjour", booking=booking.name, kind="test")
		started = time.monotonic()
		assert sms.send_logged(log.name) == "Failed"
		assert time.monotonic() - started < 3
	log.reload()
	assert "Timeout" in log.error and not log.http_status


def test_a_permanence_swap_tells_the_colleague_asked_then_the_doctor_who_asked_without_the_reason():
	from cpts_snp.interns.factories import make_permanence
	from cpts_snp.tests.factories import future_start
	from frappe.model.workflow import apply_workflow

	asking = make_professional(email="dr.demande@cpts-test.fr", first_name="Anne", last_name="Leduc")
	asked = make_professional(email="dr.remplace@cpts-test.fr", first_name="Marc", last_name="Petit")
	start = future_start(days=12, hour=18)
	permanence = make_permanence(asking.name, start, start.replace(hour=19))
	swap = frappe.get_doc(
		{
			"doctype": "SNP Permanence Swap",
			"permanence": permanence.name,
			"to_professional": asked.name,
			"reason": "Raison familiale confidentielle",
		}
	).insert()
	apply_workflow(swap, "Accept")

	mails = {
		next(iter(mail["to"])): mail
		for mail in queued(frappe._dict(name=swap.name))  # Email Queue rows of the swap
	}
	when = f"{start:%d/%m/%Y} à 18:00"
	request, answer = mails["dr.remplace@cpts-test.fr"], mails["dr.demande@cpts-test.fr"]
	assert (
		"Anne Leduc vous demande de prendre sa permanence" in request["text"] and when in request["subject"]
	)
	assert answer["subject"] == f"Échange de la permanence du {when} : accepté"
	assert "Marc Petit prend votre permanence" in answer["text"]
	assert not any("Raison familiale" in mail["text"] for mail in mails.values())


def test_the_coordination_may_edit_the_email_templates_and_a_doctor_may_not():
	from cpts_snp.tests.factories import make_user

	coordinator = make_user(roles=["Coordinateur CPTS"], desk_user=True)
	telesecretary = make_user(roles=["Télésecrétaire"], desk_user=True)
	doctor = make_user(roles=["Médecin SNP"])
	template = frappe.get_doc("Email Template", "SNP - Rappel patient")
	assert frappe.has_permission("Email Template", "write", template, user=coordinator)
	assert not frappe.has_permission("Email Template", "write", template, user=telesecretary)
	assert not frappe.has_permission("Email Template", "read", template, user=doctor)
	assert frappe.has_permission("Email Template", "write", template, user="Administrator")


def test_no_sms_is_sent_to_a_landline(doctor):
	slot = make_slot(doctor.name, datetime.combine(next_weekday(1), clock(15)))
	with sms_gateway():
		booking = book_slot(slot.name, {**PATIENT, "patient_phone": "04 75 12 34 56"})
		assert not frappe.get_all("SNP Message Log", filters={"booking": booking.name, "channel": "SMS"})


def test_moving_a_booking_sends_the_patient_the_move_by_sms_from_the_settings_text(booking, doctor):
	from cpts_snp.services.booking import move_booking

	new_start = datetime.combine(next_weekday(4), clock(16))
	with sms_gateway():
		move_booking(booking.name, make_slot(doctor.name, new_start).name)
		[text] = frappe.get_all(
			"SNP Message Log",
			filters={"booking": booking.name, "kind": "booking_moved_patient", "channel": "SMS"},
			pluck="message",
		)
	assert f"déplacé au {next_weekday(4):%d/%m/%Y} à 16:00" in text
	[mail] = [m for m in to(queued(booking), "louise@example.fr") if "déplacé" in m["subject"]]
	assert f"{next_weekday(2):%d/%m/%Y} à 09:30" in mail["text"]


def test_a_template_naming_a_variable_its_message_does_not_have_is_refused_in_french():
	def save(response):
		template = frappe.get_doc("Email Template", "SNP - Confirmation patient")
		template.response = response
		template.save()

	with pytest.raises(frappe.ValidationError, match="patinet") as refused:
		save("<p>Bonjour {{ patinet }}, à {{ when }}.</p>")
	assert "Variable inconnue" in str(refused.value) and "patient" in str(refused.value)
	assert "patinet" not in frappe.db.get_value("Email Template", "SNP - Confirmation patient", "response")
	with pytest.raises(frappe.ValidationError, match="reason"):
		# the reason is never in a message: asking for it is refused, not mailed blank
		save("<p>Bonjour {{ patient }}, à {{ when }}. {{ reason }}</p>")
	with pytest.raises(
		frappe.ValidationError, match=r"pas valide|[Ss]yntax"
	):  # Frappe checks the syntax first
		save("<p>Bonjour {{ patient }</p>")
	# any booking field and the CPTS's phone may be used
	save("<p>Bonjour {{ patient }}{% if cpts_phone %}, {{ cpts_phone }}{% endif %} : {{ sector }}.</p>")


def test_every_default_text_passes_its_own_check_and_an_sms_text_with_a_typo_is_refused():
	for kind, (_name, subject, response) in notifications.MESSAGES.items():
		notifications.check_variables(kind, subject, response)
	settings = frappe.get_doc("SNP Settings")
	settings.validate_sms_texts()  # the French defaults
	settings.sms_reminder = "Rappel : RDV le {{ wen }} avec {{ professional_name }}."
	with pytest.raises(frappe.ValidationError, match="wen"):
		settings.validate_sms_texts()


def _failed_sms(booking):
	with sms_gateway() as gateway:
		gateway.status, gateway.body = 503, "Service indisponible"
		log = sms.queue(booking.patient_phone, "Bonjour Louise", booking=booking.name, kind="test")
		assert sms.send_logged(log.name) == "Failed"
	return log


def test_the_telesecretariat_sends_a_failed_sms_again_on_the_same_row_and_a_doctor_may_not(booking):
	from cpts_snp.tests.factories import as_user, make_user

	log = _failed_sms(booking)
	for roles in (["Médecin SNP"], ["Comptable CPTS"]):
		with as_user(make_user(roles=roles, desk_user=roles != ["Médecin SNP"])):
			with pytest.raises(frappe.PermissionError):
				sms.retry(log.name)
	assert frappe.db.get_value("SNP Message Log", log.name, "status") == "Failed"  # nothing written

	telesecretary = make_user(roles=["Télésecrétaire"], desk_user=True)
	with sms_gateway() as gateway:
		with as_user(telesecretary):
			sms.retry(log.name)
		log.reload()
		assert (log.status, log.attempts, log.retried_by, log.error) == ("Queued", 2, telesecretary, None)
		assert sms.send_logged(log.name) == "Sent"
	[request] = gateway.received
	assert request["to"] == "+33611223344" and request["text"] == "Bonjour Louise"
	with pytest.raises(frappe.ValidationError, match="Seul un SMS en échec"):
		sms.retry(log.name)  # sent now: never twice


def test_a_failed_sms_of_a_cancelled_booking_is_not_sent_again(booking):
	log = _failed_sms(booking)
	frappe.db.set_value("SNP Booking", booking.name, "status", "Cancelled")
	with sms_gateway(), pytest.raises(frappe.ValidationError, match="annulé ou passé"):
		sms.retry(log.name)
	assert frappe.db.get_value("SNP Message Log", log.name, "status") == "Failed"
