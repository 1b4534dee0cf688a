"""Installation steps: French defaults for a fresh site and the app's home workspace."""

import frappe
from frappe.utils import cint

HOME_WORKSPACE = "Soins non programmés"

SETUP_WIZARD_ARGS = {
	"language": "Français",
	"country": "France",
	"timezone": "Europe/Paris",
	"currency": "EUR",
	"enable_telemetry": 0,
}


def after_install():
	set_home_workspace("Administrator")


def after_migrate():
	set_home_workspace("Administrator")


def complete_setup_wizard():
	"""Complete Frappe's setup wizard non-interactively (French, France, Europe/Paris, EUR)."""
	if not cint(frappe.db.get_single_value("System Settings", "setup_complete")):
		from frappe.desk.page.setup_wizard.setup_wizard import setup_complete

		setup_complete(SETUP_WIZARD_ARGS)
	# Frappe alone keeps no default currency; the CPTS pays indemnities in euros.
	frappe.db.set_value("Currency", "EUR", "enabled", 1)
	frappe.db.set_default("currency", "EUR")
	set_home_workspace("Administrator")
	frappe.db.commit()


def set_home_workspace(user: str) -> None:
	"""The first screen after login is the app's workspace."""
	if frappe.db.exists("Workspace", HOME_WORKSPACE) and frappe.db.exists("User", user):
		frappe.db.set_value("User", user, "default_workspace", HOME_WORKSPACE, update_modified=False)
