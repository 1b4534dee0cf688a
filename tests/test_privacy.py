"""Patients' personal data (RGPD, issue 17 §1, cpts_snp.services.privacy): the retention job anonymises what is
older than SNP Settings' periods without changing a key figure or a payment, leaves nothing of the old patients
findable anywhere in the database, keeps recent data and does nothing the second time; the coordination finds
every record of one person, exports them (JSON, PDF) and erases them, after which nothing of the person is
findable in any table; nobody else may do any of it.

The retention world is in March 2007 (a year no other test nor the demo data uses): doctors P1 and P2, patient
O (old only: three bookings, two calls, a call-back, their copies), patient S (an old booking and an upcoming
one); patient R has only recent data. Each test builds its world in its own transaction (rolled back after it).
"""

import json
import os
import random
import string
from datetime import datetime, timedelta

import frappe
import pytest
from cpts_snp.agenda.report.chiffres_cles_snp import chiffres_cles_snp
from cpts_snp.api import dashboard
from cpts_snp.api import privacy as privacy_api
from cpts_snp.exceptions import DataRequestError
from cpts_snp.services import aci, patients, privacy, sms
from cpts_snp.services.booking import book_slot
from cpts_snp.services.payment_run import compute_run
from cpts_snp.tests.factories import (
	as_user,
	future_start,
	make_absence,
	make_professional,
	make_sector,
	make_slot,
	make_user,
)
from frappe.utils import add_days, get_datetime, getdate, now_datetime, today

YEAR = 2007
IBAN_A, IBAN_B = "FR7630006000011234567890189", "FR1420041010050500013M02606"
TEXT_TYPES = ("char", "varchar", "tinytext", "text", "mediumtext", "longtext", "json")


def letters(k: int = 10) -> str:
	return "".join(random.choices(string.ascii_lowercase, k=k))


def mobile() -> str:
	return "061" + "".join(random.choices(string.digits, k=7))


def person(first: str = "Louise", born: str | None = None) -> frappe._dict:
	"""A patient of this test only: a random last name, phone and e-mail."""
	last = "Rgpd" + letters()
	born = born or f"19{random.randint(21, 35)}-{random.randint(1, 12):02d}-{random.randint(1, 28):02d}"
	return frappe._dict(
		patient_last_name=last.capitalize(),
		patient_first_name=first,
		patient_date_of_birth=born,
		patient_phone=mobile(),
		patient_email=f"{last}@exemple-rgpd.fr",
	)


def needles(who: frappe._dict) -> list[str]:
	"""What of `who` must not be found anywhere: last name, phone (as the app and people write it), e-mail."""
	return [who.patient_last_name, who.patient_email, *privacy._phone_variants(who.patient_phone)]


# --- the whole database, searched --------------------------------------------------------------------------------
def text_columns() -> dict[str, list[str]]:
	rows = frappe.db.sql(
		"""SELECT c.`table_name`, c.`column_name` FROM information_schema.columns c
		JOIN information_schema.tables t ON t.`table_schema` = c.`table_schema` AND t.`table_name` = c.`table_name`
		WHERE c.`table_schema` = DATABASE() AND t.`table_type` = 'BASE TABLE' AND c.`data_type` IN %s""",
		(TEXT_TYPES,),
	)
	columns = {}
	for table, column in rows:
		columns.setdefault(table, []).append(column)
	return columns


def found_everywhere(words) -> set[tuple[str, str]]:
	"""(table, word) of every table of the database where one of its text columns contains one of `words`
	(case and accents ignored, as MariaDB compares)."""
	patterns = {
		word: "%" + word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
		for word in words
		if word
	}
	found = set()
	for table, columns in text_columns().items():

		def matches(keys):
			condition = " OR ".join(f"`{c}` LIKE %({k})s" for c in columns for k in keys)
			values = {f"w{i}": patterns[word] for i, word in enumerate(patterns) if f"w{i}" in keys}
			return bool(frappe.db.sql(f"SELECT 1 FROM `{table}` WHERE {condition} LIMIT 1", values))

		keys = [f"w{i}" for i in range(len(patterns))]
		if keys and matches(keys):
			found |= {(table, word) for i, word in enumerate(patterns) if matches([f"w{i}"])}
	return found


# --- the retention world -------------------------------------------------------------------------------------------
def old(day: int, hour: int, minute: int = 0) -> datetime:
	return datetime(YEAR, 3, day, hour, minute)


def book(slot, who, status=None, reason=None, channel="Telesecretariat", cancellation_reason=None):
	request = {"requested_at": get_datetime(slot.starts_at) - timedelta(hours=5), "regulated": 1}
	booking = book_slot(slot.name, who, reason=reason, channel=channel, request=request)
	if status:
		booking = frappe.get_doc("SNP Booking", booking.name)
		booking.status = status
		if status == "Cancelled":
			booking.cancellation_reason = cancellation_reason or "Annulé à la demande du patient"
		booking.save()
	return frappe.get_doc("SNP Booking", booking.name)


def cancel(booking: str) -> None:
	doc = frappe.get_doc("SNP Booking", booking)
	doc.update({"status": "Cancelled", "cancellation_reason": "Annulé à la demande du patient"}).save()


