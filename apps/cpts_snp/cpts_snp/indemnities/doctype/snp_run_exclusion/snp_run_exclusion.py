from frappe.model.document import Document


class SNPRunExclusion(Document):
	pass
