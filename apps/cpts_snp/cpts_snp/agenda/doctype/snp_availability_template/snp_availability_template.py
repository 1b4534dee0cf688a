import frappe
from frappe import _
from frappe.model.document import Document
from frappe.utils import cint, get_time, getdate

from cpts_snp.api import endpoint
from cpts_snp.exceptions import InvalidDurationError
from cpts_snp.rules.slots import MAX_DURATION, MIN_DURATION, is_valid_duration
from cpts_snp.rules.templates import ends_same_day
from cpts_snp.services.generation import WEEKDAY_FIELDS
from cpts_snp.services.naming import set_name
from cpts_snp.services.places import set_place_and_label

MAX_SLOTS_PER_DAY = 12


class SNPAvailabilityTemplate(Document):
	def autoname(self):
		set_name(self)

	def validate(self):
		self.validate_weekdays()
		self.validate_slots()
		self.validate_validity()
		set_place_and_label(self)

	def validate_weekdays(self):
		if not any(self.get(field) for field in WEEKDAY_FIELDS):
			frappe.throw(_("Tick at least one weekday"))

	def validate_slots(self):
		self.number_of_slots = cint(self.number_of_slots)
		self.slot_duration = cint(self.slot_duration)
		if not 1 <= self.number_of_slots <= MAX_SLOTS_PER_DAY:
			frappe.throw(_("The number of slots must be between 1 and {0}").format(MAX_SLOTS_PER_DAY))
		if not is_valid_duration(self.slot_duration):
			frappe.throw(
				_("The duration of a slot must be between {0} and {1} minutes").format(
					MIN_DURATION, MAX_DURATION
				),
				InvalidDurationError,
			)
		if not ends_same_day(get_time(self.start_time), self.number_of_slots, self.slot_duration):
			frappe.throw(_("The slots of a template must end on the day they start"))

	def validate_validity(self):
		if self.valid_to and getdate(self.valid_to) < getdate(self.valid_from):
			frappe.throw(_("The end of validity cannot be before its start"))


@frappe.whitelist(methods=["POST"])
@endpoint
def generate_slots(template: str) -> list[str]:
	"""« Générer les créneaux » button: create the template's missing slots over the generation horizon."""
	from cpts_snp.services.generation import generate_for_template

	doc = frappe.get_doc("SNP Availability Template", template)
	doc.check_permission("write")
	return generate_for_template(doc)
