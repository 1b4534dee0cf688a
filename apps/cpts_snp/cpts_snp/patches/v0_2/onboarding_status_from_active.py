"""Professionals created before the onboarding workflow: active ones become Active, the others Candidate."""

import frappe


def execute():
	Professional = frappe.qb.DocType("SNP Professional")
	frappe.qb.update(Professional).set(Professional.status, "Active").where(Professional.active == 1).run()
	frappe.qb.update(Professional).set(Professional.status, "Candidate").where(
		(Professional.active == 0) & Professional.status.isnull()
	).run()
