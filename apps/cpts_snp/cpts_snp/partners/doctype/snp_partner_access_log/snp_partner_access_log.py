from frappe.model.document import Document


class SNPPartnerAccessLog(Document):
	"""One read or booking of a partner user through the partner API or the FHIR interface (written by
	cpts_snp.services.partners.log_access, read by the coordinator)."""
