"""Recovery drill helper: the number of records of every cpts_snp doctype on this site, as JSON.

	bench --site SITE execute cpts_snp.setup.drill.record_counts
"""

import json

import frappe


def record_counts() -> str:
	modules = frappe.get_all("Module Def", filters={"app_name": "cpts_snp"}, pluck="name")
	doctypes = frappe.get_all("DocType", filters={"module": ["in", modules], "issingle": 0}, pluck="name")
	counts = {doctype: frappe.db.count(doctype) for doctype in sorted(doctypes)}
	print(json.dumps(counts, ensure_ascii=False))
	return ""
