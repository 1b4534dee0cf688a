"""Accounting exports of a payment run: the French FEC (Fichier des Écritures Comptables, article A47 A-1 of
the Livre des procédures fiscales: 18 columns, tab-separated) and a CSV for spreadsheets."""

import csv
import io
from datetime import date
from decimal import Decimal

FEC_COLUMNS = [
	"JournalCode",
	"JournalLib",
	"EcritureNum",
	"EcritureDate",
	"CompteNum",
	"CompteLib",
	"CompAuxNum",
	"CompAuxLib",
	"PieceRef",
	"PieceDate",
	"EcritureLib",
	"Debit",
	"Credit",
	"EcritureLet",
	"DateLet",
	"ValidDate",
	"Montantdevise",
	"Idevise",
]


def fec_amount(value) -> str:
	return f"{Decimal(str(value)).quantize(Decimal('0.01')):.2f}".replace(".", ",")


def fec_date(value: date) -> str:
	return value.strftime("%Y%m%d")


def run_entries(*, run: dict, payments: list[dict], accounts: dict) -> list[dict]:
	"""Two lines per doctor: the indemnity charge (debit) and what the CPTS owes him (credit, auxiliary
	account = the doctor). `accounts`: journal_code, journal_label, expense_account(+_label),
	payable_account(+_label)."""
	entry_date = run["entry_date"]
	rows = []
	for number, payment in enumerate(payments, 1):
		label = f"{run['label']} - {payment['professional_name']}"
		common = {
			"JournalCode": accounts["journal_code"],
			"JournalLib": accounts["journal_label"],
			"EcritureNum": f"{run['name']}-{number:04d}",
			"EcritureDate": fec_date(entry_date),
			"PieceRef": payment["name"],
			"PieceDate": fec_date(entry_date),
			"EcritureLib": label[:100],
			"EcritureLet": "",
			"DateLet": "",
			"ValidDate": fec_date(run["valid_date"]),
			"Montantdevise": "",
			"Idevise": "",
		}
		rows.append(
			{
				**common,
				"CompteNum": accounts["expense_account"],
				"CompteLib": accounts["expense_account_label"],
				"CompAuxNum": "",
				"CompAuxLib": "",
				"Debit": fec_amount(payment["amount"]),
				"Credit": fec_amount(0),
			}
		)
		rows.append(
			{
				**common,
				"CompteNum": accounts["payable_account"],
				"CompteLib": accounts["payable_account_label"],
				"CompAuxNum": payment["professional"],
				"CompAuxLib": payment["professional_name"],
				"Debit": fec_amount(0),
				"Credit": fec_amount(payment["amount"]),
			}
		)
	return rows


def fec_file(rows: list[dict]) -> bytes:
	lines = ["\t".join(FEC_COLUMNS)] + ["\t".join(row[c] for c in FEC_COLUMNS) for row in rows]
	return ("\r\n".join(lines) + "\r\n").encode("utf-8")


def csv_file(rows: list[dict]) -> bytes:
	"""Semicolon-separated, as French spreadsheets expect; same columns as the FEC."""
	buffer = io.StringIO()
	writer = csv.DictWriter(buffer, fieldnames=FEC_COLUMNS, delimiter=";", lineterminator="\r\n")
	writer.writeheader()
	writer.writerows(rows)
	return ("\ufeff" + buffer.getvalue()).encode("utf-8")
