from frappe.model.document import Document


class SNPIndemnityScheme(Document):
	pass
