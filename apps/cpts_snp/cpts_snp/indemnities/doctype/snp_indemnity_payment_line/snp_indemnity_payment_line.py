from frappe.model.document import Document


class SNPIndemnityPaymentLine(Document):
	pass
