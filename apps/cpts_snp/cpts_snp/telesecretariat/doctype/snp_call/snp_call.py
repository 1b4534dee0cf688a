import frappe
from frappe import _
from frappe.model.document import Document
from frappe.utils import add_to_date, get_datetime, now_datetime

from cpts_snp.services.naming import set_name
from cpts_snp.services.text import clean_name_fields

BOOKED = "SNP appointment booked"


class SNPCall(Document):
	def autoname(self):
		set_name(self)

	def validate(self):
		if self.is_new() and not self.handled_by:
			self.handled_by = frappe.session.user
		clean_name_fields(self, "caller_name")
		self.validate_received_at()
		self.validate_outcome()
		if not self.has_gp:
			self.gp_available = None

	def validate_received_at(self):
		if get_datetime(self.received_at) > add_to_date(now_datetime(), minutes=5):
			frappe.throw(_("A call cannot be received in the future"))

	def validate_outcome(self):
		if self.outcome == BOOKED and not self.booking:
			frappe.throw(_("Book a slot to log the outcome « SNP appointment booked »"))
		if self.booking and self.outcome != BOOKED:
			frappe.throw(_("A call with a booking has the outcome « SNP appointment booked »"))
