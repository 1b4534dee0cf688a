"""HTTP layer of the FHIR R4 facade for the SAS platform, under /fhir/ (a website page renderer: Frappe has
already authenticated the request, by session or by `Authorization: token key:secret`).

	GET  /fhir/metadata                                                  CapabilityStatement (no login needed)
	GET  /fhir/OperationDefinition/Appointment-cancel                    the definition of $cancel (no login)
	GET  /fhir/Slot?status=free&start=ge…&start=le…&schedule.actor:Practitioner.identifier=…
	     [&_include=Slot:schedule[&_include:iterate=Schedule:actor]]    searchset Bundle
	GET  /fhir/Appointment[?status=…&date=ge…&_id=…&slot=…]              the caller's bookings (searchset)
	GET  /fhir/Appointment/<id>                                          one of the caller's bookings
	POST /fhir/Appointment                                               books the slot (201, or 409 if taken)
	POST /fhir/Appointment/<id>/$cancel  (Parameters: reason)             cancels one of the caller's bookings

Answers are `application/fhir+json`; refusals are OperationOutcome resources with their real HTTP status
(400 malformed, 401 not authenticated, 403 forbidden, 404 unknown, 409 slot taken, 429 too many requests).
Only staff and users of an active partner may call it. Thin: parsing and mapping in cpts_snp.exports.fhir,
reads and rules in cpts_snp.services.partners, booking in cpts_snp.services.booking.book_slot.
"""

import frappe
from frappe import _
from frappe.utils import get_datetime, get_system_timezone, now_datetime
from frappe.website.page_renderers.base_renderer import BaseRenderer
from frappe.website.path_resolver import resolve_path
from werkzeug.routing import RequestRedirect
from werkzeug.wrappers import Response

from cpts_snp.exceptions import PartnerRateLimitError, SlotUnavailableError
from cpts_snp.exports import fhir
from cpts_snp.services import partners
from cpts_snp.services.booking import book_slot

PREFIX = "fhir"


def is_fhir_path(path: str) -> bool:
	return path == PREFIX or path.startswith(PREFIX + "/")


def resolve_website_path(path: str) -> str:
	"""hooks.website_path_resolver: a FHIR address is its own endpoint (the FHIR renderer takes it as it is);
	any other address goes through Frappe's resolver as without this hook. Frappe's resolver builds and compiles a
	werkzeug map of every app's route rules on each request (~2 ms of CPU), which FHIR clients need not pay."""
	if is_fhir_path(path):
		frappe.local.path = path
		return path
	try:
		return resolve_path(path)
	except RequestRedirect as e:
		# what Frappe's PathResolver answers when it calls its resolver itself
		frappe.flags.redirect_location = e.new_url
		raise frappe.Redirect(e.code) from e


class FHIRRenderer(BaseRenderer):
	def can_render(self):
		return is_fhir_path(self.path)

	def render(self):
		return handle(frappe.request.method, self.path.split("/")[1:])


def handle(method: str, parts: list[str]) -> Response:
	try:
		if method == "GET" and parts == ["metadata"]:
			# What the server offers is public: clients read it before they authenticate.
			return respond(capability())
		if method == "GET" and parts[:1] == ["OperationDefinition"]:
			return respond(operation_definition(parts[1:]))
		partner = partners.api_caller()
		return dispatch(method, parts, partner)
	except Exception as e:
		frappe.db.rollback()
		status, code = classify(e)
		if status == 500:
			frappe.log_error(title="FHIR facade")
			message = _("Internal error: the request could not be processed")
		else:
			message = getattr(e, "diagnostics", None) or str(e) or _("Not permitted")
		return respond(fhir.operation_outcome(message, code), status)


def classify(e: Exception) -> tuple[int, str]:
	if isinstance(e, fhir.FHIRRequestError):
		return e.status, e.code
	if isinstance(e, frappe.AuthenticationError):
		return 401, "login"
	if isinstance(e, PartnerRateLimitError):
		return 429, "throttled"
	if isinstance(e, frappe.PermissionError):
		return 403, "forbidden"
	if isinstance(e, SlotUnavailableError):
		return 409, "conflict"
	if isinstance(e, frappe.DoesNotExistError):
		return 404, "not-found"
	if isinstance(e, frappe.ValidationError):
		return 400, "invalid"
	return 500, "exception"


