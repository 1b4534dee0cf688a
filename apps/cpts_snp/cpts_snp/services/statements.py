"""Outputs of a payment run: SEPA file, accounting exports, and the doctors' statements."""

import frappe
from frappe import _
from frappe.utils import format_date, getdate

from cpts_snp.exports import accounting, sepa
from cpts_snp.services import notifications
from cpts_snp.services.settings import get_settings

STATEMENT_FORMAT = "Relevé d'indemnités SNP"


def _payments(run_name: str) -> list[dict]:
	return frappe.get_all(
		"SNP Indemnity Payment",
		filters={"run": run_name, "docstatus": 1},
		fields=["name", "professional", "professional_name", "iban", "bic", "amount"],
		order_by="professional_name asc",
	)


def _label(run) -> str:
	return _("SNP indemnities {0} to {1}").format(
		format_date(run.period_start, "dd/MM/yyyy"), format_date(run.period_end, "dd/MM/yyyy")
	)


def sepa_file(run) -> bytes:
	if run.docstatus != 1:
		frappe.throw(_("The transfer file is available once the run is approved"))
	settings = get_settings()
	if not (settings.legal_name and settings.cpts_iban):
		frappe.throw(_("Fill in the CPTS bank details in SNP Settings (legal name, IBAN, BIC) first"))
	return sepa.credit_transfer(
		debtor_name=settings.legal_name,
		debtor_iban=settings.cpts_iban,
		debtor_bic=settings.cpts_bic,
		payments=[
			{
				"name": p.name,
				"creditor_name": p.professional_name,
				"iban": p.iban,
				"bic": p.bic,
				"amount": p.amount,
			}
			for p in _payments(run.name)
			if p.amount > 0
		],
		execution_date=getdate(run.paid_on) if run.paid_on else getdate(),
		description=_label(run),
	)


def accounting_rows(run) -> list[dict]:
	if run.docstatus != 1:
		frappe.throw(_("The accounting export is available once the run is approved"))
	settings = get_settings()
	accounts = {
		field: settings.get(field) or ""
		for field in (
			"journal_code",
			"journal_label",
			"expense_account",
			"expense_account_label",
			"payable_account",
			"payable_account_label",
		)
	}
	valid_date = getdate(
		frappe.db.get_value("Version", {"ref_doctype": run.doctype, "docname": run.name}, "creation")
		or run.modified
	)
	return accounting.run_entries(
		run={
			"name": run.name,
			"label": _label(run),
			"entry_date": getdate(run.period_end),
			"valid_date": valid_date,
		},
		payments=_payments(run.name),
		accounts=accounts,
	)


def send_statements(run_name: str) -> None:
	"""Email each doctor of a paid run his statement (PDF attached). Background job."""
	run = frappe.get_doc("SNP Payment Run", run_name)
	for payment in _payments(run_name):
		email = frappe.db.get_value("SNP Professional", payment.professional, "email")
		if not email:
			continue
		subject, message = notifications.render_email(
			"statement",
			notifications.message_context(
				professional_name=payment.professional_name,
				period=_label(run),
				amount=frappe.utils.fmt_money(payment.amount, currency="EUR"),
				paid_on=format_date(run.paid_on, "dd/MM/yyyy"),
			),
		)
		notifications.send_email(
			[email],
			subject,
			message,
			"SNP Indemnity Payment",
			payment.name,
			attachments=[
				frappe.attach_print("SNP Indemnity Payment", payment.name, print_format=STATEMENT_FORMAT)
			],
		)
