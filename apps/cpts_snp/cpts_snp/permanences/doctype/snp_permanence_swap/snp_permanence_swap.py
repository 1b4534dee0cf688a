from frappe.model.document import Document

from cpts_snp.services import notifications
from cpts_snp.services.naming import set_name
from cpts_snp.services.permanences import apply_swap, validate_swap


class SNPPermanenceSwap(Document):
	def autoname(self):
		set_name(self)

	def validate(self):
		validate_swap(self)

	def after_insert(self):
		notifications.swap_requested(self)

	def on_update(self):
		apply_swap(self)
		if not self.flags.in_insert:
			notifications.swap_answered(self)
