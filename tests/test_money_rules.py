"""Money rules (security issue 13, points 5 and 6), by every path that exists:

- a slot or a supervision shift earns indemnities only if declared before it started (a doctor never publishes,
  declares nor moves one into the past; the coordination may, with a reason recorded);
- a run is computed only from Draft, Computed or Failed; an approved or paid run, its payments, amounts and IBANs
  never change; a paid run is never cancelled; who computed, approved and paid is the server's business;
- self-approval only when SNP Settings allow it, and then recorded;
- a doctor's new IBAN is paid only once the finance team confirms it; the run lists the IBANs that changed;
- IBAN/BIC, the CPTS's bank details and the approval settings are read by finance and coordination only (and a
  doctor his own IBAN); no patient reason in e-mails.
"""

import json
from datetime import datetime, timedelta

import frappe
import pytest
from cpts_snp.exceptions import PaymentRunError
from cpts_snp.interns.factories import make_shift, make_supervisor
from cpts_snp.services import bank_details, portal
from cpts_snp.services.booking import book_slot
from cpts_snp.services.late_declaration import LateDeclarationError
from cpts_snp.services.payment_run import (
	compute_in_background,
	compute_run,
	start_computation,
)
from cpts_snp.tests.factories import (
	PATIENT,
	as_user,
	future_start,
	make_doctor,
	make_professional,
	make_slot,
	make_template,
	make_user,
)
from cpts_snp.tests.http import server_messages
from frappe.model.workflow import apply_workflow
from frappe.tests.utils import change_settings
from frappe.utils import add_days, get_datetime, getdate, now_datetime, today

IBAN_A, IBAN_B = "FR7630006000011234567890189", "FR1420041010050500013M02606"
# A refusal: the run's own rules (PaymentRunError, a ValidationError) or the generic guard of server-owned fields.
REFUSED = (frappe.ValidationError, frappe.PermissionError)
RUN_FIELDS = (
	"status",
	"docstatus",
	"computed_by",
	"approved_by",
	"paid_on",
	"total_amount",
	"payment_count",
)


def past(days: int = 6, hour: int = 10) -> datetime:
	return datetime.combine(getdate(add_days(today(), -days)), datetime.min.time()).replace(hour=hour)


def scheme(valid_from="2009-01-01", name="Test barème règles"):
	return frappe.get_doc(
		{
			"doctype": "SNP Indemnity Scheme",
			"scheme_name": f"{name} {frappe.generate_hash(length=6)}",
			"valid_from": valid_from,
			"rate_per_slot": 10,
			"rate_per_consultation": 25,
			"rate_per_supervision_half_day": 40,
		}
	).insert()


def new_run(start, end):
	return frappe.get_doc({"doctype": "SNP Payment Run", "period_start": start, "period_end": end}).insert()


def stored(run_name):
	return frappe.db.get_value("SNP Payment Run", run_name, RUN_FIELDS, as_dict=True)


def payments_of(run_name):
	return frappe.get_all(
		"SNP Indemnity Payment",
		filters={"run": run_name},
		fields=["name", "professional", "amount", "iban", "status", "docstatus"],
		order_by="name",
	)


@pytest.fixture(scope="module")
def finance():
	"""The finance team and a coordinator, committed once for the module (each new user makes Frappe clear its
	whole cache: creating them for every test cost seconds each); removed afterwards."""
	frappe.db.rollback()
	frappe.set_user("Administrator")
	users = frappe._dict(
		accountant=make_user(["Comptable CPTS"], desk_user=True),
		treasurer=make_user(["Trésorier CPTS"], desk_user=True),
		both=make_user(["Comptable CPTS", "Trésorier CPTS"], desk_user=True),
		coordinator=make_user(["Coordinateur CPTS"], desk_user=True),
	)
	frappe.db.commit()
	yield users
	frappe.db.rollback()
	frappe.set_user("Administrator")
	for user in users.values():
		frappe.db.delete("ToDo", {"allocated_to": user})
		frappe.delete_doc("User", user, force=True, ignore_permissions=True)
	frappe.db.commit()


