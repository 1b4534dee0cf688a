from frappe.model.document import Document


class SNPPaidItem(Document):
	pass
