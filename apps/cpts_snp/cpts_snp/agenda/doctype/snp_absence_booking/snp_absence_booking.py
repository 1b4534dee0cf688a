from frappe.model.document import Document


class SNPAbsenceBooking(Document):
	pass
