"""The annual statement of a doctor's SNP indemnities (issue 17 §5): only what was paid in the calendar year, his own
in the portal, anyone's for the coordination and the finance, e-mailed once in January."""

import io
import re

import frappe
import pytest
from cpts_snp.services import annual_statement
from cpts_snp.tests.factories import unique_suffix
from frappe.utils import fmt_money
from pypdf import PdfReader

YEAR = 2013


def _run(name, period_start, period_end, status, paid_on):
	frappe.get_doc(
		{
			"doctype": "SNP Payment Run",
			"name": name,
			"period_start": period_start,
			"period_end": period_end,
			"status": status,
			"paid_on": paid_on,
			"docstatus": 1,
		}
	).db_insert()


def _payment(name, run, professional, lines, docstatus=1):
	"""A payment of `run` to `professional`: lines (item type, quantity, rate)."""
	run_doc = frappe.db.get_value(
		"SNP Payment Run", run, ["period_start", "period_end", "paid_on"], as_dict=True
	)
	doc = frappe.get_doc(
		{
			"doctype": "SNP Indemnity Payment",
			"name": name,
			"run": run,
			"professional": professional,
			"professional_name": frappe.db.get_value("SNP Professional", professional, "full_name"),
			"period_start": run_doc.period_start,
			"period_end": run_doc.period_end,
			"paid_on": run_doc.paid_on,
			"status": "Paid" if run_doc.paid_on else "Approved",
			"amount": sum(quantity * rate for _type, quantity, rate in lines),
			"iban": "FR7630006000011234567890189",
			"docstatus": docstatus,
			"lines": [
				{"item_type": item_type, "quantity": quantity, "rate": rate, "amount": quantity * rate}
				for item_type, quantity, rate in lines
			],
		}
	)
	doc.db_insert()
	for index, line in enumerate(doc.lines, 1):
		line.idx = index
		line.docstatus = docstatus
		line.db_insert()


@pytest.fixture
def world(committed):
	"""Doctors A and B paid in 2013, C never paid (all with e-mail). A: run 1 (paid 10/02/2013, 150,00 €), run 2
	(paid 15/12/2013, 1 084,50 €), run 3 (of December, paid 10/01/2014, 500 €), run 4 (approved, not paid,
	300 €), and a cancelled payment in run 1 (999 €). B: 80 € in run 1."""
	suffix = unique_suffix(6).upper()
	people = {}
	for key in ("a", "b", "c"):
		user, professional = committed.doctor()
		frappe.db.set_value(
			"SNP Professional", professional, "email", f"annual-{key}-{suffix.lower()}@cpts-test.fr"
		)
		people[key] = frappe._dict(user=user, professional=professional)
	runs = [f"TEST-AS-{suffix}-{n}" for n in range(1, 5)]
	_run(runs[0], "2013-01-01", "2013-01-31", "Paid", "2013-02-10")
	_run(runs[1], "2013-11-01", "2013-11-30", "Paid", "2013-12-15")
	_run(runs[2], "2013-12-01", "2013-12-31", "Paid", "2014-01-10")
	_run(runs[3], "2013-10-01", "2013-10-31", "Approved", None)
	a, b = people["a"].professional, people["b"].professional
	_payment(f"{runs[0]}-A", runs[0], a, [("Slot made available", 5, 20), ("Consultation honoured", 2, 25)])
	_payment(
		f"{runs[1]}-A",
		runs[1],
		a,
		[("Permanence hour", 10, 100), ("Consultation honoured", 3, 28.5), ("Monthly cap", 1, -1)],
	)
	_payment(f"{runs[2]}-A", runs[2], a, [("Slot made available", 25, 20)])
	_payment(f"{runs[3]}-A", runs[3], a, [("Slot made available", 15, 20)])
	_payment(f"{runs[0]}-A-X", runs[0], a, [("Permanence hour", 9.99, 100)], docstatus=2)
	_payment(f"{runs[0]}-B", runs[0], b, [("Slot made available", 4, 20)])
	frappe.db.commit()
	yield frappe._dict(people, runs=runs)
	frappe.db.rollback()
	payments = frappe.get_all("SNP Indemnity Payment", {"run": ("in", runs)}, pluck="name")
	frappe.db.delete("SNP Indemnity Payment Line", {"parent": ("in", payments)})
	frappe.db.delete("SNP Indemnity Payment", {"name": ("in", payments)})
	frappe.db.delete("SNP Payment Run", {"name": ("in", runs)})
	frappe.db.commit()


def pdf_text(content: bytes) -> str:
	"""The PDF's text, its spaces (tabs, line breaks, the narrow spaces of amounts) as plain spaces."""
	text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)
	return re.sub(r"\s+", " ", text)


def test_the_statement_counts_only_the_runs_paid_in_the_calendar_year(world):
	data = annual_statement.statement(world.a.professional, YEAR)
	assert [run.run for run in data["runs"]] == world.runs[:2]
	assert data["total"] == pytest.approx(1234.50)
	totals = {item.item_type: (item.quantity, item.amount) for item in data["items"]}
	assert totals == {
		"Consultation honoured": (5, pytest.approx(135.50)),
		"Monthly cap": (1, -1),
		"Permanence hour": (10, 1000),
		"Slot made available": (5, 100),
	}
	assert annual_statement.statement(world.a.professional, YEAR + 1)["total"] == 500
	assert annual_statement.years_paid(world.a.professional) == [YEAR + 1, YEAR]
	assert annual_statement.years_paid(world.c.professional) == []


