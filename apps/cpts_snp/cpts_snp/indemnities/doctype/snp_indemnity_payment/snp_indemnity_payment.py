from frappe.model.document import Document

from cpts_snp.indemnities.immutability import refuse, refuse_if_run_submitted


class SNPIndemnityPayment(Document):
	"""Computed by its run (SQL); immutable once the run is approved, whatever the path."""

	def validate(self):
		stored_run = None if self.is_new() else self.get_doc_before_save().run
		refuse_if_run_submitted(self, self.run)
		refuse_if_run_submitted(self, stored_run)
		if not self.is_new() and self._action == "save":
			refuse(self)  # amounts, lines and IBAN are the computation's, even before the approval

	def before_update_after_submit(self):
		refuse(self)

	def before_cancel(self):
		refuse(self)

	def on_trash(self):
		if self.docstatus == 1:
			refuse(self)
		refuse_if_run_submitted(self, self.run)
