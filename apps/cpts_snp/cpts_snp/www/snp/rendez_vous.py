from cpts_snp.portal import page_context
from cpts_snp.services import portal


def get_context(context):
	professional = page_context(context, "/snp/rendez-vous", "My appointments")
	context.upcoming = portal.my_bookings(professional, upcoming=True)
	context.past = portal.my_bookings(professional, upcoming=False, limit=50)
