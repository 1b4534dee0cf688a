from frappe.model.document import Document


class SNPBridgeDay(Document):
	pass
