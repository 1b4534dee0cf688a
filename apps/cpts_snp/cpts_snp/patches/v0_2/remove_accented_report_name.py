"""The report « Demande de téléconsultation » is named without accents (Frappe finds a report's code by its name)."""

import frappe


def execute():
	if frappe.db.exists("Report", "Demande de téléconsultation"):
		frappe.delete_doc("Report", "Demande de téléconsultation", force=True, ignore_permissions=True)
