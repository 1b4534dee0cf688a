from frappe.model.document import Document

from cpts_snp.services.naming import set_name
from cpts_snp.services.permanences import validate_permanence
from cpts_snp.services.text import clean_name_fields


class SNPPermanence(Document):
	def autoname(self):
		set_name(self)

	def validate(self):
		clean_name_fields(self, "organisation_name")
		validate_permanence(self)
