import frappe

from cpts_snp.portal import page_context
from cpts_snp.services import portal
from cpts_snp.services.places import label_of


def get_context(context):
	professional = page_context(context, "/snp/profil", "My profile")
	context.sectors = frappe.get_all("SNP Sector", pluck="name", order_by="name asc")
	context.other_sectors = {row.sector for row in context.professional.sectors}
	context.feed_url = portal.feed_url(professional)
	context.main_place = label_of(context.professional.place)
