"""Onboarding of professionals through the workflow « SNP Professional Onboarding »:
Candidate → Charter signed → Active ⇄ Suspended (transitions allowed to the coordinator)."""

from frappe.model.workflow import apply_workflow

PATH_TO_ACTIVE = {"Candidate": "Sign charter", "Charter signed": "Activate", "Suspended": "Reactivate"}


def activate(professional):
	"""Move a professional through the workflow up to Active (with the caller's workflow rights)."""
	while professional.status != "Active":
		professional = apply_workflow(professional, PATH_TO_ACTIVE[professional.status])
	return professional
