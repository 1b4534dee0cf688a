"""A desk for each role (issue 15 §10): a télésecrétaire, an accountant, a treasurer and a partner land on the
workspace of their work and their sidebar lists it alone, none of Frappe's own (Utilisateurs, Site Web, Outils,
Intégrations, Build); the coordinator and the System Manager keep everything. The sidebar is read as the desk
reads it (frappe.desk.desktop.get_workspace_sidebar_items over HTTP)."""

import frappe
import pytest

FRAPPE_WORKSPACES = {"Users", "Website", "Tools", "Integrations", "Build"}
APP_WORKSPACES = {
	"Soins non programmés",
	"Télésecrétariat",
	"Comptabilité SNP",
	"Partenaire",
	"Protection des données",
}


def sidebar(session, server) -> set[str]:
	response = session.get(f"{server}/api/method/frappe.desk.desktop.get_workspace_sidebar_items")
	assert response.ok, response.text
	return {page["name"] for page in response.json()["message"]["pages"]}


@pytest.mark.parametrize(
	"role, workspace",
	[
		("Télésecrétaire", "Télésecrétariat"),
		("Comptable CPTS", "Comptabilité SNP"),
		("Trésorier CPTS", "Comptabilité SNP"),
		("Partenaire SNP", "Partenaire"),
		("Délégué à la protection des données", "Protection des données"),
	],
)
def test_each_role_lands_on_its_workspace_and_sees_no_other(server, http_login, committed, role, workspace):
	user = committed.user([role])
	frappe.db.commit()
	assert frappe.db.get_value("User", user, "default_workspace") == workspace
	assert sidebar(http_login(user), server) == {workspace}


def test_an_accountant_who_is_also_treasurer_sees_the_accounting_workspace_once(
	server, http_login, committed
):
	user = committed.user(["Comptable CPTS", "Trésorier CPTS"])
	frappe.db.commit()
	assert sidebar(http_login(user), server) == {"Comptabilité SNP"}


@pytest.mark.parametrize(
	"roles", [["Coordinateur CPTS"], ["System Manager"], ["Télésecrétaire", "Coordinateur CPTS"]]
)
def test_the_coordination_and_system_managers_keep_every_workspace(server, http_login, committed, roles):
	user = committed.user(roles)
	frappe.db.commit()
	assert frappe.db.get_value("User", user, "default_workspace") == "Soins non programmés"
	assert sidebar(http_login(user), server) >= APP_WORKSPACES | FRAPPE_WORKSPACES


def test_a_telesecretaire_made_coordinator_gets_everything_back_and_back_again(server, http_login, committed):
	user = committed.user(["Télésecrétaire"])
	frappe.get_doc("User", user).add_roles("Coordinateur CPTS")
	frappe.db.commit()
	assert sidebar(http_login(user), server) >= APP_WORKSPACES | FRAPPE_WORKSPACES
	assert frappe.db.get_value("User", user, "default_workspace") == "Soins non programmés"
	frappe.get_doc("User", user).remove_roles("Coordinateur CPTS")
	frappe.db.commit()
	assert sidebar(http_login(user), server) == {"Télésecrétariat"}


def test_a_module_profile_chosen_by_the_system_manager_is_left_alone(committed):
	profile = frappe.get_doc(
		{
			"doctype": "Module Profile",
			"module_profile_name": f"Test profil {frappe.generate_hash(length=6)}",
			"block_modules": [{"module": "Website"}],
		}
	).insert()
	user = frappe.get_doc("User", committed.user(["Télésecrétaire"]))
	user.module_profile = profile.name
	user.save()
	assert user.get_blocked_modules() == ["Website"]


def test_the_role_workspaces_link_only_what_their_roles_read():
	for workspace, roles in {
		"Télésecrétariat": ["Télésecrétaire"],
		"Comptabilité SNP": ["Comptable CPTS", "Trésorier CPTS"],
		"Partenaire": ["Partenaire SNP"],
		"Protection des données": ["Délégué à la protection des données"],
	}.items():
		doc = frappe.get_doc("Workspace", workspace)
		doctypes = {link.link_to for link in doc.links if link.type == "Link" and link.link_type == "DocType"}
		doctypes |= {s.link_to for s in doc.shortcuts if s.type == "DocType"}
		for doctype in doctypes:
			readers = {p.role for p in frappe.get_meta(doctype).permissions if p.read}
			assert readers & set(roles), f"{workspace} links {doctype}, which {roles} cannot read"


def test_the_coordinations_workspace_links_every_list_and_report_of_the_cpts_and_each_opens():
	"""Soins non programmés: the coordinator's home links the lists and reports of every mission, the new ones too
	(patients, call-backs, « À replacer », messages, ACI indicators, RPPS directory and its imports, Data Import)."""
	doc = frappe.get_doc("Workspace", "Soins non programmés")
	links = {(link.link_type, link.link_to) for link in doc.links if link.type == "Link"}
	for expected in [
		("DocType", "SNP Patient"),
		("DocType", "SNP Callback"),
		("Report", "A replacer"),
		("DocType", "SNP Message Log"),
		("Report", "Indicateurs ACI"),
		("Report", "Ecarts annuaire RPPS"),
		("DocType", "SNP Directory Import"),
		("DocType", "Data Import"),
	]:
		assert expected in links, f"Soins non programmés does not link {expected}"
	coordinator = {"Coordinateur CPTS"}
	for link_type, target in links:
		if link_type == "DocType":
			readers = {p.role for p in frappe.get_meta(target).permissions if p.read}
			custom = set(frappe.get_all("Custom DocPerm", {"parent": target, "read": 1}, pluck="role"))
			assert (readers | custom) & coordinator, f"the coordination cannot open {target}"
		else:
			report = frappe.get_doc("Report", target)
			assert coordinator & {r.role for r in report.roles}, f"the coordination cannot run {target}"
	# the card of each link is drawn on the page
	cards = {b["data"]["card_name"] for b in frappe.parse_json(doc.content) if b["type"] == "card"}
	assert cards == {link.label for link in doc.links if link.type == "Card Break"}
