from frappe.model.document import Document

from cpts_snp.services.naming import set_name
from cpts_snp.services.permanences import validate_permanence


class SNPPermanence(Document):
	def autoname(self):
		set_name(self)

	def validate(self):
		validate_permanence(self)
