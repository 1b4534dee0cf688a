import frappe
from frappe.model.document import Document

from cpts_snp.api import endpoint
from cpts_snp.services.naming import set_name

# What the import job writes: a person does not set them
RESULT_FIELDS = (
	"status",
	"started_at",
	"finished_at",
	"rows_read",
	"entries_imported",
	"professionals_checked",
	"professionals_flagged",
	"error",
)


class SNPDirectoryImport(Document):
	"""An import of the RPPS directory extract (cpts_snp.services.directory)."""

	def autoname(self):
		set_name(self)

	def validate(self):
		before = None if self.is_new() else self.get_doc_before_save()
		for field in RESULT_FIELDS:
			self.set(field, before.get(field) if before else self.meta.get_field(field).default)

	def on_trash(self):
		frappe.db.delete("SNP Directory Entry", {"directory_import": self.name})


@frappe.whitelist(methods=["POST"])
@endpoint
def import_directory(directory_import: str) -> None:
	"""« Import the directory » (coordination): the import runs in a background job after this request."""
	from cpts_snp.services.directory import start_import

	start_import(directory_import)