def call(received_at, who=None, outcome="Advice given", booking=None, patient=None, caller_name=None):
	return frappe.get_doc(
		{
			"doctype": "SNP Call",
			"received_at": received_at,
			"caller_type": "Patient",
			"caller_name": caller_name
			or (f"{who.patient_first_name} {who.patient_last_name}" if who else None),
			"commune": "Plouguerneau",
			"notes": f"Rappeler au {who.patient_phone}" if who else None,
			"has_gp": 0,
			"outcome": outcome,
			"booking": booking,
			"patient": patient,
		}
	).insert()


def callback(who, sector, wanted_from, status=None):
	doc = frappe.get_doc(
		{
			"doctype": "SNP Callback",
			**{k: who[k] for k in ("patient_last_name", "patient_first_name", "patient_date_of_birth")},
			"patient_phone": who.patient_phone,
			"sector": sector,
			"wanted_from": wanted_from,
			"reason_category": "Pain",
			"notes": f"{who.patient_first_name} {who.patient_last_name}, mal au dos",
		}
	).insert()
	if status:
		frappe.db.set_value("SNP Callback", doc.name, "status", status)
	return frappe.get_doc("SNP Callback", doc.name)


def copies_of(booking, who) -> None:
	"""What Frappe and the app copy of a booking's patient: history, comment, SMS, e-mail, attachment, error log,
	partner access log."""
	doc = frappe.get_doc("SNP Booking", booking.name)
	doc.patient_email = "autre-" + who.patient_email
	doc.save()
	# the history of the change (as Frappe writes it: the old e-mail)
	frappe.get_doc(
		{
			"doctype": "Version",
			"ref_doctype": "SNP Booking",
			"docname": booking.name,
			"data": frappe.as_json({"changed": [["patient_email", who.patient_email, doc.patient_email]]}),
		}
	).insert(ignore_permissions=True)
	doc.add_comment(
		"Comment", f"{who.patient_first_name} {who.patient_last_name} a rappelé ({who.patient_phone})"
	)
	sms.log_message(
		"SMS", who.patient_phone, f"Bonjour {who.patient_last_name}", booking.name, "test", status="Sent"
	)
	frappe.get_doc(
		{
			"doctype": "Email Queue",
			"sender": "noreply@cpts-test.fr",
			"message": f"Subject: Votre rendez-vous\n\nBonjour {who.patient_last_name}",
			"status": "Sent",
			"reference_doctype": "SNP Booking",
			"reference_name": booking.name,
			"recipients": [{"recipient": who.patient_email, "status": "Sent"}],
		}
	).insert(ignore_permissions=True)
	# an e-mail as Frappe builds it (MIME, quoted-printable: accents encoded, long lines cut)
	email_naming(who, booking.name)
	frappe.get_doc(
		{
			"doctype": "File",
			"file_name": f"courrier-{who.patient_last_name}.txt",
			"attached_to_doctype": "SNP Booking",
			"attached_to_name": booking.name,
			"is_private": 1,
			"content": f"Courrier pour {who.patient_last_name}".encode(),
		}
	).insert(ignore_permissions=True)
	frappe.log_error(
		title="Erreur de test RGPD",
		message=f"Échec pour {who.patient_last_name} {who.patient_phone}",
		reference_doctype="SNP Booking",
		reference_name=booking.name,
	)


def email_naming(who, reference=None) -> None:
	frappe.sendmail(
		sender="noreply@cpts-test.fr",
		recipients=["accueil@cpts-test.fr"],
		subject="Rendez-vous à reprendre",
		message="<p>"
		+ "Le secrétariat a noté " * 3
		+ f"que {who.patient_first_name} {who.patient_last_name} "
		"rappellera demain matin.</p>",
		reference_doctype="SNP Booking" if reference else None,
		reference_name=reference,
	)


def access_log(who, timestamp):
	return frappe.get_doc(
		{
			"doctype": "SNP Partner Access Log",
			"timestamp": timestamp,
			"user": "Administrator",
			"action": "Book",
			"resource": "Appointment",
			"record_count": 1,
			"parameters": json.dumps(
				{"family": who.patient_last_name, "given": who.patient_first_name, "phone": who.patient_phone}
			),
		}
	).insert(ignore_permissions=True)


def set_retention(months: int, log_months: int = 12) -> None:
	frappe.db.set_single_value("SNP Settings", "patient_data_retention_months", months)
	frappe.db.set_single_value("SNP Settings", "partner_access_log_retention_months", log_months)
	frappe.clear_document_cache("SNP Settings", "SNP Settings")


