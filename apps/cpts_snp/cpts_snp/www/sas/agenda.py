"""/sas/agenda/<professional>: the agenda page of one doctor the SAS platform sends its regulators to (the URL of
`Slot.comment`, cpts_snp.services.sas_booking.agenda_url). Step 1: the doctor and his free slots; step 2
(`?creneau=<slot>`): the patient form, posted to cpts_snp.api.sas_booking.book; then the confirmation
(`?rdv=<booking>`). `origin=sas` travels with every step: without it the agenda is read-only."""

from urllib.parse import quote

import frappe
from frappe import _
from frappe.sessions import get_csrf_token

from cpts_snp.services import partners, sas_booking

no_cache = 1


def get_context(context):
	context.no_cache = 1
	context.show_sidebar = False
	context.title = _("Book an appointment")
	args = frappe.form_dict
	professional, origin = args.get("professional") or "", args.get("origin") or ""
	if frappe.session.user == "Guest":
		# back here after the login (password or Pro Santé Connect), `origin` kept
		frappe.local.flags.redirect_location = "/login?redirect-to=" + quote(
			frappe.request.full_path, safe=""
		)
		# 302: a login redirect is not permanent (a browser keeps a 301)
		raise frappe.Redirect(302)
	try:
		who = sas_booking.caller(origin)
		context.doctor = sas_booking.professional_of_page(professional)
	except frappe.DoesNotExistError as error:
		return refuse(context, str(error), 404)
	except frappe.PermissionError as error:
		return refuse(context, str(error) or _("This page is reserved to the partners of the CPTS"), 403)
	except frappe.ValidationError as error:  # too many requests
		return refuse(context, str(error), 429)
	frappe.local.message_log = []
	# the form's CSRF token (snp_base.html): Frappe checks it only once the session holds one, which a session
	# opened by a password or Pro Santé Connect login does not until a page asks for it
	get_csrf_token()
	context.origin = origin if sas_booking.is_from_sas(origin) else ""
	context.can_book = who.can_book
	context.notice = who.notice
	context.agenda_path = sas_booking.agenda_path(professional, context.origin)
	context.title = _("Agenda of Dr {0}").format(context.doctor.full_name)

	if args.get("rdv"):
		context.booking = sas_booking.page_booking(professional, args.get("rdv"))
		if context.booking and who.partner:
			partners.log_access(
				"Read bookings", f"SNP Booking/{context.booking.name}", {}, 1, who.partner.name
			)
			frappe.local.flags.commit = True
		if context.booking:
			return
	if args.get("creneau") and who.can_book:
		try:
			slot = sas_booking.slot_of_page(professional, args.get("creneau"))
			sas_booking.ensure_bookable(slot)
			context.slot = slot
		except (frappe.DoesNotExistError, frappe.ValidationError) as error:
			context.slot_error = str(error)
		frappe.local.message_log = []
	context.slots = [
		slot for slot in sas_booking.free_slots(professional) if slot.name != (context.slot or {}).get("name")
	]
	for slot in context.slots:
		slot.choose_path = sas_booking.agenda_path(professional, context.origin, creneau=slot.name)
	if who.partner:
		params = {"professional": professional, "origin": context.origin}
		partners.log_access("Search slots", "SNP Slot", params, len(context.slots), who.partner.name)
		frappe.local.flags.commit = True


def refuse(context, message: str, status: int):
	frappe.local.message_log = []
	context.refusal = message
	context.http_status_code = status
