"""Payment runs over a hand-computed fixture (February-March 2018):

Schemes: A from 2018-01-01 (slot 10 €, consultation 25 €, no-show 0 €, no cap);
         B from 2018-03-01 (slot 12 €, consultation 30 €, no-show 5 €, monthly cap 100 €).
Doctor 1: Feb 10 honoured (10 + 25), Feb 11 withdrawn (0), Feb 12 no-show (10 + 0)  → February 45 €;
          Mar 5 honoured (12 + 30), Mar 6 free (12), Mar 20 honoured (12 + 30), Mar 21 no-show (12 + 5)
          → March 113 €, capped at 100 € (a −13 € line)                              → 145 €.
Doctor 2: Mar 10 honoured (12 + 30)                                                   →  42 €.
Doctor 3 has no IBAN: Mar 12 free (12 €) → left out and listed.
Run total: 187 €, 2 payments, doctor 3 excluded.
"""

from datetime import datetime

import frappe
import pytest
from frappe.model.workflow import apply_workflow
from frappe.tests.utils import change_settings

from cpts_snp.exceptions import PaymentRunError
from cpts_snp.services.booking import book_slot
from cpts_snp.services.payment_run import compute_run
from cpts_snp.tests.factories import PATIENT, as_user, make_professional, make_slot, make_user

IBANS = ["FR7630006000011234567890189", "FR1420041010050500013M02606"]


def slot(professional, day, hour=10, outcome=None, withdrawn=False):
	doc = make_slot(professional, datetime(2018, *day, hour, 0))
	if withdrawn:
		doc.status = "Cancelled"
		doc.save()
	if outcome:
		booking = book_slot(doc.name, PATIENT)
		booking.status = outcome
		booking.save()
	return doc


@pytest.fixture
def fixture():
	for name, valid_from, rates in (
		("Test barème A", "2018-01-01", (10, 25, 0, 0)),
		("Test barème B", "2018-03-01", (12, 30, 5, 100)),
	):
		frappe.get_doc(
			{
				"doctype": "SNP Indemnity Scheme",
				"scheme_name": name,
				"valid_from": valid_from,
				"rate_per_slot": rates[0],
				"rate_per_consultation": rates[1],
				"rate_per_no_show": rates[2],
				"monthly_cap": rates[3],
			}
		).insert()
	d1 = make_professional(iban=IBANS[0], email="doc1@cpts-test.fr").name
	d2 = make_professional(iban=IBANS[1]).name
	d3 = make_professional().name
	slot(d1, (2, 10), outcome="Honoured")
	slot(d1, (2, 11), withdrawn=True)
	slot(d1, (2, 12), outcome="No-show")
	slot(d1, (3, 5), outcome="Honoured")
	slot(d1, (3, 6))
	slot(d1, (3, 20), outcome="Honoured")
	slot(d1, (3, 21), outcome="No-show")
	slot(d2, (3, 10), outcome="Honoured")
	slot(d3, (3, 12))
	return frappe._dict(d1=d1, d2=d2, d3=d3)


def new_run(start="2018-02-01", end="2018-03-31"):
	return frappe.get_doc({"doctype": "SNP Payment Run", "period_start": start, "period_end": end}).insert()


def payments(run):
	return {
		p.professional: p
		for p in frappe.get_all(
			"SNP Indemnity Payment",
			filters={"run": run.name},
			fields=["name", "professional", "amount", "status", "docstatus"],
		)
	}


def test_a_run_pays_each_item_at_the_rate_of_its_date_with_the_monthly_cap(fixture):
	run = new_run()
	compute_run(run)
	assert (run.status, run.total_amount, run.payment_count) == ("Computed", 187, 2)
	paid = payments(run)
	assert {k: v.amount for k, v in paid.items()} == {fixture.d1: 145, fixture.d2: 42}
	lines = frappe.get_all(
		"SNP Indemnity Payment Line",
		filters={"parent": paid[fixture.d1].name},
		fields=["item_type", "item_date", "rate", "amount"],
		order_by="idx asc",
	)
	assert [(str(l.item_date), l.item_type, l.amount) for l in lines] == [
		("2018-02-10", "Slot made available", 10),
		("2018-02-10", "Consultation honoured", 25),
		("2018-02-12", "Slot made available", 10),
		("2018-03-05", "Slot made available", 12),
		("2018-03-05", "Consultation honoured", 30),
		("2018-03-06", "Slot made available", 12),
		("2018-03-20", "Slot made available", 12),
		("2018-03-20", "Consultation honoured", 30),
		("2018-03-21", "Slot made available", 12),
		("2018-03-21", "No-show", 5),
		("2018-03-31", "Monthly cap", -13),
	]


def test_doctors_without_iban_are_listed_and_left_out(fixture):
	run = new_run()
	compute_run(run)
	assert [(row.professional, row.items) for row in run.exclusions] == [(fixture.d3, 1)]
	assert "IBAN" in run.exclusions[0].reason
	assert fixture.d3 not in payments(run)
	assert frappe.db.get_value("SNP Payment Run", run.name, "status") == "Computed"


def test_computing_twice_gives_the_same_run(fixture):
	run = new_run()
	compute_run(run)
	first = {k: v.amount for k, v in payments(run).items()}
	compute_run(run)
	assert {k: v.amount for k, v in payments(run).items()} == first
	assert (
		frappe.db.count("SNP Paid Item", {"run": run.name}) == run.item_count == 12
	)  # the 0 € no-show is not an item


