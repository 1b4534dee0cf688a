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


def _list_condition(user: str | None, condition) -> str:
	"""List condition shared by every doctype: staff see all, a user without a professional record nothing,
	a doctor `condition(professional)`."""
	user = user or frappe.session.user
	if is_staff(user):
		return ""
	professional = professional_of(user)
	return condition(professional) if professional else "1 = 0"


def _document_check(user: str | None, check) -> bool | None:
	"""Document check shared by every doctype: no objection (None) for staff, refused without a professional
	record, else `check(professional)`."""
	user = user or frappe.session.user
	if is_staff(user):
		return None
	professional = professional_of(user)
	return bool(professional) and bool(check(professional))


def _own_records(doctype: str, user: str | None) -> str:
	"""List condition: staff see all; a doctor, the records whose `professional` is his."""
	return _list_condition(user, lambda pro: f"`tab{doctype}`.`professional` = {frappe.db.escape(pro)}")


def _own_record(doc, user: str | None) -> bool | None:
	"""Document check: None (no objection) for staff; for a doctor, whether the record is his."""
	return _document_check(user, lambda pro: doc.get("professional") == pro)


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
	if _is_partner_user(user):
		return partner_slot_query(user)
	return _own_records("SNP Slot", user)


def slot_has_permission(doc, ptype=None, user=None) -> bool | None:
	if _is_partner_user(user):
		return partner_slot_has_permission(doc, ptype, user)
	return _own_record(doc, user)


def booking_query(user: str | None = None) -> str:
	if _is_partner_user(user):
		return partner_booking_query(user)
	condition = _own_records("SNP Booking", user)
	professional = condition and condition != "1 = 0" and professional_of(user or frappe.session.user)
	if not professional:
		return condition
	# A maître de stage also reads the consultations of his interns (to debrief them).
	return (
		f"({condition} OR `tabSNP Booking`.`professional` IN (SELECT i.`professional` FROM `tabSNP Intern` i"
		f" WHERE i.`name` IN {_supervised_interns_sql(professional)}))"
	)


def booking_has_permission(doc, ptype=None, user=None) -> bool | None:
	if _is_partner_user(user):
		return partner_booking_has_permission(doc, ptype, user)
	own = _own_record(doc, user)
	if own is False and ptype in (None, "read", "print"):
		# A maître de stage reads the consultations of his interns.
		professional = professional_of(user or frappe.session.user)
		intern = frappe.db.get_value("SNP Intern", {"professional": doc.get("professional")}, "name")
		return bool(professional) and _is_supervisor_of(professional, intern)
	return own


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


# --- Territorial partners (role Partenaire SNP, users of an SNP Partner): free slots, and the bookings their
# own partner made; never another partner's patients. Staff rules win over the partner role. ---


def _is_partner_user(user: str | None) -> bool:
	from cpts_snp.services.partners import is_partner_user

	return is_partner_user(user or frappe.session.user)


def _partner_name(user: str | None) -> str | None:
	from cpts_snp.services.partners import partner_of

	partner = partner_of(user or frappe.session.user)
	return partner.name if partner else None


def partner_slot_query(user: str | None = None) -> str:
	"""Free slots, and the slots of the partner's own bookings."""
	partner = _partner_name(user)
	if not partner:
		return "1 = 0"
	return (
		"(`tabSNP Slot`.`status` = 'Available' or `tabSNP Slot`.`name` in "
		f"(select `slot` from `tabSNP Booking` where `partner` = {frappe.db.escape(partner)}))"
	)


def partner_slot_has_permission(doc, ptype=None, user=None) -> bool:
	partner = _partner_name(user)
	if not partner or ptype not in (None, "read", "select", "print", "email"):
		return False
	return doc.get("status") == "Available" or bool(
		frappe.db.exists("SNP Booking", {"slot": doc.name, "partner": partner})
	)


def partner_booking_query(user: str | None = None) -> str:
	partner = _partner_name(user)
	if not partner:
		return "1 = 0"
	return f"`tabSNP Booking`.`partner` = {frappe.db.escape(partner)}"


def partner_booking_has_permission(doc, ptype=None, user=None) -> bool:
	"""A partner user creates bookings when his partner may book (the controller then sets the partner), and
	reads only his partner's."""
	from cpts_snp.services.partners import can_book, partner_of

	partner = partner_of(user or frappe.session.user)
	if not partner:
		return False
	if ptype == "create":
		return can_book(partner)
	return doc.get("partner") == partner.name