@pytest.fixture
def old_world():
	set_retention(12)
	frappe.get_doc(
		{
			"doctype": "SNP Indemnity Scheme",
			"scheme_name": "Barème RGPD " + letters(6),
			"valid_from": f"{YEAR}-01-01",
			"rate_per_slot": 10,
			"rate_per_consultation": 25,
			"rate_per_supervision_half_day": 40,
		}
	).insert()
	sector = make_sector().name
	p1, p2 = make_professional(iban=IBAN_A, sector=sector), make_professional(iban=IBAN_B, sector=sector)
	o, s, r = person(), person("Jean"), person("Paul")
	world = frappe._dict(p1=p1.name, p2=p2.name, o=o, s=s, r=r, sector=sector)
	slots = [make_slot(p1.name, old(5, 9, 20 * i)) for i in range(3)] + [
		make_slot(p2.name, old(6, 10, 20 * i)) for i in range(3)
	]
	world.old_bookings = [
		book(slots[0], o, "Honoured", reason=f"Fièvre, voir {o.patient_last_name}"),
		book(slots[1], o, "No-show"),
		book(slots[2], o, "Cancelled", cancellation_reason=f"{o.patient_first_name} guérie"),
		book(slots[3], s, "Honoured", channel="Doctor"),
	]
	# a booking of O deleted since: Frappe's bin keeps a copy
	gone = book(slots[4], o, "Cancelled")
	frappe.delete_doc("SNP Booking", gone.name, ignore_permissions=True)
	world.old_calls = [
		call(
			old(5, 8), o, "SNP appointment booked", world.old_bookings[0].name, world.old_bookings[0].patient
		),
		call(old(5, 8, 30), o),
	]
	world.old_callbacks = [callback(o, world.sector, f"{YEAR}-03-01", status="Dropped")]
	copies_of(world.old_bookings[0], o)
	world.old_log = access_log(o, old(5, 9))
	# recent: an upcoming booking of S and of R, R's call of today and his call-back
	world.recent_bookings = [
		book_slot(make_slot(p2.name, future_start(days=12, hour=11)).name, s),
		book_slot(make_slot(p1.name, future_start(days=12, hour=9)).name, r, reason="Toux"),
	]
	world.recent_call = call(now_datetime() - timedelta(hours=1), r)
	world.recent_callback = callback(r, world.sector, add_days(today(), 3))
	world.recent_log = access_log(r, now_datetime())
	return world


def key_figures(world) -> dict:
	"""The figures the CPTS reports: ACI indicators of the year, the month's cards, the report « Chiffres clés
	SNP », and the payment run of the month (payments, lines and paid items), computed again."""
	run = frappe.get_doc(
		{"doctype": "SNP Payment Run", "period_start": f"{YEAR}-03-01", "period_end": f"{YEAR}-03-31"}
	)
	if world.get("run"):
		run = frappe.get_doc("SNP Payment Run", world.run)
	else:
		run.insert()
		world.run = run.name
	compute_run(run)
	payments = frappe.get_all(
		"SNP Indemnity Payment",
		filters={"run": run.name},
		fields=["professional", "amount"],
		order_by="professional",
	)
	lines = frappe.db.sql(
		"""SELECT p.`professional`, l.`item_type`, l.`item_date`, l.`item_name`, l.`quantity`, l.`amount`
		FROM `tabSNP Indemnity Payment Line` l JOIN `tabSNP Indemnity Payment` p ON p.`name` = l.`parent`
		WHERE p.`run` = %s ORDER BY 1, 2, 3, 4, 5, 6""",
		run.name,
	)
	items = frappe.db.sql(
		"SELECT `item_doctype`, `item_name`, `item_type`, `professional` FROM `tabSNP Paid Item` WHERE `run` = %s ORDER BY 1, 2, 3",
		run.name,
	)
	return {
		"aci": aci.compute(YEAR),
		"fill_rate": dashboard.fill_rate(on_date=f"{YEAR}-03-15")["value"],
		"no_show_rate": dashboard.no_show_rate(on_date=f"{YEAR}-03-15")["value"],
		"report": chiffres_cles_snp.execute({"year": YEAR})[1],
		"payments": [(p.professional, p.amount) for p in payments if p.professional in (world.p1, world.p2)],
		"lines": [row for row in lines if row[0] in (world.p1, world.p2)],
		"items": [row for row in items if row[3] in (world.p1, world.p2)],
	}


def stored(doctype, name) -> dict:
	return frappe.db.get_value(doctype, name, "*", as_dict=True)


KEPT_BOOKING_FIELDS = (
	"status",
	"slot",
	"slot_start",
	"professional",
	"sector",
	"channel",
	"partner",
	"regulated",
)
KEPT_BOOKING_FIELDS += ("patient_of_doctor", "is_snp", "is_pdsa", "supplement_eligible", "requested_at")