@pytest.fixture
def march_2009(finance):
	"""A doctor with an IBAN and three slots in March 2009 (declared then by the coordination, with a reason);
	a run over March 2009 computed by the accountant."""
	scheme()
	doctor = make_professional(iban=IBAN_A).name
	for day in (3, 4, 5):
		make_slot(doctor, datetime(2009, 3, day, 10))
	with as_user(finance.accountant):
		run = new_run("2009-03-01", "2009-03-31")
		compute_run(run)
	return frappe._dict(doctor=doctor, run=run.name)


def approve(run_name, user):
	with as_user(user):
		return apply_workflow(frappe.get_doc("SNP Payment Run", run_name), "Approve")


def mark_paid(run_name, user):
	with as_user(user):
		return apply_workflow(frappe.get_doc("SNP Payment Run", run_name), "Mark as paid")


# --- 1. Declared before it started -----------------------------------------------------------------------------
def test_a_doctor_cannot_publish_through_the_portal_a_slot_that_started_six_days_ago():
	user, professional = make_doctor()
	with (
		as_user(user),
		pytest.raises(LateDeclarationError, match="commence dans le passé"),
	):
		portal.publish_slot(professional, past(6), 20)
	assert not frappe.db.exists("SNP Slot", {"professional": professional})


def test_a_doctor_cannot_move_his_slot_into_the_past_by_any_save():
	user, professional = make_doctor()
	slot = make_slot(professional, future_start(days=3))
	with as_user(user):
		doc = frappe.get_doc("SNP Slot", slot.name)
		doc.starts_at = past(2)
		doc.flags.ignore_permissions = True  # the rule is the slot's own, whatever the caller's rights
		with pytest.raises(LateDeclarationError):
			doc.save()
	assert get_datetime(frappe.db.get_value("SNP Slot", slot.name, "starts_at")) == slot.starts_at


def test_a_doctor_cannot_record_a_late_declaration_himself():
	user, professional = make_doctor()
	with (
		as_user(user),
		pytest.raises(LateDeclarationError, match="Seule la coordination"),
	):
		frappe.get_doc(
			{
				"doctype": "SNP Slot",
				"professional": professional,
				"starts_at": past(1),
				"duration": 20,
				"late_declaration_reason": "Oubli",
			}
		).insert(ignore_permissions=True)
	assert not frappe.db.exists("SNP Slot", {"professional": professional})


def test_the_coordination_declares_a_past_slot_only_with_a_reason_which_is_recorded(
	finance,
):
	professional = make_professional().name
	with as_user(finance.coordinator):
		with pytest.raises(LateDeclarationError, match="motif"):
			make_slot(professional, past(3), late_declaration_reason="  ")
		slot = make_slot(
			professional,
			past(3),
			late_declaration_reason="Garde assurée, saisie tardive",
		)
	assert (slot.late_declared_by, slot.late_declaration_reason) == (
		finance.coordinator,
		"Garde assurée, saisie tardive",
	)


def test_a_supervisor_cannot_declare_a_shift_that_started_but_may_shorten_it(finance):
	user = make_user()
	supervisor = make_supervisor(user=user)
	with as_user(user), pytest.raises(LateDeclarationError):
		portal.declare_shift(supervisor, past(2, hour=8), past(2, hour=11))
	start = past(1, hour=8)
	with as_user(finance.coordinator):
		shift = make_shift(
			supervisor,
			start,
			start + timedelta(hours=3),
			late_declaration_reason="Oubli",
		)
	with as_user(user):
		doc = frappe.get_doc("SNP Supervision Shift", shift.name)
		doc.flags.ignore_permissions = True
		doc.ends_at = start + timedelta(hours=5)
		with pytest.raises(LateDeclarationError):
			doc.save()
		doc.reload()
		doc.flags.ignore_permissions = True
		doc.ends_at = start + timedelta(hours=2)
		doc.save()  # leaving earlier is his own business
	assert frappe.db.count("SNP Supervision Shift", {"supervisor": supervisor}) == 1


