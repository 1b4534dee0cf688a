"""Installation steps: naming sequences, French defaults for a fresh site and the app's home workspace."""

import frappe
from frappe.utils import cint

from cpts_snp.services.naming import ensure_sequences

HOME_WORKSPACE = "Soins non programmés"

SETUP_WIZARD_ARGS = {
	"language": "Français",
	"country": "France",
	"timezone": "Europe/Paris",
	"currency": "EUR",
	"enable_telemetry": 0,
}


def after_install():
	ensure_sequences()
	ensure_settings(fresh=True)
	set_home_workspace("Administrator")


def after_migrate():
	ensure_sequences()
	ensure_settings()
	set_home_workspace("Administrator")


PDSA_TIMES = ("pdsa_evening_start", "pdsa_morning_end", "pdsa_saturday_start")


def ensure_settings(fresh: bool = False):
	"""Store the defaults of SNP Settings (a Single keeps nothing until saved), keeping what a person set.

	Frappe fills every Time field of a new document with the current time, and that can reach the database
	during installation: on a fresh site every default is written, and PDSA hours that cannot be right (the
	morning end after the evening start) are reset to the French defaults."""
	stored = frappe.db.get_singles_dict("SNP Settings")
	settings = frappe.get_single("SNP Settings")
	missing = [
		df for df in settings.meta.fields if df.default and (fresh or stored.get(df.fieldname) in (None, ""))
	]
	evening, morning = stored.get("pdsa_evening_start"), stored.get("pdsa_morning_end")
	if evening and morning and frappe.utils.get_time(morning) >= frappe.utils.get_time(evening):
		missing += [df for df in settings.meta.fields if df.fieldname in PDSA_TIMES and df not in missing]
	if not missing:
		return
	for df in missing:
		settings.set(df.fieldname, df.default)
	settings.flags.ignore_permissions = True  # installation step, no user involved
	settings.save()


def complete_setup_wizard():
	"""Complete Frappe's setup wizard non-interactively (French, France, Europe/Paris, EUR)."""
	if not cint(frappe.db.get_single_value("System Settings", "setup_complete")):
		from frappe.desk.page.setup_wizard.setup_wizard import setup_complete

		setup_complete(SETUP_WIZARD_ARGS)
		french_euro_format()
	# Frappe alone keeps no default currency; the CPTS pays indemnities in euros.
	frappe.db.set_value("Currency", "EUR", "enabled", 1)
	frappe.db.set_default("currency", "EUR")
	set_home_workspace("Administrator")
	frappe.db.commit()


def french_euro_format() -> None:
	"""Amounts in euros written the French way, « 1 234,50 € » (Frappe's EUR record has « € 1,234.50 »)."""
	frappe.db.set_value("Currency", "EUR", {"number_format": "# ###,##", "symbol_on_right": 1})


def set_home_workspace(user: str) -> None:
	"""The first screen after login is the app's workspace."""
	if frappe.db.exists("Workspace", HOME_WORKSPACE) and frappe.db.exists("User", user):
		frappe.db.set_value("User", user, "default_workspace", HOME_WORKSPACE, update_modified=False)
