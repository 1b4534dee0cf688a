"""Endpoints about the messages sent to patients (SNP Message Log)."""

import frappe

from cpts_snp.api import endpoint
from cpts_snp.services import sms


@frappe.whitelist(methods=["POST"])
@endpoint
def retry_sms(log: str) -> dict:
	"""Send a failed SMS again (télésecrétariat, coordination)."""
	retried = sms.retry(log)
	return {"name": retried.name, "status": retried.status, "attempts": retried.attempts}
