"""SEPA credit transfer file (pain.001.001.03) of a payment run, built and validated against the official
schema by the `sepaxml` library."""

import re
from datetime import date

from sepaxml import SepaTransfer

# SEPA « Latin » character set for names and references.
_NOT_SEPA = re.compile(r"[^A-Za-z0-9/\-?:().,'+ ]")


def sepa_text(value: str, length: int) -> str:
	import unicodedata

	ascii_text = unicodedata.normalize("NFKD", value or "").encode("ascii", "ignore").decode()
	return _NOT_SEPA.sub(" ", ascii_text).strip()[:length]


def credit_transfer(
	*,
	debtor_name: str,
	debtor_iban: str,
	debtor_bic: str | None,
	payments: list[dict],
	execution_date: date,
	description: str,
) -> bytes:
	"""`payments`: dicts with name (end-to-end id), creditor_name, iban, bic, amount (euros, Decimal or float)."""
	config = {
		"name": sepa_text(debtor_name, 70),
		"IBAN": debtor_iban,
		"BIC": debtor_bic or "NOTPROVIDED",
		"batch": True,
		"currency": "EUR",
	}
	transfer = SepaTransfer(config, schema="pain.001.001.03", clean=True)
	for payment in payments:
		creditor = {
			"name": sepa_text(payment["creditor_name"], 70),
			"IBAN": payment["iban"],
			"amount": round(float(payment["amount"]) * 100),
			"execution_date": execution_date,
			"description": sepa_text(description, 140),
			"endtoend_id": sepa_text(payment["name"], 35).replace(" ", ""),
		}
		if payment.get("bic"):  # optional within the SEPA zone
			creditor["BIC"] = payment["bic"]
		transfer.add_payment(creditor)
	return transfer.export(validate=True)
