from frappe.model.document import Document

from cpts_snp.services.permanences import validate_permanence


class SNPPermanence(Document):
	def validate(self):
		validate_permanence(self)
