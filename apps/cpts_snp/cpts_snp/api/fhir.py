"""HTTP layer of the FHIR R4 facade for the SAS platform (guide ans.fhir.fr.sas 1.2.0), a website page renderer
of the app: Frappe has already authenticated the request (session, `Authorization: token key:secret`, or the SAS
platform's client certificate verified by the TLS proxy, cpts_snp.services.client_certificates).

Two bases, one per flow of the guide:

	/fhir      INT_R04, the slots the CPTS offers (CapabilityStatement SAS-GestionnaireAgenda-CPTS)
	/fhir/ps   INT_R01, the slots of practitioners who share them individually (SAS-GestionnaireAgenda-PsIndiv)

	GET  [base]/metadata                                       CapabilityStatement (no login needed)
	GET  [base]/Slot?status=free&start=ge…&start=le…&schedule.actor:Practitioner.identifier=…
	     [&_include=Slot:schedule&_include:iterate=Schedule:actor]
	     [&_include=Slot:service-type-reference&_include:iterate=HealthcareService:organization]  (CPTS)
	     [&_count=…]                                           searchset Bundle (next link when _count cuts)
	GET  [base]/Slot/<id>, Schedule/<id>, PractitionerRole/<id>, Practitioner/<id>
	GET  [base]/Schedule?actor=Practitioner/<id>, [base]/Practitioner?identifier=urn:oid:1.2.250.1.71.4.2.1|8…
	GET  /fhir/HealthcareService/cpts, /fhir/Organization/cpts (CPTS flow)

INT_R02, the regulators' accounts the SAS platform manages (profile FrPractitionerRegul), on both bases, for
the users of an active SAS / SAMU partner only (cpts_snp.services.sas_regulators):

	POST [base]/Practitioner                                   creates the account (201, or 200 if known)
	PUT  [base]/Practitioner?identifier=system|value           updates it, creates it when unknown (200 / 201)
	GET  [base]/Practitioner/regul-<id>                        the account as stored (the Location answered)

and, the CPTS's own extension (not in the guide), on /fhir:

	GET  /fhir/OperationDefinition/Appointment-cancel                    the definition of $cancel (no login)
	GET  /fhir/Appointment[?status=…&date=ge…&_id=…&slot=…]              the caller's bookings (searchset)
	GET  /fhir/Appointment/<id>                                          one of the caller's bookings
	POST /fhir/Appointment                                               books the slot (201, or 409 if taken)
	POST /fhir/Appointment/<id>/$cancel  (Parameters: reason)             cancels one of the caller's bookings

Answers are `application/fhir+json`; refusals are OperationOutcome resources with their real HTTP status
(400 malformed, 401 not authenticated, 403 forbidden, 404 unknown, 406 format, 409 slot taken, 422 business
rule, 429 too many requests, 503 not configured). Only staff and users of an active partner may call it. Thin:
parsing and mapping in cpts_snp.exports.fhir, reads in cpts_snp.services.sas_directory and
cpts_snp.services.partners, booking in cpts_snp.services.booking.book_slot.
"""

import json
from functools import lru_cache

import frappe
from frappe import _
from frappe.utils import get_datetime, get_system_timezone, now_datetime
from frappe.website.page_renderers.base_renderer import BaseRenderer
from werkzeug.wrappers import Response

from cpts_snp.exceptions import PartnerRateLimitError, SlotUnavailableError
from cpts_snp.exports import fhir
from cpts_snp.services import partners, sas_directory, sas_regulators
from cpts_snp.services.booking import book_slot
from cpts_snp.services.sas_booking import agenda_url

PREFIX = "fhir"
FLOW_PREFIXES = {fhir.PS_FLOW: fhir.PS_FLOW}  # /fhir/ps/… ; /fhir/… is the CPTS flow
DIRECTORY_TYPES = {"Slot", "Schedule", "Practitioner", "PractitionerRole"}
CPTS_TYPES = DIRECTORY_TYPES | {"HealthcareService", "Organization", "Appointment"}


def is_fhir_path(path: str) -> bool:
	return path == PREFIX or path.startswith(PREFIX + "/")


class FHIRRenderer(BaseRenderer):
	"""hooks.page_renderer: Frappe's path resolver offers it every website address; it takes /fhir and below."""

	def can_render(self):
		return is_fhir_path(self.path)

	def render(self):
		return handle(frappe.request.method, self.path.split("/")[1:])