def test_template_generation_skips_the_times_already_past():
	_user, professional = make_doctor()
	template = make_template(professional, valid_from=add_days(today(), -14), **dict.fromkeys(DAYS, 1))
	from cpts_snp.services.generation import generate_for_template

	created = generate_for_template(template, days=(getdate(add_days(today(), -7)), getdate(today())))
	starts = frappe.get_all("SNP Slot", filters={"name": ["in", created or [""]]}, pluck="starts_at")
	assert all(get_datetime(s) > now_datetime() - timedelta(minutes=1) for s in starts)


DAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


def test_a_run_pays_a_slot_or_a_shift_only_if_declared_before_it_started():
	scheme()
	doctor = make_professional(iban=IBAN_A, is_supervisor=1).name
	in_time = make_slot(
		doctor, datetime(2009, 4, 6, 10)
	)  # late-declared by the coordination (factory's reason)
	sneaked = make_slot(doctor, future_start(days=5))
	# written in the database as the attacker's slot was: created after it started, no late declaration
	frappe.db.set_value(
		"SNP Slot",
		sneaked.name,
		{
			"starts_at": datetime(2009, 4, 7, 10),
			"ends_at": datetime(2009, 4, 7, 10, 20),
		},
	)
	make_shift(doctor, datetime(2009, 4, 8, 9), datetime(2009, 4, 8, 12))
	sneaked_shift = make_shift(doctor, future_start(days=5, hour=14), future_start(days=5, hour=17))
	frappe.db.set_value(
		"SNP Supervision Shift",
		sneaked_shift.name,
		{"starts_at": datetime(2009, 4, 9, 14), "ends_at": datetime(2009, 4, 9, 17)},
	)
	run = new_run("2009-04-01", "2009-04-30")
	compute_run(run)
	paid = frappe.get_all("SNP Paid Item", filters={"run": run.name}, pluck="item_name")
	assert in_time.name in paid and sneaked.name not in paid
	assert f"{doctor}/2009-04-08/AM" in paid and not any("2009-04-09" in item for item in paid)
	assert run.total_amount == 10 + 40


# --- 2. The run's state machine -------------------------------------------------------------------------------
def test_compute_refuses_an_approved_run_even_in_the_background(march_2009, finance):
	from cpts_snp.indemnities.doctype.snp_payment_run.snp_payment_run import compute

	approve(march_2009.run, finance.treasurer)
	before, payments = stored(march_2009.run), payments_of(march_2009.run)
	with (
		change_settings("SNP Settings", background_threshold=1),
		as_user(finance.accountant),
	):
		with pytest.raises(PaymentRunError, match="ne peut plus être recalculé"):
			compute(march_2009.run)
		with pytest.raises(PaymentRunError):
			start_computation(frappe.get_doc("SNP Payment Run", march_2009.run))
	assert stored(march_2009.run) == before and payments_of(march_2009.run) == payments


def test_the_computation_refuses_a_run_whose_stored_state_changed_since_it_was_read(march_2009, finance):
	run = frappe.get_doc("SNP Payment Run", march_2009.run)
	approve(march_2009.run, finance.treasurer)
	with pytest.raises(PaymentRunError):
		compute_run(run)  # the document says Computed; the run's row, under its lock, says Approved
	assert stored(march_2009.run).status == "Approved"


def test_who_computed_approved_and_paid_is_set_by_the_server_only(march_2009, finance):
	with as_user(finance.accountant):
		doc = frappe.get_doc("SNP Payment Run", march_2009.run)
		doc.computed_by = finance.treasurer  # to dodge the self-approval check
		with pytest.raises(REFUSED, match="application"):
			doc.save()
	approve(march_2009.run, finance.treasurer)
	before = stored(march_2009.run)
	for change in (
		{"approved_by": finance.accountant},
		{"paid_on": "2009-04-02"},
		{"total_amount": 1},
	):
		with as_user(finance.accountant):
			doc = frappe.get_doc("SNP Payment Run", march_2009.run)
			doc.update(change)
			with pytest.raises(REFUSED):
				doc.save()
	assert stored(march_2009.run) == before