# --- retention -----------------------------------------------------------------------------------------------------
def test_the_retention_keeps_every_key_figure_and_payment_and_leaves_nothing_of_old_patients(
	old_world, monkeypatch
):
	w = old_world
	monkeypatch.setattr(privacy, "BATCH", 2)  # several batches of each doctype
	before = key_figures(w)
	assert before["payments"] and before["items"], "the world's run pays its doctors"
	assert before["aci"]["consultations"] >= 2
	old_before = {b.name: stored("SNP Booking", b.name) for b in w.old_bookings}
	o_patient = w.old_bookings[0].patient
	s_patient = w.old_bookings[3].patient
	assert found_everywhere(needles(w.o)), "the world holds O's data before the job"

	log = frappe.get_doc("SNP Privacy Log", privacy.anonymise_expired(commit=False))

	assert key_figures(w) == before
	for booking in w.old_bookings:
		now = stored("SNP Booking", booking.name)
		assert {f: now[f] for f in KEPT_BOOKING_FIELDS} == {
			f: old_before[booking.name][f] for f in KEPT_BOOKING_FIELDS
		}
		assert (now.patient_last_name, now.patient_first_name) == (privacy.MARKER, privacy.MARKER)
		assert str(now.patient_date_of_birth) == privacy.ANONYMISED_BIRTH_DATE
		assert not any(
			(now.patient, now.patient_phone, now.patient_email, now.reason, now.cancellation_reason)
		)
		assert now.anonymised_on
	for c in w.old_calls:
		now = stored("SNP Call", c.name)
		assert not any((now.caller_name, now.notes, now.commune, now.patient)) and now.anonymised_on
		assert (now.outcome, now.caller_type, now.received_at, now.sector) == (
			c.outcome,
			c.caller_type,
			c.received_at,
			c.sector,
		)
	callback_now = stored("SNP Callback", w.old_callbacks[0].name)
	assert callback_now.patient_last_name == privacy.MARKER and not callback_now.notes
	assert callback_now.status == "Dropped" and callback_now.sector == w.sector
	# O had nothing recent: his patient record is gone; S keeps his (an upcoming booking)
	assert not frappe.db.exists("SNP Patient", o_patient)
	assert frappe.db.exists("SNP Patient", s_patient)
	# nothing of O is left in any table of the database
	assert not found_everywhere(needles(w.o))
	assert not stored("SNP Partner Access Log", w.old_log.name).parameters
	# recent data stay as they were
	for booking in w.recent_bookings:
		assert stored("SNP Booking", booking.name).patient_last_name == booking.patient_last_name
		assert not stored("SNP Booking", booking.name).anonymised_on
	assert stored("SNP Call", w.recent_call.name).caller_name == w.recent_call.caller_name
	assert stored("SNP Callback", w.recent_callback.name).notes == w.recent_callback.notes
	assert stored("SNP Partner Access Log", w.recent_log.name).parameters == w.recent_log.parameters
	assert {"SNP Booking", "SNP Call", "SNP Callback"} <= set(json.loads(log.counts))
	# the log of the run
	counts = json.loads(log.counts)
	assert (log.operation, log.status, log.run_by) == ("Retention", "Completed", "Administrator")
	assert counts["SNP Booking"] >= 4 and counts["SNP Call"] >= 2 and counts["SNP Callback"] >= 1
	assert counts["SNP Patient"] >= 1 and counts["Version"] >= 1 and counts["Comment"] >= 1
	assert counts["Email Queue"] >= 1 and counts["File"] >= 1 and counts["Deleted Document"] >= 1
	assert (
		counts["SNP Message Log"] >= 1 and counts["Error Log"] >= 1 and counts["SNP Partner Access Log"] >= 1
	)
	assert log.records_anonymised >= 7 and log.patients_deleted >= 1 and log.copies_purged >= 8
	assert getdate(log.patient_data_before) < getdate(add_days(today(), -360))


def test_the_retention_run_again_changes_nothing(old_world):
	w = old_world
	privacy.anonymise_expired(commit=False)
	names = [(b.doctype, b.name) for b in w.old_bookings + w.old_calls + w.old_callbacks + w.recent_bookings]
	after_first = {name: stored(*name) for name in names}

	second = frappe.get_doc("SNP Privacy Log", privacy.anonymise_expired(commit=False))

	assert {name: stored(*name) for name in names} == after_first
	assert (second.records_anonymised, second.patients_deleted, second.copies_purged) == (0, 0, 0)
	assert second.status == "Completed"


def test_a_retention_of_zero_months_anonymises_nothing(old_world):
	w = old_world
	set_retention(0, 0)
	log = frappe.get_doc("SNP Privacy Log", privacy.anonymise_expired(commit=False))
	assert log.status == "Disabled" and log.records_anonymised == 0
	assert stored("SNP Booking", w.old_bookings[0].name).patient_last_name == w.o.patient_last_name
	assert stored("SNP Partner Access Log", w.old_log.name).parameters == w.old_log.parameters


def test_the_job_runs_daily():
	assert "cpts_snp.services.privacy.anonymise_expired" in frappe.get_hooks("scheduler_events")["daily"]


