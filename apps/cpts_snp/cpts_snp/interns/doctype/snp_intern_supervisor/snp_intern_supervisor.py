from frappe.model.document import Document


class SNPInternSupervisor(Document):
	pass