def test_marking_paid_sets_the_date_once_and_a_paid_run_is_never_cancelled(march_2009, finance):
	approve(march_2009.run, finance.treasurer)
	run = mark_paid(march_2009.run, finance.accountant)
	assert str(run.paid_on) == today() and run.was_paid
	with (
		as_user(finance.treasurer),
		pytest.raises(PaymentRunError, match="payé ne peut pas"),
	):
		frappe.get_doc("SNP Payment Run", march_2009.run).cancel()
	# even once paid_on and the status were cleared behind the application's back
	frappe.db.set_value("SNP Payment Run", march_2009.run, {"paid_on": None, "status": "Approved"})
	with (
		as_user(finance.treasurer),
		pytest.raises(PaymentRunError, match="payé ne peut pas"),
	):
		frappe.get_doc("SNP Payment Run", march_2009.run).cancel()
	assert frappe.db.get_value("SNP Payment Run", march_2009.run, "docstatus") == 1


def test_the_payments_of_an_approved_run_never_change(march_2009, finance):
	approve(march_2009.run, finance.treasurer)
	payment = payments_of(march_2009.run)[0]
	doc = frappe.get_doc("SNP Indemnity Payment", payment.name)
	doc.amount, doc.iban = 9999, IBAN_B
	with pytest.raises(REFUSED):
		doc.save()
	line = frappe.get_doc("SNP Indemnity Payment Line", doc.lines[0].name)
	line.amount = 9999
	with pytest.raises(REFUSED):
		line.save()
	with pytest.raises(REFUSED):
		frappe.delete_doc("SNP Indemnity Payment", payment.name)
	assert payments_of(march_2009.run) == [payment]


def test_the_payments_of_a_computed_run_are_not_edited_by_hand(march_2009):
	doc = frappe.get_doc("SNP Indemnity Payment", payments_of(march_2009.run)[0].name)
	doc.amount = 9999
	with pytest.raises(REFUSED):
		doc.save()


# --- 3. Self-approval ----------------------------------------------------------------------------------------
def test_self_approval_allowed_by_the_settings_is_recorded_on_the_run(finance):
	scheme()
	doctor = make_professional(iban=IBAN_A).name
	make_slot(doctor, datetime(2009, 5, 4, 10))
	with as_user(finance.both):
		run = new_run("2009-05-01", "2009-05-31")
		compute_run(run)
		with pytest.raises(frappe.PermissionError):
			apply_workflow(frappe.get_doc("SNP Payment Run", run.name), "Approve")
	assert stored(run.name).status == "Computed"
	with change_settings("SNP Settings", allow_self_approval=1), as_user(finance.both):
		approved = apply_workflow(frappe.get_doc("SNP Payment Run", run.name), "Approve")
	assert (approved.self_approved, approved.approved_by, approved.computed_by) == (
		1,
		finance.both,
		finance.both,
	)
	assert frappe.db.exists(
		"Comment",
		{
			"reference_doctype": "SNP Payment Run",
			"reference_name": run.name,
			"comment_type": "Info",
		},
	)
	other = new_run("2009-05-01", "2009-05-31")
	assert not other.self_approved


