from frappe.model.document import Document

from cpts_snp.services.supervision import validate_debrief


class SNPDebrief(Document):
	def validate(self):
		validate_debrief(self)
