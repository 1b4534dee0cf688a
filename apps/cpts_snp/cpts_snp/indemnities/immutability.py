"""The payments of a payment run are the run's own computation: once the run is approved (submitted) or paid,
its payments, their lines and amounts, IBANs, exclusions and IBAN changes never change, by any path (form, REST,
frappe.client, Data Import); the run's code writes them in SQL (services.payment_run)."""

import frappe
from frappe import _
from frappe.utils import cint

from cpts_snp.exceptions import PaymentRunError


def _run_submitted(run: str | None) -> bool:
	return bool(run) and cint(frappe.db.get_value("SNP Payment Run", run, "docstatus")) != 0


def refuse(doc) -> None:
	if doc.flags.cpts_server_write:
		return
	frappe.throw(
		_("The payments of an approved or paid run cannot change: they are the run's computation"),
		PaymentRunError,
	)


def refuse_if_run_submitted(doc, run: str | None) -> None:
	if _run_submitted(run):
		refuse(doc)
