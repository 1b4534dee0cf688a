import frappe
from frappe.model.document import Document

from cpts_snp.api import endpoint


class SNPSASMessage(Document):
	"""One report of a booking to the national SAS platform (INT_R03): written by
	cpts_snp.services.sas_feedback when a SAS booking is made or changes status, sent by its background jobs,
	read by the staff."""


def on_doctype_update():
	# The sender reads a booking's messages in their order, and the due ones by status and time.
	frappe.db.add_index("SNP SAS Message", ["booking", "sequence"])
	frappe.db.add_index("SNP SAS Message", ["status", "next_attempt_at"])


@frappe.whitelist(methods=["POST"])
@endpoint
def retry_now(name: str) -> dict:
	"""« Réessayer maintenant » (coordination only): send the message again at once; returns its new state."""
	from cpts_snp.services.sas_feedback import retry

	status = retry(name)
	return frappe.db.get_value(
		"SNP SAS Message", name, ["name", "status", "attempts", "http_status", "error"], as_dict=True
	) or {"name": name, "status": status}