def serve_put() -> None:
	"""hooks.before_request: Frappe hands page renderers GET, HEAD and POST only (any other method outside /api is
	404), so a PUT to the facade (the conditional update of a regulator account) is served here. Frappe has
	resolved the session; the API token is checked as Frappe does next (validate_auth). What it wrote is
	committed as Frappe commits a POST, and the answer goes back through an HTTPException carrying it (Frappe
	returns it as is)."""
	from frappe.auth import validate_auth
	from werkzeug.exceptions import HTTPException

	request = frappe.request
	path = (request.path if request else "").strip("/")
	if not request or request.method != "PUT" or not is_fhir_path(path):
		return
	try:
		validate_auth()
	except frappe.AuthenticationError:
		frappe.db.rollback()
		response = respond(fhir.operation_outcome(_("Not permitted"), "login"), 401)
	else:
		response = handle("PUT", path.split("/")[1:])
		if response.status_code < 400:
			frappe.db.commit()
	raise HTTPException(response=response)


def handle(method: str, parts: list[str]) -> Response:
	flow = fhir.CPTS_FLOW
	if parts[:1] == [fhir.PS_FLOW]:
		flow, parts = fhir.PS_FLOW, parts[1:]
	try:
		if method == "GET" and parts == ["metadata"]:
			# What the server offers is public: clients read it before they authenticate.
			fhir.check_format(search_params())
			return respond(capability(flow))
		if method == "GET" and parts[:1] == ["OperationDefinition"] and flow == fhir.CPTS_FLOW:
			return respond(operation_definition(parts[1:]))
		partner = partners.api_caller()
		return dispatch(method, parts, partner, flow)
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
	if isinstance(e, fhir.FHIRRequestError | sas_regulators.RegulatorError):
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


def dispatch(method: str, parts: list[str], partner, flow: str) -> Response:
	resource = parts[0] if parts else ""
	offered = CPTS_TYPES if flow == fhir.CPTS_FLOW else DIRECTORY_TYPES
	if resource not in offered:
		raise fhir.FHIRRequestError(
			_("Unknown resource type {0}: this server offers {1}").format(
				resource or "-", ", ".join(sorted(offered))
			),
			404,
			"not-supported",
		)
	if resource == "Appointment":
		return dispatch_appointment(method, parts, partner)
	if resource == "Practitioner" and method in ("POST", "PUT"):
		return write_regulator(method, parts, partner, flow)
	if method != "GET":
		raise fhir.FHIRRequestError(
			_("Method {0} is not supported here").format(method), 405, "not-supported"
		)
	if len(parts) > 2:
		raise fhir.FHIRRequestError(_("Unknown address {0}").format("/".join(parts)), 404, "not-found")
	if len(parts) == 2:
		if resource == "Practitioner" and parts[1].startswith(sas_regulators.ID_PREFIX):
			return read_regulator(parts[1], partner)
		return read(resource, parts[1], flow)
	if resource == "Slot":
		return search_slots(partner, flow)
	if resource == "Practitioner":
		return search_practitioners(flow)
	if resource == "Schedule":
		return search_schedules(flow)
	raise fhir.FHIRRequestError(
		_("{0} can only be read by its id here").format(resource), 405, "not-supported"
	)


def dispatch_appointment(method: str, parts: list[str], partner) -> Response:
	if len(parts) == 3 and parts[2] == "$cancel" and method == "POST":
		return cancel_appointment(parts[1], partner)
	if len(parts) > 2:
		raise fhir.FHIRRequestError(_("Unknown address {0}").format("/".join(parts)), 404, "not-found")
	if method == "GET" and len(parts) == 2:
		return read_appointment(parts[1], partner)
	if method == "GET":
		return search_appointments(partner)
	if method == "POST" and len(parts) == 1:
		return create_appointment(partner)
	raise fhir.FHIRRequestError(_("Method {0} is not supported here").format(method), 405, "not-supported")


def capability(flow: str) -> dict:
	return fhir.capability_statement(*publication(flow), flow=flow)


def operation_definition(ids: list[str]) -> dict:
	"""The definitions the CapabilityStatement points to (public, as it is)."""
	if ids != [fhir.CANCEL_DEFINITION_ID]:
		raise fhir.FHIRRequestError(
			_("Unknown OperationDefinition {0}").format("/".join(ids) or "-"), 404, "not-found"
		)
	return fhir.cancel_operation_definition(*publication(fhir.CPTS_FLOW))


def publication(flow: str) -> tuple:
	"""Where, which version and when this server's definitions were published (the app's installation or last
	update), and the timezone of its dates."""
	from cpts_snp import __version__

	published = (
		frappe.db.get_value("Installed Application", {"app_name": "cpts_snp"}, "modified") or now_datetime()
	)
	return base_url(flow), __version__, get_datetime(published), get_system_timezone()


def search_params() -> dict[str, list[str]]:
	args = frappe.request.args
	return {key: args.getlist(key) for key in args.keys()}


def strict_handling() -> bool:
	"""FHIR's `Prefer: handling=strict`: unknown search parameters are then refused instead of ignored."""
	prefer = frappe.request.headers.get("Prefer") or ""
	return "handling=strict" in prefer.replace(" ", "").lower()


