"""A desk for each role (issue 15 §10): the workspace a desk user lands on and the modules his sidebar shows.

A télésecrétaire, an accountant or treasurer and a partner see their own workspace and none of Frappe's
(Utilisateurs, Site Web, Outils, Intégrations, Build): the app sets their User's « default workspace » and
« blocked modules » (Frappe's own fields, read by frappe.desk.desktop.get_workspace_sidebar_items) each time the
user is saved, so on creation and on every change of roles. The coordination and the System Managers keep
everything. Blocked modules only shape the sidebar: what a user may read or write is still his roles' business
(cpts_snp.permissions)."""

import frappe

from cpts_snp.setup.install import HOME_WORKSPACE

# Roles that see every workspace (and land on the app's main one).
FULL_DESK_ROLES = ("Administrator", "System Manager", "Coordinateur CPTS")

# Role -> (its workspace, the modules whose workspaces it sees), in order of precedence for the landing page.
ROLE_DESKS = {
	"Télésecrétaire": ("Télésecrétariat", ("Telesecretariat",)),
	"Comptable CPTS": ("Comptabilité SNP", ("Indemnities",)),
	"Trésorier CPTS": ("Comptabilité SNP", ("Indemnities",)),
	"Partenaire SNP": ("Partenaire", ("Partners",)),
	"Délégué à la protection des données": ("Protection des données", ("Privacy",)),
}
ROLE_WORKSPACES = {workspace for workspace, _modules in ROLE_DESKS.values()}


def desk_of(roles) -> tuple[str | None, set[str] | None]:
	"""(landing workspace, modules shown) for a user with `roles`; (HOME_WORKSPACE, None) when he sees
	everything, (None, None) when the app has no desk for him."""
	roles = set(roles)
	if roles & set(FULL_DESK_ROLES):
		return HOME_WORKSPACE, None
	desks = [ROLE_DESKS[role] for role in ROLE_DESKS if role in roles]
	if not desks:
		return None, None
	return desks[0][0], {module for _workspace, modules in desks for module in modules}


def apply_role_desk(user, method=None) -> None:
	"""User validate: the landing workspace and the sidebar's modules follow the user's roles."""
	if user.user_type != "System User" or user.name in ("Administrator", "Guest"):
		return
	workspace, modules = desk_of(role.role for role in user.get("roles"))
	if workspace is None:
		return
	if modules is None:
		if user.default_workspace in ROLE_WORKSPACES:
			# promoted to a full desk: what the app had restricted is given back
			user.set("block_modules", [])
			user.default_workspace = None
		if not user.default_workspace and frappe.db.exists("Workspace", workspace):
			user.default_workspace = workspace
		return
	if user.module_profile:
		return  # the System Manager chose a Module Profile for this user: his choice stands
	blocked = sorted(set(frappe.get_all("Module Def", pluck="name")) - modules)
	user.set("block_modules", [{"module": module} for module in blocked])
	if frappe.db.exists("Workspace", workspace):
		user.default_workspace = workspace


def home_workspace(roles) -> str:
	"""Where a desk user with `roles` lands (the demo's users, the install's Administrator)."""
	return desk_of(roles)[0] or HOME_WORKSPACE
