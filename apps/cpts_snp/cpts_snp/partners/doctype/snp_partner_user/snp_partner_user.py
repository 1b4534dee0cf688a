from frappe.model.document import Document


class SNPPartnerUser(Document):
	pass