# --- 4. A new IBAN waits for the finance team -----------------------------------------------------------------
def test_a_doctors_new_iban_is_pending_until_finance_confirms_it_and_the_run_lists_it(
	finance,
):
	scheme()
	user, professional = make_doctor()
	frappe.db.set_value("SNP Professional", professional, "iban", IBAN_A)
	make_slot(professional, datetime(2009, 6, 3, 10))
	with as_user(user):
		portal.update_profile(professional, {"iban": IBAN_B, "bic": "CMCIFR2A", "phone": None})
	doc = frappe.get_doc("SNP Professional", professional)
	assert (doc.iban, doc.pending_iban, doc.pending_bic) == (
		IBAN_A,
		IBAN_B,
		"CMCIFR2A",
	) and doc.iban_changed_on
	assert frappe.db.exists(
		"ToDo",
		{
			"reference_type": "SNP Professional",
			"reference_name": professional,
			"allocated_to": finance.accountant,
		},
	)
	run = new_run("2009-06-01", "2009-06-30")
	compute_run(run)
	assert [p.iban for p in payments_of(run.name)] == [IBAN_A]
	assert [(r.professional, r.change) for r in run.iban_changes] == [(professional, "Awaiting confirmation")]
	approve(run.name, finance.treasurer)

	with as_user(finance.coordinator), pytest.raises(frappe.PermissionError):
		bank_details.confirm(professional)
	with as_user(finance.accountant):
		bank_details.confirm(professional)
	doc.reload()
	assert (doc.iban, doc.bic, doc.pending_iban, doc.iban_confirmed_by) == (
		IBAN_B,
		"CMCIFR2A",
		None,
		finance.accountant,
	)
	assert not frappe.db.exists(
		"ToDo",
		{
			"reference_type": "SNP Professional",
			"reference_name": professional,
			"status": "Open",
		},
	)
	make_slot(professional, datetime(2009, 7, 3, 10))
	july = new_run("2009-07-01", "2009-07-31")
	compute_run(july)
	assert [p.iban for p in payments_of(july.name)] == [IBAN_B]
	assert [(r.professional, r.change) for r in july.iban_changes] == [
		(professional, "Confirmed since the previous run")
	]


def test_the_coordination_without_a_finance_role_only_proposes_an_iban(finance):
	professional = make_professional(iban=IBAN_A).name
	with as_user(finance.coordinator):
		doc = frappe.get_doc("SNP Professional", professional)
		doc.iban = IBAN_B
		doc.save()
	assert frappe.db.get_value("SNP Professional", professional, ["iban", "pending_iban"]) == (IBAN_A, IBAN_B)
	with as_user(finance.coordinator):
		doc = frappe.get_doc("SNP Professional", professional)
		doc.pending_iban, doc.iban_confirmed_by = IBAN_A, finance.coordinator
		doc.save()  # the confirmation's fields are the server's: restored
	assert frappe.db.get_value("SNP Professional", professional, ["pending_iban", "iban_confirmed_by"]) == (
		IBAN_B,
		"Administrator",
	)


def test_a_doctor_sending_no_iban_keeps_his_iban():
	user, professional = make_doctor()
	frappe.db.set_value("SNP Professional", professional, "iban", IBAN_A)
	with as_user(user):
		portal.update_profile(
			professional,
			{"phone": "0611223344", "email": None, "iban": None, "bic": None},
		)
	assert frappe.db.get_value("SNP Professional", professional, "iban") == IBAN_A


# --- 5. Minimisation ----------------------------------------------------------------------------------------
def test_no_patient_reason_in_the_booking_emails():
	professional = make_professional(email="dr.regles@cpts-test.fr").name
	slot = make_slot(professional, future_start(days=8))
	with change_settings("SNP Settings", telesecretariat_email="secretariat@cpts-test.fr"):
		booking = book_slot(
			slot.name,
			{
				**PATIENT,
				"reason": "Douleur thoracique",
				"patient_email": "p@example.fr",
			},
		)
		booking.status = "Cancelled"
		booking.cancellation_reason = "Le patient va mieux"
		booking.flags.ignore_permissions = True
		booking.save()
	messages = frappe.get_all("Email Queue", filters={"reference_name": booking.name}, pluck="message")
	assert messages
	assert not any("Douleur thoracique" in m or "Le patient va mieux" in m for m in messages)


