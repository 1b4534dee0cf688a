from frappe.utils import getdate, today

from cpts_snp.portal import page_context
from cpts_snp.services import portal


def get_context(context):
	professional = page_context(context, "/snp", "My SNP space")
	context.week = portal.week_view(professional, portal.monday_of(getdate(today())))
	context.next_bookings = portal.my_bookings(professional, upcoming=True, limit=5)
