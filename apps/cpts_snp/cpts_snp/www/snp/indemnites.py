import frappe

from cpts_snp.portal import page_context


def get_context(context):
	professional = page_context(context, "/snp/indemnites", "My indemnities")
	# Statements come with the indemnity payment runs; until the CPTS runs one, the list is empty.
	context.statements = (
		frappe.get_list(
			"SNP Indemnity Payment",
			filters={"professional": professional, "docstatus": 1},
			fields=["name", "period_start", "period_end", "amount", "status"],
			order_by="period_end desc",
		)
		if frappe.db.exists("DocType", "SNP Indemnity Payment")
		else []
	)
