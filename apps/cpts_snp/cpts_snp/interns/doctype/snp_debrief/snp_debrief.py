from frappe.model.document import Document

from cpts_snp.services.naming import set_name
from cpts_snp.services.supervision import validate_debrief


class SNPDebrief(Document):
	def autoname(self):
		set_name(self)

	def validate(self):
		validate_debrief(self)
