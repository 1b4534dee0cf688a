from frappe.model.document import Document


class SNPProfessionalSector(Document):
	pass
