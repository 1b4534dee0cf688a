from frappe.utils import getdate

from cpts_snp.portal import page_context
from cpts_snp.services.meetings import CANCELLED, my_meetings


def get_context(context):
	professional = page_context(context, "/snp/reunions", "My meetings")
	# the doctor's own meetings only (cpts_snp.services.meetings): never their minutes nor their participants
	meetings = my_meetings(professional)
	today = getdate()
	to_come = [m for m in meetings if getdate(m.meeting_date) >= today and m.status != CANCELLED]
	context.upcoming = list(reversed(to_come))  # the soonest first
	context.past = [m for m in meetings if m not in to_come]
