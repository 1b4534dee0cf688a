"""One run of the retention job, or one erasure, with what it changed (cpts_snp.services.privacy): written by the
application only."""

from frappe.model.document import Document

from cpts_snp.services.naming import set_name


class SNPPrivacyLog(Document):
	def autoname(self):
		set_name(self)
