"""Slots and supervision shifts earn indemnities only when declared before they start.

A doctor never publishes, declares or moves a slot or a shift into the past, whatever the path (portal, desk form,
REST, template generation, which skips past times anyway). The coordination may, with a reason stored on the
record; the server then records who did it in `late_declared_by`. The payment run counts a slot or a shift only if
it was created before it started, or late-declared that way (services.payment_run, ITEM_SOURCES)."""

import frappe
from frappe import _
from frappe.utils import get_datetime, now_datetime

COORDINATION_ROLES = frozenset({"Coordinateur CPTS", "System Manager"})


class LateDeclarationError(frappe.ValidationError):
	"""A slot or shift declared (or moved) into the past without the coordination's reason."""


def is_coordination(user: str | None = None) -> bool:
	user = user or frappe.session.user
	return user == "Administrator" or bool(COORDINATION_ROLES.intersection(frappe.get_roles(user)))


def check_declared_in_time(doc, timing_fields: tuple[str, ...], allow_shortening: bool = False) -> None:
	"""Refuse `doc` (a slot or a shift: starts_at, late_declaration_reason, late_declared_by) when it is new or
	its `timing_fields` changed and it starts in the past, unless the coordination gives a reason."""
	before = None if doc.is_new() else doc.get_doc_before_save()
	reason = (doc.get("late_declaration_reason") or "").strip() or None
	doc.late_declaration_reason = reason
	# Who recorded a late declaration is the server's business.
	doc.late_declared_by = before.get("late_declared_by") if before else None
	if (before.get("late_declaration_reason") if before else None) != reason and not is_coordination():
		frappe.throw(_("Only the CPTS coordination records a late declaration"), LateDeclarationError)

	if before is not None:
		changed = [field for field in timing_fields if doc.has_value_changed(field)]
		if not changed:
			return
		if (
			allow_shortening
			and changed == ["ends_at"]
			and get_datetime(doc.ends_at) < get_datetime(before.ends_at)
		):
			return
	if get_datetime(doc.starts_at) > now_datetime():
		return
	if not is_coordination():
		frappe.throw(
			_(
				"This starts in the past: a slot or a supervision shift is declared before it starts "
				"(the CPTS coordination can record a late declaration)"
			),
			LateDeclarationError,
		)
	if not reason:
		frappe.throw(
			_("This starts in the past: give the reason for the late declaration"), LateDeclarationError
		)
	doc.late_declared_by = frappe.session.user


# SQL condition (over a table alias) of a slot or shift that counts for the indemnities.
def declared_in_time_sql(alias: str) -> str:
	return f"({alias}.creation < {alias}.starts_at OR IFNULL({alias}.late_declared_by, '') != '')"