def partner_query(user: str | None = None) -> str:
	"""Staff see every partner; a partner user, his own."""
	user = user or frappe.session.user
	if is_staff(user):
		return ""
	partner = _partner_name(user)
	if not partner:
		return "1 = 0"
	return f"`tabSNP Partner`.`name` = {frappe.db.escape(partner)}"


def partner_has_permission(doc, ptype=None, user=None) -> bool | None:
	user = user or frappe.session.user
	if is_staff(user):
		return None
	return doc.name == _partner_name(user)


# --- Interns: an intern sees his own records; a supervisor (maître de stage) those of his interns -----------------
def _supervised_interns_sql(professional: str) -> str:
	"""Subquery: the SNP Intern records `professional` supervises."""
	return (
		"(SELECT `parent` FROM `tabSNP Intern Supervisor` WHERE `parenttype` = 'SNP Intern' "
		f"AND `supervisor` = {frappe.db.escape(professional)})"
	)


def _is_supervisor_of(professional: str, intern: str | None) -> bool:
	return bool(intern) and bool(
		frappe.db.exists(
			"SNP Intern Supervisor",
			{"parent": intern, "parenttype": "SNP Intern", "supervisor": professional},
		)
	)


def intern_query(user: str | None = None) -> str:
	return _list_condition(
		user,
		lambda pro: (
			f"(`tabSNP Intern`.`professional` = {frappe.db.escape(pro)}"
			f" OR `tabSNP Intern`.`name` IN {_supervised_interns_sql(pro)})"
		),
	)


def intern_has_permission(doc, ptype=None, user=None) -> bool | None:
	return _document_check(user, lambda pro: doc.professional == pro or _is_supervisor_of(pro, doc.name))


def shift_query(user: str | None = None) -> str:
	"""A supervisor sees his shifts; an intern, the shifts of his supervisors."""

	def condition(professional):
		mine = frappe.db.escape(professional)
		return (
			f"(`tabSNP Supervision Shift`.`supervisor` = {mine} OR `tabSNP Supervision Shift`.`supervisor` IN "
			"(SELECT s.`supervisor` FROM `tabSNP Intern Supervisor` s JOIN `tabSNP Intern` i ON i.`name` = s.`parent`"
			f" WHERE s.`parenttype` = 'SNP Intern' AND i.`professional` = {mine}))"
		)

	return _list_condition(user, condition)


def shift_has_permission(doc, ptype=None, user=None) -> bool | None:
	"""A supervisor changes his shifts; his interns read them."""

	def check(professional):
		if doc.supervisor == professional:
			return True
		if ptype not in (None, "read", "print", "report"):
			return False
		intern = frappe.db.get_value("SNP Intern", {"professional": professional}, "name")
		return _is_supervisor_of(doc.supervisor, intern)

	return _document_check(user, check)


def debrief_query(user: str | None = None) -> str:
	return _list_condition(
		user,
		lambda pro: (
			"(`tabSNP Debrief`.`intern` IN (SELECT `name` FROM `tabSNP Intern` WHERE `professional` = "
			f"{frappe.db.escape(pro)}) OR `tabSNP Debrief`.`intern` IN {_supervised_interns_sql(pro)})"
		),
	)


def debrief_has_permission(doc, ptype=None, user=None) -> bool | None:
	return _document_check(
		user,
		lambda pro: (
			doc.intern
			and (
				frappe.db.get_value("SNP Intern", doc.intern, "professional") == pro
				or _is_supervisor_of(pro, doc.intern)
			)
		),
	)


# --- Permanences: the rota is shared with every doctor; each one changes only his own permanences --------------
def permanence_query(user: str | None = None) -> str:
	return ""


def permanence_has_permission(doc, ptype=None, user=None) -> bool | None:
	user = user or frappe.session.user
	if is_staff(user) or ptype in (None, "read", "print", "report"):
		return None
	professional = professional_of(user)
	return bool(professional) and doc.professional == professional


def swap_query(user: str | None = None) -> str:
	return _list_condition(
		user,
		lambda pro: (
			f"(`tabSNP Permanence Swap`.`from_professional` = {frappe.db.escape(pro)}"
			f" OR `tabSNP Permanence Swap`.`to_professional` = {frappe.db.escape(pro)})"
		),
	)


def swap_has_permission(doc, ptype=None, user=None) -> bool | None:
	"""The two doctors of a swap; a new request, the doctor on duty (checked again when it is saved)."""

	def check(professional):
		if ptype == "create" or doc.is_new():
			return doc.from_professional in (None, "", professional)
		return professional in (doc.from_professional, doc.to_professional)

	return _document_check(user, check)
