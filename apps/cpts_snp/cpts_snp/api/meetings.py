"""The coordination's actions on a meeting (SNP Meeting form buttons): confirm its attendance, or reopen it while
no payment run holds it (cpts_snp.services.meetings checks the caller and the meeting)."""

import frappe

from cpts_snp.api import endpoint
from cpts_snp.services import meetings


@frappe.whitelist(methods=["POST"])
@endpoint
def confirm_attendance(meeting: str) -> dict:
	doc = meetings.confirm_attendance(meeting)
	return {"status": doc.status, "confirmed_by": doc.confirmed_by, "confirmed_on": str(doc.confirmed_on)}


@frappe.whitelist(methods=["POST"])
@endpoint
def reopen_attendance(meeting: str) -> dict:
	doc = meetings.reopen_attendance(meeting)
	return {"status": doc.status}
