from frappe.model.document import Document


class SNPIndemnityPayment(Document):
	pass
