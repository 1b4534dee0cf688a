"""A request of a person about his data (RGPD: right of access, right to erasure), answered by the coordination
(cpts_snp.services.privacy): the person searched, the records found, the exports sent, the erasure."""

import frappe
from frappe import _
from frappe.model.document import Document
from frappe.utils import getdate, today

from cpts_snp.exceptions import DataRequestError
from cpts_snp.services.naming import set_name

# What the application writes on a request (search, exports, erasure): a person does not set them
RESULT_FIELDS = (
	"status",
	"identity_hash",
	"found_count",
	"counts",
	"records",
	"searched_on",
	"searched_by",
	"export_json",
	"export_pdf",
	"exported_on",
	"exported_by",
	"erased_on",
	"erased_by",
)
CRITERIA = ("last_name", "first_name", "date_of_birth", "phone")


class SNPDataSubjectRequest(Document):
	def autoname(self):
		set_name(self)

	def validate(self):
		from cpts_snp.services import privacy

		before = None if self.is_new() else self.get_doc_before_save()
		if before and before.status == privacy.ERASED:
			frappe.throw(
				_("The data of request {0} were erased: it cannot change").format(self.name), DataRequestError
			)
		if self.is_new() and not self.flags.cpts_server_write:
			self.clear_results()
		self.validate_criteria()
		changed = before and any(str(self.get(f) or "") != str(before.get(f) or "") for f in CRITERIA)
		if changed and self.status != "Open":
			# another person searched: what was found for the previous one no longer answers this request
			privacy.reset_results(self)
		self.identity_hash = privacy.identity_hash(self)

	def clear_results(self):
		"""A new request starts open, with nothing found (a change later is refused by the server-owned guard)."""
		for field in RESULT_FIELDS:
			self.set(field, [] if field == "records" else self.meta.get_field(field).default)

	def validate_criteria(self):
		from cpts_snp.rules.identifiers import normalise_phone

		if self.phone:
			normalised = normalise_phone(self.phone)
			if not normalised:
				frappe.throw(_("Phone number {0} is not valid").format(self.phone), DataRequestError)
			self.phone = normalised
		if self.date_of_birth and getdate(self.date_of_birth) > getdate(today()):
			frappe.throw(_("The patient's date of birth cannot be in the future"), DataRequestError)
		if not self.phone and not (self.last_name and self.date_of_birth):
			frappe.throw(
				_("Give the person's last name and date of birth (and first name), or his phone number"),
				DataRequestError,
			)
