import frappe

from cpts_snp.portal import page_context
from cpts_snp.services.annual_statement import years_paid
from cpts_snp.services.statements import STATEMENT_FORMAT


def get_context(context):
	professional = page_context(context, "/snp/indemnites", "My indemnities")
	# Approved and paid statements of the logged-in doctor (the record rules of cpts_snp.permissions apply).
	context.statements = frappe.get_list(
		"SNP Indemnity Payment",
		filters={"professional": professional, "docstatus": 1},
		fields=["name", "period_start", "period_end", "amount", "status", "paid_on"],
		order_by="period_end desc",
	)
	context.statement_format = STATEMENT_FORMAT
	# « Relevés annuels »: one PDF per calendar year with paid indemnities (cpts_snp.services.annual_statement)
	context.annual_years = years_paid(professional)
