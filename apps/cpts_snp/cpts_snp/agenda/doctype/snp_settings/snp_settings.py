import frappe
from frappe import _
from frappe.model.document import Document
from frappe.utils import cint, get_time


class SNPSettings(Document):
	def validate(self):
		self.validate_numbers()
		self.validate_weekly_target()
		self.validate_pdsa_hours()

	def validate_numbers(self):
		for field in ("booking_horizon_hours", "generation_weeks", "supplement_weekly_cap"):
			if cint(self.get(field)) <= 0:
				frappe.throw(_("{0} must be a positive number").format(_(self.meta.get_label(field))))
		if cint(self.generation_weeks) > 26:
			frappe.throw(_("Slots can be generated at most 26 weeks ahead"))

	def validate_weekly_target(self):
		if cint(self.weekly_target_min) > cint(self.weekly_target_max):
			frappe.throw(_("The weekly target minimum cannot exceed its maximum"))

	def validate_pdsa_hours(self):
		if get_time(self.pdsa_morning_end) >= get_time(self.pdsa_evening_start):
			frappe.throw(_("The PDSA morning end must come before the evening start"))
