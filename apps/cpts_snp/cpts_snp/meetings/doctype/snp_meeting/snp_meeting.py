from frappe.model.document import Document

from cpts_snp.services.meetings import check_deletion, validate_meeting
from cpts_snp.services.naming import set_name


class SNPMeeting(Document):
	def autoname(self):
		set_name(self)

	def validate(self):
		validate_meeting(self)

	def on_trash(self):
		check_deletion(self)