def test_a_second_run_over_the_same_period_pays_nothing_twice(fixture):
	first = new_run()
	compute_run(first)
	second = new_run("2018-03-01", "2018-04-30")
	compute_run(second)
	assert (second.total_amount, second.payment_count) == (0, 0)


def approve(run, treasurer):
	with as_user(treasurer):
		return apply_workflow(frappe.get_doc("SNP Payment Run", run.name), "Approve")


def test_cancelling_an_approved_run_releases_its_items(fixture):
	treasurer = make_user(["Trésorier CPTS"], desk_user=True)
	first = new_run()
	compute_run(first)
	first = approve(first, treasurer)
	assert {p.docstatus for p in payments(first).values()} == {1}
	with as_user(treasurer):
		first = apply_workflow(first, "Cancel")
	assert first.docstatus == 2 and first.status == "Cancelled"
	assert {(p.status, p.docstatus) for p in payments(first).values()} == {("Cancelled", 2)}
	second = new_run()
	compute_run(second)
	assert second.total_amount == 187


def test_resetting_a_computed_run_releases_its_items(fixture):
	accountant = make_user(["Comptable CPTS"], desk_user=True)
	with as_user(accountant):
		run = new_run()
		compute_run(run)
		run = apply_workflow(run, "Reset")
	assert (
		run.status == "Draft"
		and not payments(run)
		and not frappe.db.count("SNP Paid Item", {"run": run.name})
	)


def test_the_accountant_who_computed_cannot_approve_unless_the_settings_allow_it(fixture):
	both = make_user(["Comptable CPTS", "Trésorier CPTS"], desk_user=True)
	with as_user(both):
		run = new_run()
		compute_run(run)
		with pytest.raises(frappe.PermissionError, match="une autre personne doit l'approuver"):
			apply_workflow(frappe.get_doc("SNP Payment Run", run.name), "Approve")
	with change_settings("SNP Settings", allow_self_approval=1), as_user(both):
		assert apply_workflow(frappe.get_doc("SNP Payment Run", run.name), "Approve").docstatus == 1


def test_only_the_treasurer_approves(fixture):
	accountant = make_user(["Comptable CPTS"], desk_user=True)
	run = new_run()
	compute_run(run)
	with as_user(accountant), pytest.raises(frappe.ValidationError):
		apply_workflow(frappe.get_doc("SNP Payment Run", run.name), "Approve")


def test_marking_paid_records_the_date_and_sends_the_statements(fixture, server, monkeypatch):
	from cpts_snp.agenda.doctype.snp_booking.test_snp_booking_rules import jobs_after_commit

	treasurer = make_user(["Trésorier CPTS"], desk_user=True)
	run = new_run()
	compute_run(run)
	run = approve(run, treasurer)
	with as_user(treasurer):
		run = apply_workflow(run, "Mark as paid")
	assert run.status == "Paid" and str(run.paid_on) == frappe.utils.today()
	assert {(p.status, p.docstatus) for p in payments(run).values()} == {("Paid", 1)}
	jobs = [
		job for job in jobs_after_commit() if job["method"] == "cpts_snp.services.statements.send_statements"
	]
	assert jobs and jobs[0]["kwargs"]["run_name"] == run.name
	# the statement job itself, run here: one email per doctor with an email address, PDF attached
	from cpts_snp.services.statements import send_statements

	# The PDF loads its style sheets from the site's address: the test server's.
	monkeypatch.setitem(frappe.local.conf, "host_name", server)
	send_statements(run.name)
	queued = frappe.get_all(
		"Email Queue",
		filters={
			"reference_doctype": "SNP Indemnity Payment",
			"reference_name": payments(run)[fixture.d1].name,
		},
		fields=["name", "message"],
	)
	assert len(queued) == 1
	assert "application/pdf" in queued[0].message and "JVBERi0" in queued[0].message  # a PDF attached


@pytest.mark.parametrize(
	"start, end, message",
	[
		("2018-03-31", "2018-03-01", "ne peut pas précéder son début"),
		("2018-01-01", "2999-01-31", "doit être antérieur"),
	],
)
def test_bad_periods_are_refused_in_french(start, end, message):
	with pytest.raises(PaymentRunError, match=message):
		new_run(start, end)
	assert not frappe.db.exists("SNP Payment Run", {"period_start": start})


def test_a_period_without_scheme_is_refused_in_french():
	run = new_run("1990-01-01", "1990-01-31")
	with pytest.raises(PaymentRunError, match="Aucun barème"):
		compute_run(run)


def test_a_doctor_sees_only_his_own_payments(fixture):
	run = new_run()
	compute_run(run)
	user = make_user()
	frappe.db.set_value("SNP Professional", fixture.d2, "user", user)
	with as_user(user):
		assert [
			p.professional for p in frappe.get_list("SNP Indemnity Payment", fields=["professional"])
		] == [fixture.d2]
		with pytest.raises(frappe.PermissionError):
			frappe.get_doc("SNP Indemnity Payment", payments(run)[fixture.d1].name).check_permission("read")
		assert not frappe.has_permission("SNP Payment Run", "read")