# --- Over HTTP: the attacker's paths ---------------------------------------------------------------------------
@pytest.fixture
def http_world(committed):
	"""Committed: the accountant, the treasurer, a télésecrétaire, a doctor with an IBAN, and an approved run over
	March 2008 that pays him (its scheme removed once computed); everything removed afterwards."""
	world = frappe._dict(
		accountant=committed.user(["Comptable CPTS"]),
		treasurer=committed.user(["Trésorier CPTS"]),
		telesecretary=committed.user(["Télésecrétaire"]),
	)
	world.doctor_user, world.doctor = committed.doctor()
	frappe.db.set_value("SNP Professional", world.doctor, {"iban": IBAN_A, "bic": "AGRIFRPP"})
	rates = scheme("2008-03-01", "Test barème HTTP")
	make_slot(world.doctor, datetime(2008, 3, 10, 10))
	with as_user(world.accountant):
		run = new_run("2008-03-01", "2008-03-31")
		compute_run(run)
	frappe.db.delete("SNP Indemnity Scheme", rates.name)  # other tests' runs never see it
	world.run = run.name
	approve(run.name, world.treasurer)
	frappe.db.commit()
	yield world
	frappe.db.rollback()
	payments = frappe.get_all("SNP Indemnity Payment", filters={"run": run.name}, pluck="name")
	frappe.db.delete("SNP Indemnity Payment Line", {"parent": ["in", payments or [""]]})
	frappe.db.delete("SNP Indemnity Payment", {"run": run.name})
	frappe.db.delete("SNP Paid Item", {"run": run.name})
	for doctype in ("SNP Run Exclusion", "SNP Run IBAN Change"):
		frappe.db.delete(doctype, {"parent": run.name})
	frappe.db.delete("Comment", {"reference_name": run.name})
	frappe.db.delete("Version", {"docname": run.name})
	frappe.db.delete("SNP Payment Run", run.name)
	frappe.db.delete("ToDo", {"reference_name": world.doctor})
	frappe.db.commit()


def method(session, server, path, **args):
	return session.post(f"{server}/api/method/{path}", json=args)


def test_over_http_the_accountant_cannot_rewrite_nor_recompute_an_approved_run(
	server, http_login, http_world
):
	world = http_world
	before, payments = stored(world.run), payments_of(world.run)
	session = http_login(world.accountant)
	url = f"{server}/api/resource/SNP Payment Run/{world.run}"
	assert not session.put(url, json={"approved_by": world.accountant, "paid_on": "2008-04-01"}).ok
	response = method(
		session,
		server,
		"frappe.client.set_value",
		doctype="SNP Payment Run",
		name=world.run,
		fieldname={"approved_by": world.accountant, "paid_on": "2008-04-01"},
	)
	assert not response.ok and "application" in server_messages(response)
	with change_settings("SNP Settings", background_threshold=1):
		frappe.db.commit()
		response = method(
			session,
			server,
			"cpts_snp.indemnities.doctype.snp_payment_run.snp_payment_run.compute",
			run=world.run,
		)
	assert not response.ok and "recalculé" in server_messages(response)
	frappe.db.commit()
	# the background job, had it been queued for this run before its approval, refuses it and fails nothing
	compute_in_background(world.run, world.accountant)
	frappe.set_user("Administrator")
	frappe.db.rollback()
	assert stored(world.run) == before and payments_of(world.run) == payments


def test_over_http_a_paid_run_cannot_be_cancelled_once_paid_on_is_cleared(server, http_login, http_world):
	world = http_world
	mark_paid(world.run, world.treasurer)
	frappe.db.commit()
	session = http_login(world.treasurer)
	response = method(
		session,
		server,
		"frappe.client.set_value",
		doctype="SNP Payment Run",
		name=world.run,
		fieldname="paid_on",
	)
	assert not response.ok
	response = method(
		session,
		server,
		"frappe.client.cancel",
		doctype="SNP Payment Run",
		name=world.run,
	)
	assert not response.ok and "payé ne peut pas" in server_messages(response)
	frappe.db.rollback()
	assert stored(world.run).status == "Paid" and str(stored(world.run).paid_on) == today()
	assert {p.status for p in payments_of(world.run)} == {"Paid"}