# --- rights: access and erasure ------------------------------------------------------------------------------------
@pytest.fixture
def subject():
	"""Person E: past consultations (one linked to no patient record, one typed in capitals with an accent), a
	duplicate patient record merged into his, an upcoming booking, calls (one not linked to anything but naming
	him), a call-back, messages, e-mails, history, comments, an attachment, a deleted booking, an error log and a
	partner's request naming him. N is another Élodie, born another day; `homonym` books for another person of
	E's name born another day (only the tests that do not erase call it: his name is E's)."""
	set_retention(12)
	sector = make_sector().name
	p1 = make_professional(sector=sector).name
	e = person("Élodie")
	n = person("Élodie", born="1990-05-05")
	# what the database holds of E's birth date before his world (the day itself may be anyone's)
	born_before = found_everywhere([e.patient_date_of_birth])

	def past(days, hour):
		return make_slot(
			p1, datetime.combine(getdate(add_days(today(), -days)), datetime.min.time()).replace(hour=hour)
		)

	bookings = [
		book(past(20, 9), e, "Honoured", reason="Angine"),
		book(
			past(19, 9),
			frappe._dict(e, patient_last_name=e.patient_last_name.upper(), patient_first_name="ELODIE"),
			"No-show",
		),
		# another phone: a second patient record
		book(past(18, 9), frappe._dict(e, patient_phone=mobile()), "Honoured"),
	]
	# a booking of before the patient records
	frappe.db.set_value("SNP Booking", bookings[0].name, "patient", None)
	kept, duplicate = bookings[1].patient, bookings[2].patient
	assert kept != duplicate
	patients.merge(kept, duplicate)
	upcoming = book_slot(make_slot(p1, future_start(days=9, hour=15)).name, e)
	deleted = book(past(17, 9), e, "Cancelled")
	frappe.delete_doc("SNP Booking", deleted.name, ignore_permissions=True)
	calls = [
		call(now_datetime() - timedelta(days=20, hours=2), e, "SNP appointment booked", bookings[0].name),
		call(now_datetime() - timedelta(days=3), caller_name=f"Mme elodie {e.patient_last_name.lower()}"),
	]
	callbacks = [callback(e, sector, add_days(today(), -10), status="Dropped")]
	copies_of(bookings[1], e)
	email_naming(e)  # written from the desk: it says whose record it is nowhere
	frappe.get_doc(
		{
			"doctype": "Communication",
			"communication_type": "Communication",
			"communication_medium": "Email",
			"sent_or_received": "Sent",
			"subject": f"Dossier {e.patient_last_name}",
			"content": f"Bonjour {e.patient_first_name} {e.patient_last_name}",
			"recipients": e.patient_email,
		}
	).insert(ignore_permissions=True)
	logs = [access_log(e, now_datetime() - timedelta(days=20))]
	other = book(past(16, 9), n, "Honoured")
	request = frappe.get_doc(
		{
			"doctype": "SNP Data Subject Request",
			"request_type": "Access and erasure",
			"last_name": e.patient_last_name.lower(),
			"first_name": "elodie",
			"date_of_birth": e.patient_date_of_birth,
		}
	).insert()
	return frappe._dict(
		e=e,
		n=n,
		p1=p1,
		bookings=bookings,
		upcoming=upcoming,
		calls=calls,
		callbacks=callbacks,
		logs=logs,
		other=other,
		patients={kept, duplicate},
		request=request.name,
		born_before=born_before,
		homonym=lambda: book(
			past(15, 9), frappe._dict(person("Élodie"), patient_last_name=e.patient_last_name)
		),
	)


@pytest.fixture(scope="module")
def coordinator():
	frappe.db.rollback()
	user = make_user(["Coordinateur CPTS"], desk_user=True)
	frappe.db.commit()
	yield user
	frappe.db.rollback()
	frappe.delete_doc("User", user, force=True, ignore_permissions=True)
	frappe.db.commit()


def expected_records(s) -> dict:
	return {
		"SNP Booking": {b.name for b in s.bookings} | {s.upcoming.name},
		"SNP Call": {c.name for c in s.calls},
		"SNP Callback": {c.name for c in s.callbacks},
		"SNP Patient": s.patients,
		"SNP Partner Access Log": {log.name for log in s.logs},
	}


def test_the_search_finds_every_record_of_the_person_and_nobody_elses(subject, coordinator):
	homonym = subject.homonym()
	with as_user(coordinator):
		counts = privacy_api.search(subject.request)
	request = frappe.get_doc("SNP Data Subject Request", subject.request)
	listed = {}
	for row in request.records:
		listed.setdefault(row.record_type, set()).add(row.record_name)
	for doctype, names in expected_records(subject).items():
		assert listed.get(doctype) == names, doctype
		assert counts[doctype] == len(names)
	assert subject.other.name not in listed["SNP Booking"] and homonym.name not in listed["SNP Booking"]
	assert homonym.patient not in listed["SNP Patient"]
	assert listed["SNP Message Log"]
	assert (request.status, request.searched_by) == ("Searched", coordinator)
	assert request.found_count == len(request.records)


def test_the_search_by_phone_finds_the_bookings_of_that_phone():
	set_retention(12)
	p1 = make_professional().name
	e = person()
	booking = book_slot(make_slot(p1, future_start(days=8, hour=9)).name, e)
	request = frappe.get_doc(
		{"doctype": "SNP Data Subject Request", "request_type": "Access", "phone": e.patient_phone}
	).insert()
	privacy_api.search(request.name)
	found = {row.record_name for row in frappe.get_doc("SNP Data Subject Request", request.name).records}
	assert {booking.name, booking.patient} <= found


def test_the_exports_hold_every_record_of_the_person_and_nobody_elses(subject, coordinator):
	homonym = subject.homonym()
	with as_user(coordinator):
		json_url = privacy_api.export_json(subject.request)
		pdf_url = privacy_api.export_pdf(subject.request)
	request = frappe.get_doc("SNP Data Subject Request", subject.request)
	assert (request.export_json, request.export_pdf, request.status) == (json_url, pdf_url, "Exported")
	files = {
		f.file_url: f
		for f in frappe.get_all(
			"File", {"attached_to_name": request.name}, ["name", "file_url", "is_private"]
		)
	}
	assert set(files) == {json_url, pdf_url} and all(f.is_private for f in files.values())
	data = json.loads(frappe.get_doc("File", files[json_url].name).get_content())
	exported = {doctype: {row["name"] for row in rows} for doctype, rows in data["records"].items()}
	for doctype, names in expected_records(subject).items():
		assert exported[doctype] == names, doctype
	text = json.dumps(data, ensure_ascii=False)
	assert subject.other.name not in text and subject.n.patient_phone not in text
	assert homonym.name not in text and homonym.patient_phone not in text
	assert "Angine" in text  # the reason of his consultation is his data too
	pdf = frappe.get_doc("File", files[pdf_url].name).get_content()
	assert (pdf if isinstance(pdf, bytes) else pdf.encode()).startswith(b"%PDF")
	for url in (json_url, pdf_url):
		path = privacy._file_path(url)
		if path and os.path.exists(path):
			os.remove(path)


