"""Record-level rules, one function per doctype and kind of check (hooks: permission_query_conditions and
has_permission). Staff (coordinator, telesecretariat, system managers) see every record their role allows;
a doctor (role Médecin SNP without a staff role) sees only the records of his own SNP Professional.
"""

import frappe

STAFF_ROLES = {"System Manager", "Coordinateur CPTS", "Télésecrétaire", "Comptable CPTS", "Trésorier CPTS"}


def is_staff(user: str | None = None) -> bool:
	user = user or frappe.session.user
	return user == "Administrator" or bool(STAFF_ROLES.intersection(frappe.get_roles(user)))


def professional_of(user: str | None = None) -> str | None:
	"""The SNP Professional linked to `user`, if any."""
	return frappe.db.get_value("SNP Professional", {"user": user or frappe.session.user}, "name")


def _own_records(doctype: str, user: str | None) -> str:
	"""List condition: staff see all; a doctor, the records whose `professional` is his."""
	user = user or frappe.session.user
	if is_staff(user):
		return ""
	professional = professional_of(user)
	if not professional:
		return "1 = 0"
	return f"`tab{doctype}`.`professional` = {frappe.db.escape(professional)}"


def _own_record(doc, user: str | None) -> bool | None:
	"""Document check: None (no objection) for staff; for a doctor, whether the record is his."""
	user = user or frappe.session.user
	if is_staff(user):
		return None
	professional = professional_of(user)
	return bool(professional) and doc.get("professional") == professional


def professional_query(user: str | None = None) -> str:
	user = user or frappe.session.user
	if is_staff(user):
		return ""
	return f"`tabSNP Professional`.`user` = {frappe.db.escape(user)}"


def professional_has_permission(doc, ptype=None, user=None) -> bool | None:
	user = user or frappe.session.user
	if is_staff(user):
		return None
	return bool(doc.user) and doc.user == user


def slot_query(user: str | None = None) -> str:
	return _own_records("SNP Slot", user)


def slot_has_permission(doc, ptype=None, user=None) -> bool | None:
	return _own_record(doc, user)


def booking_query(user: str | None = None) -> str:
	return _own_records("SNP Booking", user)


def booking_has_permission(doc, ptype=None, user=None) -> bool | None:
	return _own_record(doc, user)


def template_query(user: str | None = None) -> str:
	return _own_records("SNP Availability Template", user)


def template_has_permission(doc, ptype=None, user=None) -> bool | None:
	return _own_record(doc, user)


def absence_query(user: str | None = None) -> str:
	return _own_records("SNP Absence", user)


def absence_has_permission(doc, ptype=None, user=None) -> bool | None:
	return _own_record(doc, user)


def payment_query(user: str | None = None) -> str:
	return _own_records("SNP Indemnity Payment", user)


def payment_has_permission(doc, ptype=None, user=None) -> bool | None:
	return _own_record(doc, user)
