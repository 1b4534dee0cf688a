"""The site a user logs into: French, Paris time, the app's workspace first, roles as the CPTS expects."""

import frappe
import requests
from cpts_snp.setup.install import HOME_WORKSPACE


def test_the_setup_wizard_is_completed_in_french():
	settings = frappe.get_single("System Settings")
	assert settings.setup_complete
	assert (settings.language, settings.time_zone) == ("fr", "Europe/Paris")
	assert frappe.db.get_default("currency") == "EUR"


def test_the_first_screen_is_the_snp_workspace():
	assert frappe.db.exists("Workspace", HOME_WORKSPACE)
	assert frappe.db.get_value("User", "Administrator", "default_workspace") == HOME_WORKSPACE


def test_doctors_are_website_users_and_staff_use_the_desk():
	assert frappe.db.get_value("Role", "Médecin SNP", "desk_access") == 0
	assert frappe.db.get_value("Role", "Coordinateur CPTS", "desk_access") == 1
	assert frappe.db.get_value("Role", "Télésecrétaire", "desk_access") == 1


def test_the_login_page_and_the_desk_answer(server):
	assert requests.get(f"{server}/login", timeout=30).ok
	session = requests.Session()
	admin_password = frappe.conf.admin_password or "admin"
	assert session.post(f"{server}/api/method/login", data={"usr": "Administrator", "pwd": admin_password}).ok
	desk = session.get(f"{server}/app/snp-slot", timeout=30)
	assert desk.ok and "frappe.boot" in desk.text