def test_the_erasure_leaves_nothing_of_the_person_in_any_table(subject, coordinator):
	e = subject.e
	words = needles(e) + [str(e.patient_date_of_birth)]
	consultations = frappe.db.count("SNP Booking", {"professional": subject.p1, "status": "Honoured"})
	# the doctor is away the day of the upcoming appointment: the absence lists the patient hit
	day = getdate(subject.upcoming.slot_start)
	absence = make_absence(subject.p1, day, day)
	assert frappe.db.get_value("SNP Absence Booking", {"parent": absence.name}, "patient_phone")
	# the e-mails Frappe built name her only in their encoded text: SQL alone would not find her there
	emails = frappe.get_all(
		"Email Queue", {"message": ["like", f"%{e.patient_last_name}%rappellera%"]}, pluck="message"
	)
	assert len(emails) == 2 and not any(e.patient_first_name in message for message in emails)
	cancel(subject.upcoming.name)
	with as_user(coordinator):
		privacy_api.export_json(subject.request)
		erased = privacy_api.erase(subject.request, confirm=1)

	assert erased["SNP Booking"] == len(subject.bookings) + 1
	assert found_everywhere(words) <= subject.born_before
	hit = frappe.db.get_value(
		"SNP Absence Booking", {"parent": absence.name}, ["booking", "patient", "patient_phone"], as_dict=True
	)
	assert hit.booking == subject.upcoming.name and not hit.patient and not hit.patient_phone
	# the figures stay: the bookings are there, anonymised, with their status
	assert frappe.db.count("SNP Booking", {"professional": subject.p1, "status": "Honoured"}) == consultations
	for booking in subject.bookings:
		assert stored("SNP Booking", booking.name).patient_last_name == privacy.MARKER
	assert not any(frappe.db.exists("SNP Patient", p) for p in subject.patients)
	# the other person of the same name is untouched
	assert stored("SNP Booking", subject.other.name).patient_last_name == subject.n.patient_last_name
	assert frappe.db.exists("SNP Patient", subject.other.patient)
	# the request keeps what the law needs, not the identity
	request = stored("SNP Data Subject Request", subject.request)
	assert (request.status, request.erased_by, request.request_type) == (
		"Erased",
		coordinator,
		"Access and erasure",
	)
	assert request.erased_on and request.received_on and request.identity_hash
	assert not any(
		(request.last_name, request.first_name, request.date_of_birth, request.phone, request.export_json)
	)
	assert json.loads(request.counts)["SNP Booking"] == len(subject.bookings) + 1
	assert not frappe.get_all("SNP Data Subject Record", {"parent": subject.request})
	assert not frappe.get_all(
		"File", {"attached_to_doctype": "SNP Data Subject Request", "attached_to_name": subject.request}
	)
	log = frappe.get_all(
		"SNP Privacy Log", {"request": subject.request}, ["operation", "run_by", "records_anonymised"]
	)
	assert [(x.operation, x.run_by) for x in log] == [("Erasure", coordinator)]
	assert log[0].records_anonymised >= len(subject.bookings) + 4
	# and nothing more can be done with it
	with as_user(coordinator), pytest.raises(DataRequestError):
		privacy_api.export_json(subject.request)


def meeting_naming(professional, minutes, decisions=None):
	return frappe.get_doc(
		{
			"doctype": "SNP Meeting",
			"meeting_type": "Complex case concertation",
			"title": "Concertation " + frappe.generate_hash(length=6),
			"meeting_date": add_days(today(), -5),
			"start_time": "18:00:00",
			"duration_hours": 1,
			"status": "Held",
			"minutes": minutes,
			"decisions": decisions,
			"participants": [{"kind": "Professional", "professional": professional, "present": 1}],
		}
	).insert()


