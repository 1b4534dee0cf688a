"""What a run produces: the SEPA file (valid pain.001.001.03, totals equal to the run), the FEC (18 columns,
balanced), and a constant number of queries whatever the number of doctors."""

import os
from decimal import Decimal
from xml.etree import ElementTree

import frappe
import pytest
import xmlschema
from frappe.model.workflow import apply_workflow
from frappe.tests.utils import change_settings

from cpts_snp.agenda.doctype.snp_booking.test_snp_booking_rules import jobs_after_commit
from cpts_snp.exports.accounting import FEC_COLUMNS
from cpts_snp.indemnities.doctype.snp_payment_run.test_snp_payment_run import fixture, new_run
from cpts_snp.services import statements
from cpts_snp.services.payment_run import compute_in_background, compute_run, start_computation
from cpts_snp.tests.factories import as_user, make_professional, make_slot, make_user

NS = {"p": "urn:iso:std:iso:20022:tech:xsd:pain.001.001.03"}
CPTS_BANK = {
	"legal_name": "CPTS Sud-Loire",
	"siret": "73282932000074",
	"cpts_iban": "FR7630004000031234567890143",
	"cpts_bic": "BNPAFRPP",
}


@pytest.fixture
def approved_run(fixture):  # noqa: F811
	treasurer = make_user(["Trésorier CPTS"], desk_user=True)
	run = new_run()
	compute_run(run)
	with as_user(treasurer):
		return apply_workflow(frappe.get_doc("SNP Payment Run", run.name), "Approve")


def test_the_sepa_file_is_valid_and_pays_exactly_the_run(approved_run):
	with change_settings("SNP Settings", CPTS_BANK):
		xml = statements.sepa_file(approved_run)
	schema = os.path.join(os.path.dirname(__import__("sepaxml").__file__), "schemas", "pain.001.001.03.xsd")
	xmlschema.XMLSchema(schema).validate(xml.decode())
	root = ElementTree.fromstring(xml)
	amounts = [Decimal(a.text) for a in root.iterfind(".//p:CdtTrfTxInf/p:Amt/p:InstdAmt", NS)]
	assert (
		sum(amounts) == Decimal("187.00") == Decimal(str(approved_run.total_amount)).quantize(Decimal("0.01"))
	)
	assert root.find(".//p:GrpHdr/p:NbOfTxs", NS).text == "2"
	assert root.find(".//p:Dbtr/p:Nm", NS).text == "CPTS Sud-Loire"
	creditors = {c.text for c in root.iterfind(".//p:CdtrAcct/p:Id/p:IBAN", NS)}
	assert creditors == {"FR7630006000011234567890189", "FR1420041010050500013M02606"}


def test_no_transfer_file_before_approval_nor_without_the_cpts_bank_details(fixture):  # noqa: F811
	run = new_run()
	compute_run(run)
	with pytest.raises(frappe.ValidationError, match="une fois le versement approuvé"):
		statements.sepa_file(run)


def test_the_fec_has_its_18_columns_and_balances(approved_run):
	with change_settings(
		"SNP Settings",
		{**CPTS_BANK, "journal_code": "OD", "expense_account": "6226", "payable_account": "401"},
	):
		from cpts_snp.exports.accounting import csv_file, fec_file

		rows = statements.accounting_rows(approved_run)
		fec = fec_file(rows).decode()
		csv = csv_file(rows).decode("utf-8-sig")
	lines = fec.rstrip("\r\n").split("\r\n")
	assert lines[0].split("\t") == FEC_COLUMNS and len(FEC_COLUMNS) == 18
	cells = [line.split("\t") for line in lines[1:]]
	assert all(len(row) == 18 for row in cells) and len(cells) == 4
	amount = lambda text: Decimal(text.replace(",", "."))  # noqa: E731
	debit = sum(amount(r[FEC_COLUMNS.index("Debit")]) for r in cells)
	credit = sum(amount(r[FEC_COLUMNS.index("Credit")]) for r in cells)
	assert debit == credit == Decimal("187.00")
	assert {r[FEC_COLUMNS.index("CompteNum")] for r in cells} == {"6226", "401"}
	assert all(r[FEC_COLUMNS.index("EcritureDate")] == "20180331" for r in cells)
	assert csv.splitlines()[0] == ";".join(FEC_COLUMNS)


def questions() -> int:
	"""Statements this connection has sent to MariaDB so far (server-side counter)."""
	return int(frappe.db.sql("SHOW SESSION STATUS LIKE 'Questions'")[0][1])


def make_doctors(count: int, day: int):
	from datetime import datetime

	for i in range(count):
		professional = make_professional(iban="FR7630006000011234567890189").name
		make_slot(professional, datetime(2017, 6, day, 8 + i % 10, 0))
		make_slot(professional, datetime(2017, 6, day + 1, 8 + i % 10, 0))


def test_the_number_of_queries_does_not_grow_with_the_doctors():
	frappe.get_doc(
		{
			"doctype": "SNP Indemnity Scheme",
			"scheme_name": "Test barème 2017",
			"valid_from": "2017-01-01",
			"rate_per_slot": 10,
			"monthly_cap": 15,
		}
	).insert()
	make_doctors(2, 5)
	small = new_run("2017-06-05", "2017-06-06")
	before = questions()
	compute_run(small)
	small_count = questions() - before
	make_doctors(12, 20)
	large = new_run("2017-06-20", "2017-06-21")
	before = questions()
	compute_run(large)
	large_count = questions() - before
	assert (small.payment_count, large.payment_count) == (2, 12)
	assert large.total_amount == 12 * 15  # capped
	assert large_count == small_count


def test_a_large_run_goes_to_the_background(fixture):  # noqa: F811
	run = new_run()
	with change_settings("SNP Settings", background_threshold=3):
		assert start_computation(run) == "Computing"
	assert frappe.db.get_value("SNP Payment Run", run.name, "status") == "Computing"
	jobs = [
		j for j in jobs_after_commit() if j["method"] == "cpts_snp.services.payment_run.compute_in_background"
	]
	assert jobs and jobs[0]["kwargs"]["run_name"] == run.name


def test_a_failed_background_run_says_why_and_can_be_retried():
	run = new_run("1990-01-01", "1990-01-31")
	frappe.db.commit()
	try:
		compute_in_background(run.name, "Administrator")
		failed = frappe.get_doc("SNP Payment Run", run.name)
		assert failed.status == "Failed" and "Aucun barème" in failed.error_message
		frappe.get_doc(
			{
				"doctype": "SNP Indemnity Scheme",
				"scheme_name": "Test barème 1990",
				"valid_from": "1990-01-01",
				"rate_per_slot": 10,
			}
		).insert()
		compute_in_background(run.name, "Administrator")
		retried = frappe.get_doc("SNP Payment Run", run.name)
		assert retried.status == "Computed" and not retried.error_message
	finally:
		frappe.db.delete("SNP Indemnity Scheme", {"scheme_name": "Test barème 1990"})
		frappe.db.delete("SNP Payment Run", run.name)
		frappe.db.commit()
