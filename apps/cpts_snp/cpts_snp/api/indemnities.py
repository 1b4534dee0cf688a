"""Downloads of a payment run (accountants and treasurers)."""

import frappe
from frappe import _

from cpts_snp.api import endpoint
from cpts_snp.services import statements

FINANCE_ROLES = {"Comptable CPTS", "Trésorier CPTS", "System Manager"}


def _run(run: str):
	doc = frappe.get_doc("SNP Payment Run", run)
	doc.check_permission("read")
	if not FINANCE_ROLES.intersection(frappe.get_roles()):
		raise frappe.PermissionError(_("Only the accountants and the treasurer download payment files"))
	return doc


def _download(filename: str, content: bytes) -> None:
	frappe.response.filename = filename
	frappe.response.filecontent = content
	frappe.response.type = "download"


@frappe.whitelist()
@endpoint
def download_sepa(run: str) -> None:
	doc = _run(run)
	_download(f"{doc.name}-virements-sepa.xml", statements.sepa_file(doc))


@frappe.whitelist()
@endpoint
def download_fec(run: str) -> None:
	from cpts_snp.exports.accounting import fec_file

	doc = _run(run)
	# The FEC file name is SIREN + "FEC" + closing date (article A47 A-1 of the LPF).
	siren = (frappe.db.get_single_value("SNP Settings", "siret") or "000000000")[:9]
	closing = frappe.utils.getdate(doc.period_end).strftime("%Y%m%d")
	_download(f"{siren}FEC{closing}.txt", fec_file(statements.accounting_rows(doc)))


@frappe.whitelist()
@endpoint
def download_csv(run: str) -> None:
	from cpts_snp.exports.accounting import csv_file

	doc = _run(run)
	_download(f"{doc.name}-ecritures.csv", csv_file(statements.accounting_rows(doc)))
