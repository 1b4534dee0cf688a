from frappe.model.document import Document


class SNPSectorNeighbour(Document):
	pass