def base_url(flow: str = fhir.CPTS_FLOW) -> str:
	base = frappe.request.host_url.rstrip("/") + "/" + PREFIX
	return f"{base}/{fhir.PS_FLOW}" if flow == fhir.PS_FLOW else base


def request_url() -> str:
	"""The address the client asked, as it sent it (no decoding and re-encoding of its query)."""
	query = frappe.request.query_string.decode()
	return frappe.request.base_url + (f"?{query}" if query else "")


def cpts_identity(flow: str) -> dict:
	identity = sas_directory.cpts_identity()
	if flow == fhir.CPTS_FLOW and not identity["finess"]:
		raise fhir.FHIRRequestError(
			_("The CPTS's FINESS is not set in SNP Settings: the SAS interface is not configured yet"),
			503,
			"exception",
		)
	return identity


def search_slots(partner, flow: str) -> Response:
	query = fhir.parse_slot_search(
		search_params(),
		get_system_timezone(),
		now_datetime(),
		partners.default_search_horizon(),
		flow,
		strict_handling(),
	)
	cpts = cpts_identity(flow)
	slots, places, directory = [], {}, {}
	if not query.empty:
		directory = sas_directory.professionals(query.rpps, query.adeli, individual_only=flow == fhir.PS_FLOW)
		slots, places = sas_directory.published_slots(directory, query.start_from, query.start_to)
	bundle = fhir.slot_bundle(
		slots,
		directory,
		places,
		cpts,
		query,
		base_url(flow),
		request_url(),
		get_system_timezone(),
		lru_cache(agenda_url),
		flow,
	)
	log(partner, "Search slots", "Slot", len(slots))
	return respond(bundle)


def read(resource: str, resource_id: str, flow: str) -> Response:
	found = read_resource(resource, resource_id, flow) if fhir.is_resource_id(resource_id) else None
	if not found:
		raise fhir.FHIRRequestError(_("{0} {1} not found").format(resource, resource_id), 404, "not-found")
	return respond(found)


def read_resource(resource: str, resource_id: str, flow: str) -> dict | None:
	"""One resource as the search publishes it, or None (unknown, not published, or not of this flow)."""
	individual_only = flow == fhir.PS_FLOW
	timezone = get_system_timezone()
	if resource in ("HealthcareService", "Organization"):
		if resource_id != fhir.SERVICE_ID:
			return None
		cpts = cpts_identity(flow)
		return fhir.healthcare_service(cpts) if resource == "HealthcareService" else fhir.organization(cpts)
	if resource == "Practitioner":
		pro = sas_directory.professionals(names=[resource_id], individual_only=individual_only)
		return fhir.practitioner(pro[resource_id]) if pro else None
	if resource == "Slot":
		row = frappe.db.get_value(
			"SNP Slot",
			{"name": resource_id, "status": "Available", "starts_at": (">=", now_datetime())},
			["professional", "starts_at"],
			as_dict=True,
		)
		if not row:
			return None
		directory = sas_directory.professionals(names=[row.professional], individual_only=individual_only)
		slots, _places = sas_directory.published_slots(directory, row.starts_at, row.starts_at)
		slot = next((s for s in slots if s.name == resource_id), None)
		if not slot:
			return None
		return fhir.slot(slot, directory[slot.professional], flow, timezone, agenda_url(slot.professional))
	# Schedule and PractitionerRole: one per practitioner and place of practice
	key = fhir.split_role_id(resource_id)
	if not key:
		return None
	professional, place = key
	directory = sas_directory.professionals(names=[professional], individual_only=individual_only)
	if not directory or place not in sas_directory.professional_places(professional):
		return None
	place_row = sas_directory.places([place])[place]
	if resource == "Schedule":
		return fhir.schedule(directory[professional], place_row)
	return fhir.practitioner_role(directory[professional], place_row, base_url(flow))


def search_practitioners(flow: str) -> Response:
	"""`Practitioner?identifier=urn:oid:1.2.250.1.71.4.2.1|8…` (the guide's CapabilityStatements)."""
	params = search_params()
	fhir.check_known(params, {"identifier", "_count"}, strict_handling())
	rpps, adeli = fhir.parse_practitioners(params.get("identifier") or [])
	directory = sas_directory.professionals(rpps, adeli, individual_only=flow == fhir.PS_FLOW)
	resources = [fhir.practitioner(pro) for pro in directory.values()]
	return respond(fhir.resource_bundle(resources, base_url(flow), request_url()))


