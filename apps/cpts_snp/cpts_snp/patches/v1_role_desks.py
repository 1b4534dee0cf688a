"""A desk for each role (cpts_snp.desks): the desk users already there get their landing workspace and sidebar."""

import frappe

from cpts_snp.desks import FULL_DESK_ROLES, ROLE_DESKS


def execute():
	users = frappe.get_all(
		"Has Role",
		filters={"parenttype": "User", "role": ["in", list(ROLE_DESKS) + list(FULL_DESK_ROLES)]},
		pluck="parent",
		distinct=True,
	)
	for name in users:
		if frappe.db.get_value("User", name, "user_type") != "System User":
			continue
		user = frappe.get_doc("User", name)
		user.flags.ignore_permissions = True
		user.save()