def test_a_concertation_naming_the_person_is_found_exported_and_blanked_by_the_erasure(subject, coordinator):
	e, n = subject.e, subject.n
	born = getdate(e.patient_date_of_birth).strftime("%d/%m/%Y")
	ours = meeting_naming(
		subject.p1,
		f"<p>Situation de Mme {e.patient_first_name} {e.patient_last_name.upper()}, née le {born}, isolée à "
		f"domicile ; joignable au {e.patient_phone}.</p>",
		decisions=f"Visite à domicile de l'infirmière chez Mme {e.patient_last_name}",
	)
	theirs = meeting_naming(
		subject.p1, f"<p>Situation de Mme {n.patient_first_name} {n.patient_last_name}</p>"
	)
	with as_user(coordinator):
		assert privacy_api.search(subject.request)["SNP Meeting"] == 1
		records = frappe.get_doc("SNP Data Subject Request", subject.request).records
		assert [r.record_name for r in records if r.record_type == "SNP Meeting"] == [ours.name]
		url = privacy_api.export_json(subject.request)
	data = json.loads(frappe.get_doc("File", {"file_url": url}).get_content())
	(exported,) = data["records"]["SNP Meeting"]
	assert exported["name"] == ours.name and "isolée" in exported["minutes"]
	assert "participants" not in exported  # the other people of the meeting are not his data
	cancel(subject.upcoming.name)
	with as_user(coordinator):
		erased = privacy_api.erase(subject.request, confirm=1)
	assert erased["SNP Meeting"] == 1
	kept = stored("SNP Meeting", ours.name)
	for text in (kept.minutes, kept.decisions):
		assert e.patient_last_name.lower() not in text.lower() and "[Anonymisé]" in text
	assert e.patient_phone not in kept.minutes and born not in kept.minutes
	assert "isolée à domicile" in kept.minutes and "Visite à domicile" in kept.decisions
	# the meeting, its attendance, and the other person's meeting stay
	assert frappe.db.count("SNP Meeting Participant", {"parent": ours.name}) == 1
	assert stored("SNP Meeting", theirs.name).minutes == theirs.minutes
	path = privacy._file_path(url)
	if path and os.path.exists(path):
		os.remove(path)


def test_the_same_person_asked_again_gives_the_same_fingerprint(subject):
	again = frappe.get_doc(
		{
			"doctype": "SNP Data Subject Request",
			"request_type": "Access",
			"last_name": subject.e.patient_last_name.upper(),
			"first_name": "Élodie",
			"date_of_birth": subject.e.patient_date_of_birth,
		}
	).insert()
	assert again.identity_hash == frappe.db.get_value(
		"SNP Data Subject Request", subject.request, "identity_hash"
	)
	assert again.identity_hash != privacy.identity_hash(
		frappe._dict(again.as_dict(), date_of_birth="1990-05-05")
	)


def test_an_erasure_is_refused_while_an_appointment_is_to_come_and_nothing_is_written(subject, coordinator):
	before = {b.name: stored("SNP Booking", b.name) for b in subject.bookings}
	with as_user(coordinator), pytest.raises(DataRequestError, match="rendez-vous à venir"):
		privacy_api.erase(subject.request, confirm=1)
	assert {b.name: stored("SNP Booking", b.name) for b in subject.bookings} == before
	assert stored("SNP Data Subject Request", subject.request).status == "Open"
	assert all(frappe.db.exists("SNP Patient", p) for p in subject.patients)


def test_an_erasure_needs_its_confirmation_and_an_erasure_request(subject, coordinator):
	with as_user(coordinator), pytest.raises(DataRequestError):
		privacy_api.erase(subject.request)
	frappe.db.set_value("SNP Data Subject Request", subject.request, "request_type", "Access")
	cancel(subject.upcoming.name)
	with as_user(coordinator), pytest.raises(DataRequestError, match="accès"):
		privacy_api.erase(subject.request, confirm=1)
	assert stored("SNP Booking", subject.bookings[0].name).patient_last_name == subject.e.patient_last_name


@pytest.fixture(scope="module")
def outsiders():
	"""A télésecrétaire, an accountant, a doctor and a partner user, committed for the module."""
	from cpts_snp.tests.partner_factories import delete_partners, make_partner

	frappe.db.rollback()
	users = frappe._dict(
		telesecretary=make_user(["Télésecrétaire"], desk_user=True),
		accountant=make_user(["Comptable CPTS"], desk_user=True),
		doctor=make_user(["Médecin SNP"]),
		partner=make_user(["Partenaire SNP"]),
	)
	partner = make_partner(users=[users.partner], partner_type="SAS / SAMU").name
	frappe.db.commit()
	yield users
	frappe.db.rollback()
	delete_partners([partner], [users.partner])
	for user in users.values():
		frappe.delete_doc("User", user, force=True, ignore_permissions=True)
	frappe.db.commit()


@pytest.mark.parametrize("who", ["telesecretary", "accountant", "doctor", "partner"])
def test_nobody_but_the_coordination_searches_exports_or_erases(subject, outsiders, who):
	user = outsiders[who]
	cancel(subject.upcoming.name)
	request_before = stored("SNP Data Subject Request", subject.request)
	bookings_before = {b.name: stored("SNP Booking", b.name) for b in subject.bookings}
	files = frappe.db.count("File")
	for method, args in (
		(privacy_api.search, {}),
		(privacy_api.export_json, {}),
		(privacy_api.export_pdf, {}),
		(privacy_api.erase, {"confirm": 1}),
	):
		with as_user(user), pytest.raises(frappe.PermissionError):
			method(subject.request, **args)
	with as_user(user):
		assert not frappe.has_permission("SNP Data Subject Request", "read", doc=subject.request)
		assert not frappe.has_permission("SNP Privacy Log", "read")
		try:
			listed = frappe.get_list("SNP Data Subject Request", pluck="name")
		except frappe.PermissionError:
			listed = []
		assert not listed
	assert stored("SNP Data Subject Request", subject.request) == request_before
	assert {b.name: stored("SNP Booking", b.name) for b in subject.bookings} == bookings_before
	assert frappe.db.count("File") == files
	assert not frappe.get_all("SNP Privacy Log", {"request": subject.request})


