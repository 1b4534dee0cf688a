from cpts_snp.portal import page_context
from cpts_snp.services import portal


def get_context(context):
	professional = page_context(context, "/snp/absences", "My absences")
	context.absences = portal.my_absences(professional)
