"""Web-layer helpers of the doctors' portal pages (www/snp): login redirect, navigation, page context."""

import frappe
from frappe import _

from cpts_snp.services.portal import current_professional


def navigation() -> list[tuple[str, str]]:
	return [
		("/snp", _("Home")),
		("/snp/creneaux", _("My slots")),
		("/snp/rendez-vous", _("My appointments")),
		("/snp/absences", _("My absences")),
		("/snp/reunions", _("My meetings")),
		("/snp/indemnites", _("My indemnities")),
		("/snp/profil", _("My profile")),
	]


def page_context(context, path: str, title: str) -> str:
	"""Fill the shared context of a portal page and return the doctor's professional.

	Guests are sent to the portal's light login page /snp/connexion (and back here after it); other users get a 403 page."""
	context.no_cache = 1
	context.show_sidebar = False
	if frappe.session.user == "Guest":
		frappe.local.flags.redirect_location = f"/snp/connexion?redirect-to={path}"
		# 302: a login redirect is not permanent (a browser keeps a 301)
		raise frappe.Redirect(302)
	professional = current_professional()
	context.professional = frappe.get_doc("SNP Professional", professional)
	context.nav = [{"route": route, "label": label, "active": route == path} for route, label in navigation()]
	context.title = dict(navigation()).get(path, title) if path != "/snp" else _("My SNP space")
	return professional