def search_schedules(flow: str) -> Response:
	"""`Schedule?actor=Practitioner/<id>` or `actor=PractitionerRole/<id>`: the practitioner's agendas, one per
	place of practice."""
	params = search_params()
	fhir.check_known(params, {"actor", "_count"}, strict_handling())
	schedules = []
	for value in params.get("actor") or []:
		for reference in value.split(","):
			kind, _sep, resource_id = reference.strip().rpartition("/")
			professional = resource_id
			if kind == "PractitionerRole":
				professional = (fhir.split_role_id(resource_id) or ("",))[0]
			elif kind not in ("Practitioner", ""):
				continue
			directory = sas_directory.professionals(
				names=[professional], individual_only=flow == fhir.PS_FLOW
			)
			if not directory:
				continue
			names = sas_directory.professional_places(professional)
			found = sas_directory.places(names)
			for place in names:
				if kind != "PractitionerRole" or fhir.role_id(professional, place) == resource_id:
					schedules.append(fhir.schedule(directory[professional], found[place]))
	return respond(fhir.resource_bundle(schedules, base_url(flow), request_url()))


def search_appointments(partner) -> Response:
	query = fhir.parse_appointment_search(search_params(), get_system_timezone())
	rows = partners.bookings(
		query.names, query.statuses, query.start_from, query.start_to, query.slot, limit=query.count or 0
	)
	log(partner, "Read bookings", "Appointment", len(rows))
	return respond(fhir.appointment_bundle(rows, base_url(), request_url(), get_system_timezone()))


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
			request={
				**({"requested_at": request.requested_at} if request.requested_at else {}),
				**request.questions,
			},
		)
		if request.operator:
			# the regulator named by the platform (appointmentOperator), reported back with the booking (INT_R03)
			booking.db_set(request.operator, update_modified=False)
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


def ensure_regulation(partner) -> None:
	"""Regulators' accounts are the SAS platform's: only a user of an active SAS / SAMU partner manages them,
	and not a regulator account the platform itself created, nor one it disabled."""
	if not partner or partner.partner_type not in partners.REGULATED_TYPES:
		frappe.throw(
			_("The regulators' accounts are managed by the SAS platform only"), frappe.PermissionError
		)
	caller = frappe.db.get_value(
		"SNP Partner User",
		{"parenttype": "SNP Partner", "parent": partner.name, "user": frappe.session.user},
		["active", "sas_managed"],
		as_dict=True,
	)
	if not caller or caller.sas_managed or not caller.active:
		frappe.throw(
			_("The regulators' accounts are managed by the SAS platform only"), frappe.PermissionError
		)


def write_regulator(method: str, parts: list[str], partner, flow: str) -> Response:
	"""INT_R02: `POST [base]/Practitioner` (create; a known identifier updates) and the conditional update
	`PUT [base]/Practitioner?identifier=system|value` (an unknown one creates)."""
	ensure_regulation(partner)
	if len(parts) != 1:
		raise fhir.FHIRRequestError(
			_(
				"A regulator account is updated by its identifier: PUT [base]/Practitioner?identifier=system|value"
			),
			405,
			"not-supported",
		)
	params = search_params()
	fhir.check_format(params)
	match = None
	if method == "PUT":
		values = params.get("identifier") or []
		if len(values) != 1:
			raise fhir.FHIRRequestError(
				_("Give one identifier: PUT [base]/Practitioner?identifier=system|value"), 400, "invalid"
			)
		match = sas_regulators.parse_match(values[0])
	try:
		try:
			resource = json.loads(frappe.request.get_data() or b"")
		except ValueError:
			raise fhir.FHIRRequestError(_("The body is not valid JSON"), 400, "invalid") from None
		row, created = sas_regulators.upsert(resource, partner, match)
	except (fhir.FHIRRequestError, frappe.ValidationError, frappe.PermissionError) as e:
		frappe.db.rollback()
		partners.log_access(
			"Regulator account refused",
			"Practitioner",
			str(getattr(e, "diagnostics", e))[:500],
			0,
			partner.name,
		)
		frappe.db.commit()
		raise
	resource_id = sas_regulators.practitioner_id(row.name)
	log(partner, "Regulator account", f"Practitioner/{resource_id}", 1)
	return respond(
		sas_regulators.practitioner(row),
		201 if created else 200,
		{"Location": f"{base_url(flow)}/Practitioner/{resource_id}"},
	)


def read_regulator(resource_id: str, partner) -> Response:
	"""A regulator account of the caller's SAS / SAMU partner, as stored; « not found » for anyone else."""
	row = None
	if partner and partner.partner_type in partners.REGULATED_TYPES and fhir.is_resource_id(resource_id):
		row = sas_regulators.row_of(partner, resource_id)
	if not row:
		raise fhir.FHIRRequestError(
			_("{0} {1} not found").format("Practitioner", resource_id), 404, "not-found"
		)
	return respond(sas_regulators.practitioner(row))


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
