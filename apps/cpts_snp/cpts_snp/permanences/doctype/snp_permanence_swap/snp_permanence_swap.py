from frappe.model.document import Document

from cpts_snp.services.naming import set_name
from cpts_snp.services.permanences import apply_swap, validate_swap


class SNPPermanenceSwap(Document):
	def autoname(self):
		set_name(self)

	def validate(self):
		validate_swap(self)

	def on_update(self):
		apply_swap(self)