def test_the_results_of_a_request_are_the_servers(subject, coordinator):
	with as_user(coordinator):
		privacy_api.search(subject.request)
		doc = frappe.get_doc("SNP Data Subject Request", subject.request)
		doc.status = "Erased"
		with pytest.raises(frappe.PermissionError):
			doc.save()
		created = frappe.get_doc(
			{
				"doctype": "SNP Data Subject Request",
				"request_type": "Access",
				"phone": subject.e.patient_phone,
				"status": "Erased",
				"found_count": 99,
			}
		).insert()
	assert created.status == "Open" and not created.found_count


def test_the_coordination_workspace_links_the_requests():
	workspace = frappe.get_doc("Workspace", "Soins non programmés")
	assert {"SNP Data Subject Request", "SNP Privacy Log"} <= {link.link_to for link in workspace.links}


def test_the_data_protection_officer_reads_the_requests_and_the_log_and_changes_nothing(subject, coordinator):
	with as_user(coordinator):
		privacy_api.search(subject.request)
	privacy.anonymise_expired(commit=False)
	dpo = make_user(["Délégué à la protection des données"], desk_user=True)
	request_before = stored("SNP Data Subject Request", subject.request)
	with as_user(dpo):
		assert subject.request in frappe.get_list("SNP Data Subject Request", pluck="name")
		assert frappe.get_list("SNP Privacy Log", pluck="name")
		assert frappe.get_doc("SNP Data Subject Request", subject.request).records
		for method, args in (
			(privacy_api.search, {}),
			(privacy_api.export_json, {}),
			(privacy_api.export_pdf, {}),
			(privacy_api.erase, {"confirm": 1}),
		):
			with pytest.raises(frappe.PermissionError):
				method(subject.request, **args)
		doc = frappe.get_doc("SNP Data Subject Request", subject.request)
		doc.phone = mobile()
		with pytest.raises(frappe.PermissionError):
			doc.save()
		with pytest.raises(frappe.PermissionError):
			frappe.get_doc(
				{"doctype": "SNP Data Subject Request", "request_type": "Access", "phone": mobile()}
			).insert()
		# his workspace: the audit report, the requests and the log
		from frappe.desk.desktop import get_workspace_sidebar_items

		pages = {page.name for page in get_workspace_sidebar_items()["pages"]}
		assert "Protection des données" in pages
	assert stored("SNP Data Subject Request", subject.request) == request_before
	workspace = frappe.get_doc("Workspace", "Protection des données")
	assert {
		"SNP Data Subject Request",
		"SNP Privacy Log",
		"SNP Access Audit",
		"Consultations de donnees patients",
	} <= {link.link_to for link in workspace.links}


# --- over HTTP: the coordination's buttons, the export downloaded, and nobody else -------------------------------
def test_over_http_the_coordination_exports_and_downloads_the_pdf_others_get_403(
	committed, server, http_login
):
	coordinator = committed.user(["Coordinateur CPTS"])
	telesecretary = committed.user(["Télésecrétaire"])
	professional = committed.professional()
	e = person()
	booking = book_slot(make_slot(professional, future_start(days=11, hour=10)).name, e)
	request = frappe.get_doc(
		{"doctype": "SNP Data Subject Request", "request_type": "Access", "phone": e.patient_phone}
	).insert()
	frappe.db.commit()
	try:
		session = http_login(coordinator)
		answer = session.post(
			f"{server}/api/method/cpts_snp.api.privacy.search", data={"request": request.name}
		)
		assert answer.ok, answer.text
		assert answer.json()["message"]["SNP Booking"] == 1
		answer = session.post(
			f"{server}/api/method/cpts_snp.api.privacy.export_pdf", data={"request": request.name}
		)
		assert answer.ok, answer.text
		url = answer.json()["message"]
		download = session.get(f"{server}{url}")
		assert download.ok and download.content.startswith(b"%PDF")
		# the télésecrétariat neither downloads it, nor reads the request, nor calls the buttons
		other = http_login(telesecretary)
		assert other.get(f"{server}{url}").status_code == 403
		assert other.get(f"{server}/api/resource/SNP Data Subject Request/{request.name}").status_code == 403
		for method in ("search", "export_json", "export_pdf", "erase"):
			refused = other.post(
				f"{server}/api/method/cpts_snp.api.privacy.{method}",
				data={"request": request.name, "confirm": 1},
			)
			assert refused.status_code == 403, (method, refused.text)
		frappe.db.rollback()
		assert frappe.db.get_value("SNP Booking", booking.name, "patient_last_name") == e.patient_last_name
		assert frappe.db.get_value("SNP Data Subject Request", request.name, "export_pdf") == url
	finally:
		frappe.db.rollback()
		for file in frappe.get_all(
			"File",
			{"attached_to_doctype": "SNP Data Subject Request", "attached_to_name": request.name},
			pluck="name",
		):
			frappe.delete_doc("File", file, ignore_permissions=True, delete_permanently=True)
		frappe.db.delete("SNP Data Subject Record", {"parent": request.name})
		frappe.db.delete("SNP Data Subject Request", request.name)
		frappe.db.commit()
