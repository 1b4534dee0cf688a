from datetime import timedelta

import frappe
from frappe.utils import getdate, today

from cpts_snp.choices import options as choice_options
from cpts_snp.portal import page_context
from cpts_snp.services import portal


def get_context(context):
	professional = page_context(context, "/snp/creneaux", "My slots")
	requested = frappe.form_dict.get("semaine") or today()
	try:
		monday = portal.monday_of(getdate(requested))
	except Exception:
		monday = portal.monday_of(getdate(today()))
	context.week = portal.week_view(professional, monday)
	context.previous_week = monday - timedelta(days=7)
	context.next_week = monday + timedelta(days=7)
	context.weekday_fields = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
	# the modalities a slot may have: the app's one definition (cpts_snp.choices)
	context.modalities = choice_options("SNP Slot", "modality")
