import frappe
from frappe.model.document import Document


class SNPMessageLog(Document):
	"""One SMS about a booking, or one reminder (e-mail or SMS): written by cpts_snp.services.notifications and
	cpts_snp.services.reminders, its status and the gateway's answer by cpts_snp.services.sms; read by the staff
	from the booking's connections."""


def on_doctype_update():
	frappe.db.add_index("SNP Message Log", ["booking", "creation"])