def test_over_http_a_telesecretary_reads_no_iban_and_a_doctor_only_his_own(server, http_login, http_world):
	world = http_world
	record = f"{server}/api/resource/SNP Professional/{world.doctor}"
	secretary = http_login(world.telesecretary)
	bodies = [
		secretary.get(record).json()["data"],
		method(
			secretary,
			server,
			"frappe.client.get",
			doctype="SNP Professional",
			name=world.doctor,
		).json()["message"],
		secretary.get(
			f"{server}/api/resource/SNP Professional",
			params={
				"fields": json.dumps(["name", "iban", "bic"]),
				"filters": json.dumps({"name": world.doctor}),
			},
		).json()["data"],
		method(
			secretary,
			server,
			"frappe.client.get_list",
			doctype="SNP Professional",
			fields=["name", "iban", "pending_iban"],
			filters={"name": world.doctor},
		).json()["message"],
		method(
			secretary,
			server,
			"frappe.client.get_value",
			doctype="SNP Professional",
			fieldname=["iban", "bic"],
			filters={"name": world.doctor},
		).json(),
	]
	assert bodies[0]["name"] == world.doctor
	assert all(IBAN_A not in json.dumps(body) and "AGRIFRPP" not in json.dumps(body) for body in bodies), (
		bodies
	)
	doctor = http_login(world.doctor_user)
	assert doctor.get(record).json()["data"]["iban"] == IBAN_A
	accountant = http_login(world.accountant)
	assert accountant.get(record).json()["data"]["iban"] == IBAN_A


def test_over_http_the_cpts_bank_details_and_approval_settings_are_finance_and_coordination_only(
	server, http_login, http_world
):
	world = http_world
	hidden = {
		"cpts_iban": IBAN_B,
		"legal_name": "CPTS Secrète",
		"allow_self_approval": 1,
		"background_threshold": 777,
	}
	with change_settings("SNP Settings", hidden):
		frappe.db.commit()
		url = f"{server}/api/resource/SNP Settings/SNP Settings"
		for user in (world.telesecretary, world.doctor_user):
			session = http_login(user)
			for body in (
				session.get(url).json()["data"],
				method(session, server, "frappe.client.get", doctype="SNP Settings").json()["message"],
			):
				# Frappe masks a field it may not show: None, or 0 for a number
				assert not any(body.get(field) for field in hidden), (user, body)
		finance = http_login(world.accountant).get(url).json()["data"]
		assert (finance["cpts_iban"], finance["allow_self_approval"]) == (IBAN_B, 1)
	frappe.db.commit()


def test_finance_refuses_a_pending_iban_with_a_reason_and_the_confirmed_one_stays(finance):
	user, professional = make_doctor()
	frappe.db.set_value("SNP Professional", professional, "iban", IBAN_A)
	with as_user(user):
		portal.update_profile(professional, {"iban": IBAN_B, "bic": "CMCIFR2A"})
	with as_user(finance.coordinator), pytest.raises(frappe.PermissionError):
		bank_details.reject(professional, "IBAN douteux")
	with as_user(finance.accountant), pytest.raises(frappe.ValidationError):
		bank_details.reject(professional, " ")
	with as_user(finance.accountant):
		bank_details.reject(professional, "IBAN d'une autre personne")
	assert frappe.db.get_value("SNP Professional", professional, ["iban", "pending_iban"]) == (IBAN_A, None)
	assert frappe.db.exists(
		"Comment",
		{"reference_name": professional, "comment_type": "Info", "content": ("like", "%autre personne%")},
	)
	assert not frappe.db.exists(
		"ToDo", {"reference_type": "SNP Professional", "reference_name": professional, "status": "Open"}
	)