def test_the_statement_shows_the_cpts_the_doctor_the_runs_and_french_amounts(world):
	html = annual_statement.render_html(world.a.professional, YEAR)
	doctor = frappe.db.get_value(
		"SNP Professional", world.a.professional, ["full_name", "rpps"], as_dict=True
	)
	assert doctor.full_name in html and f"RPPS {doctor.rpps}" in html
	assert fmt_money(1234.5, currency="EUR") == "1 234,50 €"
	assert re.search(r'id="year-total">1 234,50 €<', html)
	assert "10/02/2013" in html and "15/12/2013" in html and "01/11/2013 – 30/11/2013" in html
	assert "Heure de permanence" in html or frappe._("Permanence hour") in html
	assert world.runs[2] not in html and world.runs[3] not in html


def test_a_doctor_downloads_his_own_statement_and_never_another_doctors(server, http_login, world):
	url = f"{server}/api/method/cpts_snp.api.portal.annual_statement"
	session = http_login(world.a.user)
	own = session.get(url, params={"year": YEAR})
	assert own.ok and own.content.startswith(b"%PDF")
	text = pdf_text(own.content)
	assert (
		"1 234,50" in text
		and frappe.db.get_value("SNP Professional", world.a.professional, "last_name") in text
	)

	other = http_login(world.b.user)
	forged = other.get(url, params={"year": YEAR, "professional": world.a.professional})
	assert forged.ok  # the professional is the session's: B gets his own statement, not A's
	text = pdf_text(forged.content)
	assert "80,00" in text and "1 234,50" not in text
	assert frappe.db.get_value("SNP Professional", world.a.professional, "last_name") not in text
	desk = f"{server}/api/method/cpts_snp.api.annual_statement.download_pdf"
	assert other.get(desk, params={"professional": world.a.professional, "year": YEAR}).status_code == 403


def test_the_coordination_and_the_finance_download_any_doctors_statement(
	server, http_login, world, committed
):
	desk = f"{server}/api/method/cpts_snp.api.annual_statement.download_pdf"
	users = {
		role: committed.user([role]) for role in ("Coordinateur CPTS", "Trésorier CPTS", "Comptable CPTS")
	}
	telesecretary = committed.user(["Télésecrétaire"])
	frappe.db.commit()
	for role, user in users.items():
		session = http_login(user)
		answer = session.get(desk, params={"professional": world.a.professional, "year": YEAR})
		assert answer.ok and answer.content.startswith(b"%PDF"), role
		assert "1 234,50" in pdf_text(answer.content)
		years = session.get(
			f"{server}/api/method/cpts_snp.api.annual_statement.years",
			params={"professional": world.a.professional},
		)
		assert years.json()["message"] == [YEAR + 1, YEAR]
	refused = http_login(telesecretary).get(desk, params={"professional": world.a.professional, "year": YEAR})
	assert refused.status_code == 403


def queued_to(professional) -> list[str]:
	return frappe.get_all(
		"Email Queue", {"reference_doctype": "SNP Professional", "reference_name": professional}, pluck="name"
	)


def test_the_january_job_emails_each_paid_doctor_the_previous_year_once(world):
	a, b, c = world.a.professional, world.b.professional, world.c.professional
	annual_statement.send_january_statements("2014-01-03")
	annual_statement.send_january_statements("2014-01-04")  # the next day's run, or the same day twice
	assert len(queued_to(a)) == 1 and len(queued_to(b)) == 1
	assert queued_to(c) == []  # nothing paid in 2013
	mail = frappe.get_doc("Email Queue", queued_to(a)[0])
	assert "2013" in mail.message and "Content-Disposition: attachment" in mail.message
	assert frappe.db.count("SNP Message Log", {"unique_key": f"statement_annual:{a}:2013"}) == 1


def test_the_job_sends_nothing_outside_january(world):
	annual_statement.send_january_statements("2014-02-03")
	annual_statement.send_january_statements("2013-12-31")
	assert queued_to(world.a.professional) == [] and queued_to(world.b.professional) == []


def test_the_portal_page_lists_the_years_with_paid_indemnities(server, http_login, world):
	page = http_login(world.a.user).get(f"{server}/snp/indemnites").text
	assert f"annual_statement?year={YEAR}" in page and f"annual_statement?year={YEAR + 1}" in page
	assert "Relevés annuels" in page
	empty = http_login(world.c.user).get(f"{server}/snp/indemnites").text
	assert 'id="no-annual-statement"' in empty


def test_the_statement_escapes_what_it_prints(world):
	frappe.db.set_value("SNP Professional", world.a.professional, "full_name", "<b>Dr Pirate</b>")
	html = annual_statement.render_html(world.a.professional, YEAR)
	assert "<b>Dr Pirate</b>" not in html and "&lt;b&gt;Dr Pirate&lt;/b&gt;" in html
