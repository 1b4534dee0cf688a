"""Demo territorial partners (idempotent): the SAS regulation of Loire-Atlantique, which books, and the
emergency department of the CHU de Nantes, which only sees the free slots.

	bench --site cpts.localhost execute cpts_snp.demo.partners.load
"""

import frappe
from frappe.utils.password import update_password

from cpts_snp.demo.loader import DEMO_PASSWORD
from cpts_snp.services.partners import PARTNER_ROLE

PARTNERS = [
	{
		"partner_name": "SAS 44 – SAMU de Loire-Atlantique",
		"partner_type": "SAS / SAMU",
		"access_level": "Book",
		"finess": "440000289",
		"contact_name": "Régulation SAS 44",
		"contact_phone": "02 40 08 37 77",
		"users": [("sas44@cpts-demo.fr", "Régulation", "SAS 44")],
	},
	{
		"partner_name": "Urgences CHU de Nantes",
		"partner_type": "Emergency department",
		"access_level": "View availability",
		"finess": "440000289",
		"contact_name": "Accueil des urgences adultes",
		"contact_phone": "02 40 08 38 95",
		"users": [("urgences.chu@cpts-demo.fr", "Urgences", "CHU de Nantes")],
	},
]


def load(commit: bool = True):
	frappe.flags.mute_emails = True
	for values in PARTNERS:
		users = [ensure_partner_user(*user) for user in values["users"]]
		if frappe.db.exists("SNP Partner", values["partner_name"]):
			continue
		partner = frappe.get_doc(
			{"doctype": "SNP Partner", **{k: v for k, v in values.items() if k != "users"}}
		)
		for user in users:
			partner.append("users", {"user": user})
		partner.insert()
	if commit:
		frappe.db.commit()


def ensure_partner_user(email: str, first_name: str, last_name: str) -> str:
	if not frappe.db.exists("User", email):
		user = frappe.get_doc(
			{
				"doctype": "User",
				"email": email,
				"first_name": first_name,
				"last_name": last_name,
				"send_welcome_email": 0,
				"language": "fr",
				"user_type": "System User",
			}
		).insert()
		user.add_roles(PARTNER_ROLE)
		update_password(email, DEMO_PASSWORD)
	return email