def dispatch(method: str, parts: list[str], partner) -> Response:
	resource = parts[0] if parts else ""
	if resource not in ("Slot", "Appointment"):
		raise fhir.FHIRRequestError(
			_("Unknown resource type {0}: this server offers Slot and Appointment").format(resource or "-"),
			404,
			"not-supported",
		)
	if resource == "Appointment" and len(parts) == 3 and parts[2] == "$cancel" and method == "POST":
		return cancel_appointment(parts[1], partner)
	if len(parts) > 2 or (resource == "Slot" and len(parts) > 1):
		raise fhir.FHIRRequestError(_("Unknown address {0}").format("/".join(parts)), 404, "not-found")
	if method == "GET" and resource == "Slot":
		return search_slots(partner)
	if method == "GET" and len(parts) == 2:
		return read_appointment(parts[1], partner)
	if method == "GET":
		return search_appointments(partner)
	if method == "POST" and resource == "Appointment" and len(parts) == 1:
		return create_appointment(partner)
	raise fhir.FHIRRequestError(_("Method {0} is not supported here").format(method), 405, "not-supported")


def capability() -> dict:
	return fhir.capability_statement(*publication())


def operation_definition(ids: list[str]) -> dict:
	"""The definitions the CapabilityStatement points to (public, as it is)."""
	if ids != [fhir.CANCEL_DEFINITION_ID]:
		raise fhir.FHIRRequestError(
			_("Unknown OperationDefinition {0}").format("/".join(ids) or "-"), 404, "not-found"
		)
	return fhir.cancel_operation_definition(*publication())


def publication() -> tuple:
	"""Where, which version and when this server's definitions were published (the app's installation or last
	update), and the timezone of its dates."""
	from cpts_snp import __version__

	published = (
		frappe.db.get_value("Installed Application", {"app_name": "cpts_snp"}, "modified") or now_datetime()
	)
	return base_url(), __version__, get_datetime(published), get_system_timezone()


def search_params() -> dict[str, list[str]]:
	args = frappe.request.args
	return {key: args.getlist(key) for key in args.keys()}


def base_url() -> str:
	return frappe.request.host_url.rstrip("/") + "/" + PREFIX


def search_slots(partner) -> Response:
	query = fhir.parse_slot_search(
		search_params(), get_system_timezone(), now_datetime(), partners.default_search_horizon()
	)
	professionals = partners.professionals_by_rpps(query.rpps)
	slots = partners.free_slots(list(professionals), query.start_from, query.start_to)
	bundle = fhir.slot_bundle(
		slots, professionals, query, base_url(), frappe.request.url, get_system_timezone()
	)
	log(partner, "Search slots", "Slot", len(slots))
	return respond(bundle)


def search_appointments(partner) -> Response:
	query = fhir.parse_appointment_search(search_params(), get_system_timezone())
	rows = partners.bookings(
		query.names, query.statuses, query.start_from, query.start_to, query.slot, limit=query.count or 0
	)
	log(partner, "Read bookings", "Appointment", len(rows))
	return respond(fhir.appointment_bundle(rows, base_url(), frappe.request.url, get_system_timezone()))


def read_appointment(name: str, partner) -> Response:
	rows = partners.bookings(names=[name]) if fhir.is_resource_id(name) else []
	if not rows:
		# Unknown, or another partner's: the answer is the same (no hint that it exists).
		raise fhir.FHIRRequestError(_("Appointment {0} not found").format(name), 404, "not-found")
	log(partner, "Read bookings", f"Appointment/{name}", 1)
	return respond(fhir.appointment(rows[0], get_system_timezone()))


def create_appointment(partner) -> Response:
	request = fhir.parse_appointment(frappe.request.get_data(), get_system_timezone())
	try:
		booking = book_slot(
			request.slot,
			request.patient,
			reason=request.reason,
			channel="Other",
			request={"requested_at": request.requested_at} if request.requested_at else None,
		)
	except (frappe.ValidationError, frappe.PermissionError, frappe.DoesNotExistError) as e:
		frappe.db.rollback()
		if partner:
			partners.log_access("Booking refused", f"Slot/{request.slot}", str(e)[:500], 0, partner.name)
			frappe.db.commit()
		raise
	row = partners.bookings(names=[booking.name])[0]
	resource = fhir.appointment(row, get_system_timezone())
	return respond(resource, 201, {"Location": f"{base_url()}/Appointment/{booking.name}"})


def cancel_appointment(name: str, partner) -> Response:
	reason = fhir.parse_cancel_reason(frappe.request.get_data())
	booking = partners.cancel_booking(name, reason, partner)
	log(partner, "Booking cancelled", f"Appointment/{booking.name}", 1)
	row = partners.bookings(names=[booking.name])[0]
	return respond(fhir.appointment(row, get_system_timezone()))


def log(partner, action: str, resource: str, count: int) -> None:
	if not partner:
		return
	partners.log_access(action, resource, frappe.request.query_string.decode(), count, partner.name)
	frappe.local.flags.commit = True  # a GET is rolled back otherwise


def respond(resource: dict, status: int = 200, headers: dict | None = None) -> Response:
	return Response(
		fhir.to_json(resource),
		status=status,
		headers=headers,
		content_type=f"{fhir.FHIR_JSON}; charset=utf-8",
	)
