import frappe
from frappe.model.document import Document


class SNPDirectoryEntry(Document):
	"""A professional of the national RPPS directory, written by the import (cpts_snp.services.directory)."""


def on_doctype_update():
	# one entry per RPPS number in each import: a repeated RPPS of the extract (one row per activity) is skipped
	frappe.db.add_unique("SNP Directory Entry", ["directory_import", "rpps"], "directory_import_rpps")
