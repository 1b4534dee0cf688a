"""/permanences: the public page of the teleconsultation permanences (no login): the CPTS phone number and the
permanence hours of the coming week, for patients and for the pharmacists and nurses who relay them. Only the
name of the doctor on duty is shown, never his contact details or the teleconsultation link."""

import frappe
from frappe import _

from cpts_snp.services.permanences import public_week

no_cache = 1


def get_context(context):
	settings = frappe.get_cached_doc("SNP Settings")
	context.no_cache = 1
	context.show_sidebar = False
	context.title = _("Teleconsultation permanences")
	context.cpts_name = settings.cpts_name or _("the CPTS")
	context.cpts_phone = settings.cpts_phone
	context.days = public_week()
