"""Recovery drill helpers: the number of records of every cpts_snp doctype on this site, and the doctypes whose
naming sequence would reuse a name, as JSON.

	bench --site SITE execute cpts_snp.setup.drill.record_counts
	bench --site SITE execute cpts_snp.setup.drill.sequences_behind
"""

import json

import frappe


def record_counts() -> str:
	modules = frappe.get_all("Module Def", filters={"app_name": "cpts_snp"}, pluck="name")
	doctypes = frappe.get_all("DocType", filters={"module": ["in", modules], "issingle": 0}, pluck="name")
	counts = {doctype: frappe.db.count(doctype) for doctype in sorted(doctypes)}
	print(json.dumps(counts, ensure_ascii=False))
	return ""


def sequences_behind() -> str:
	from cpts_snp.services.naming import sequences_behind as behind

	print(json.dumps(behind(), ensure_ascii=False))
	return ""
