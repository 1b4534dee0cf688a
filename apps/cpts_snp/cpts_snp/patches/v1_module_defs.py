"""The app's modules without a doctype (Privacy: the data protection officer's workspace) get their Module Def:
Frappe creates one with a module's first doctype, or on install, not on a migrate."""

import frappe


def execute():
	for module in frappe.get_module_list("cpts_snp"):
		if not frappe.db.exists("Module Def", module):
			frappe.get_doc({"doctype": "Module Def", "module_name": module, "app_name": "cpts_snp"}).insert(
				ignore_permissions=True
			)
