"""HL7 FHIR R4 facade of the shared agenda for the national SAS platform (implementation guide « Service
d'Accès aux Soins », package ans.fhir.fr.sas, built on the CI-SIS shared-agenda guide).

Pure mapping, no database and no request: search parameters in, typed queries out; slots, professionals and
bookings (already read by the caller, as dicts) in, FHIR resources out. What partners send (an Appointment to
book) is parsed and validated with `fhir.resources` (its R4B package: the same shapes as R4 for Slot, Schedule,
Practitioner, PractitionerRole, Appointment, Bundle and OperationOutcome). Answers are built as plain dicts in
those shapes and serialised by `to_json`: the tests validate them with the same models, which would cost more
than the whole rest of a search at run time (about 30 ms for 25 practitioners over two days).

Search flow of the SAS guide (CPTS agenda): the platform asks, for 1 to 25 practitioners at a time,

	GET /fhir/Slot?status=free&start=ge2026-12-01T08:00:00+01:00&start=le2026-12-02T20:00:00+01:00
		&schedule.actor:Practitioner.identifier=urn:oid:1.2.250.1.71.4.2.1|810001234567,…
		&_include=Slot:schedule&_include:iterate=Schedule:actor

and gets a `searchset` Bundle: the matching Slots, then (included) one Schedule per practitioner role and
place, its PractitionerRole and its Practitioner.
"""

import hashlib
import json
import re
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from fhir.resources.R4B.appointment import Appointment
from fhir.resources.R4B.parameters import Parameters
from frappe import _
from pydantic import ValidationError

FHIR_JSON = "application/fhir+json"
# RPPS number of a health professional, as his national identifier (IDNPS = "8" + RPPS).
RPPS_SYSTEM = "urn:oid:1.2.250.1.71.4.2.1"
IDNPS_PREFIX = "8"
# Slot types of the SAS guide (nomenclature TRE_R314), carried in Slot.meta.security.
SLOT_TYPE_SYSTEM = "https://mos.esante.gouv.fr/NOS/TRE_R314-TypeCreneau/FHIR/TRE-R314-TypeCreneau"
SLOT_TYPES = ("SNP", "CPTS")
ACT_CODE_SYSTEM = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
MODALITY_CODES = {
	"Office": ("AMB", "ambulatory"),
	"Home visit": ("HH", "home health"),
	"Teleconsultation": ("VR", "virtual"),
}
PROFESSION_SYSTEM = "https://mos.esante.gouv.fr/NOS/TRE_G15-ProfessionSante/FHIR/TRE-G15-ProfessionSante"
PROFESSION_CODES = {
	"General practitioner": ("10", "Médecin"),
	"Specialist physician": ("10", "Médecin"),
	"SASPAS intern": ("10", "Médecin"),
	"Nurse": ("60", "Infirmier"),
	"Pharmacist": ("21", "Pharmacien"),
}
SPECIALTY_SYSTEM = "https://mos.esante.gouv.fr/NOS/TRE_R38-SpecialiteOrdinale/FHIR/TRE-R38-SpecialiteOrdinale"
GENERAL_PRACTICE = ("SM54", "Médecine générale")
APPOINTMENT_STATUS = {
	"Booked": "booked",
	"Honoured": "fulfilled",
	"No-show": "noshow",
	"Cancelled": "cancelled",
}

PRACTITIONER_PARAM = "schedule.actor:Practitioner.identifier"
CANCEL_OPERATION = "cancel"
CANCEL_DEFINITION_ID = "Appointment-cancel"
SLOT_PARAMS = {"status", "start", PRACTITIONER_PARAM, "_include", "_include:iterate", "_count"}
APPOINTMENT_PARAMS = {"_id", "status", "date", "slot", "_count"}
MAX_PRACTITIONERS = 25
MAX_RANGE = timedelta(days=31)
MAX_COUNT = 1000
DATE_PREFIXES = ("ge", "gt", "le", "lt", "eq")
FHIR_DATETIME = re.compile(
	r"(?P<date>\d{4}-\d{2}-\d{2})"
	r"(?:T(?P<time>\d{2}:\d{2}(?::\d{2}(?:\.\d{1,6})?)?)(?P<tz>Z|[+-]\d{2}:\d{2})?)?"
)
RESOURCE_ID = re.compile(r"[A-Za-z0-9\-.]{1,64}")


class FHIRRequestError(Exception):
	"""A request the facade refuses: answered as an OperationOutcome with `status` (HTTP) and `code`
	(FHIR issue type), `diagnostics` in French."""

	def __init__(self, diagnostics: str, status: int = 400, code: str = "invalid"):
		super().__init__(diagnostics)
		self.diagnostics = diagnostics
		self.status = status
		self.code = code


@dataclass
class SlotQuery:
	rpps: list[str]
	start_from: datetime
	start_to: datetime
	include_schedules: bool = False
	include_actors: bool = False
	count: int | None = None


@dataclass
class AppointmentQuery:
	names: list[str] = field(default_factory=list)
	statuses: list[str] = field(default_factory=list)
	start_from: datetime | None = None
	start_to: datetime | None = None
	slot: str | None = None
	count: int | None = None


@dataclass
class AppointmentRequest:
	slot: str
	patient: dict
	reason: str | None = None
	requested_at: datetime | None = None


# --- Parameters ---


def _single(params: dict[str, list[str]], name: str) -> str | None:
	values = params.get(name) or []
	if len(values) > 1:
		raise FHIRRequestError(_("Parameter {0} may be given only once").format(name))
	return values[0] if values else None


def check_known(params: dict[str, list[str]], known: set[str]) -> None:
	unknown = sorted(set(params) - known)
	if unknown:
		raise FHIRRequestError(
			_("Unknown or unsupported search parameter: {0}").format(", ".join(unknown)), code="not-supported"
		)


def parse_count(params: dict[str, list[str]]) -> int | None:
	value = _single(params, "_count")
	if value is None:
		return None
	if not value.isdigit() or not 1 <= int(value) <= MAX_COUNT:
		raise FHIRRequestError(_("_count must be a whole number from 1 to {0}").format(MAX_COUNT))
	return int(value)


def parse_datetime(value: str, timezone: str, end_of_day: bool = False) -> datetime:
	"""A FHIR date or dateTime as a naive datetime in the site's time zone (the database's)."""
	match = FHIR_DATETIME.fullmatch(value or "")
	if not match:
		raise FHIRRequestError(_("{0} is not a valid FHIR date or dateTime").format(value))
	try:
		day = date.fromisoformat(match["date"])
		if not match["time"]:
			return datetime.combine(day, time.max if end_of_day else time.min)
		moment = datetime.fromisoformat(f"{match['date']}T{match['time']}")
	except ValueError:
		raise FHIRRequestError(_("{0} is not a valid FHIR date or dateTime").format(value))
	zone = match["tz"]
	if not zone:
		return moment
	moment = datetime.fromisoformat(f"{moment.isoformat()}{'+00:00' if zone == 'Z' else zone}")
	return moment.astimezone(ZoneInfo(timezone)).replace(tzinfo=None)


def parse_date_range(
	values: list[str], timezone: str, name: str, default_from: datetime | None, default_to: datetime | None
) -> tuple[datetime | None, datetime | None]:
	"""`ge`/`gt`/`le`/`lt`/`eq` prefixed dates as an inclusive range [from, to]."""
	start_from, start_to = default_from, default_to
	for value in values:
		prefix, rest = (value[:2], value[2:]) if value[:2] in DATE_PREFIXES else ("eq", value)
		if prefix in ("ge", "gt", "eq"):
			moment = parse_datetime(rest, timezone)
			start_from = moment + timedelta(microseconds=1) if prefix == "gt" else moment
		if prefix in ("le", "lt", "eq"):
			moment = parse_datetime(rest, timezone, end_of_day=True)
			start_to = moment - timedelta(microseconds=1) if prefix == "lt" else moment
	if start_from and start_to and start_to < start_from:
		raise FHIRRequestError(_("The end of the {0} range is before its start").format(name))
	return start_from, start_to


def parse_practitioners(values: list[str]) -> list[str]:
	"""RPPS numbers of `system|value` tokens (value = IDNPS "8" + RPPS, or the bare RPPS)."""
	tokens = [token.strip() for value in values for token in value.split(",") if token.strip()]
	if not tokens:
		raise FHIRRequestError(
			_("Give 1 to {0} practitioners in {1}").format(MAX_PRACTITIONERS, PRACTITIONER_PARAM),
			code="required",
		)
	if len(tokens) > MAX_PRACTITIONERS:
		raise FHIRRequestError(
			_("At most {0} practitioners per search ({1} given)").format(MAX_PRACTITIONERS, len(tokens)),
			code="too-costly",
		)
	rpps = []
	for token in tokens:
		system, _sep, value = token.rpartition("|")
		if system and system != RPPS_SYSTEM:
			raise FHIRRequestError(_("Unknown identifier system {0}: use {1}").format(system, RPPS_SYSTEM))
		if re.fullmatch(r"8\d{11}", value):
			value = value[1:]
		if not re.fullmatch(r"\d{11}", value):
			raise FHIRRequestError(_("{0} is not a practitioner identifier (IDNPS or RPPS)").format(value))
		if value not in rpps:
			rpps.append(value)
	return rpps


def parse_slot_search(
	params: dict[str, list[str]], timezone: str, now: datetime, horizon: timedelta
) -> SlotQuery:
	"""The Slot search of the SAS guide, checked; FHIRRequestError (HTTP 400) on any unknown or malformed
	parameter."""
	check_known(params, SLOT_PARAMS)
	status = _single(params, "status")
	if status not in (None, "free"):
		raise FHIRRequestError(_("Only free slots can be searched (status=free)"), code="not-supported")
	start_from, start_to = parse_date_range(params.get("start") or [], timezone, "start", None, None)
	start_from = max(start_from or now, now)
	start_to = start_to or start_from + horizon
	if start_to < start_from:
		raise FHIRRequestError(_("The search range is in the past"))
	if start_to - start_from > MAX_RANGE:
		raise FHIRRequestError(
			_("Search at most {0} days at a time").format(MAX_RANGE.days), code="too-costly"
		)
	includes = params.get("_include") or []
	iterates = params.get("_include:iterate") or []
	for value in includes:
		if value != "Slot:schedule":
			raise FHIRRequestError(_("Unsupported _include: {0}").format(value), code="not-supported")
	for value in iterates:
		if value not in ("Schedule:actor", "PractitionerRole:practitioner"):
			raise FHIRRequestError(_("Unsupported _include:iterate: {0}").format(value), code="not-supported")
	return SlotQuery(
		rpps=parse_practitioners(params.get(PRACTITIONER_PARAM) or []),
		start_from=start_from,
		start_to=start_to,
		include_schedules=bool(includes),
		include_actors=bool(includes) and bool(iterates),
		count=parse_count(params),
	)


def parse_appointment_search(params: dict[str, list[str]], timezone: str) -> AppointmentQuery:
	check_known(params, APPOINTMENT_PARAMS)
	by_fhir_status = {code: status for status, code in APPOINTMENT_STATUS.items()}
	statuses = []
	for value in params.get("status") or []:
		for code in value.split(","):
			if code not in by_fhir_status:
				raise FHIRRequestError(_("Unknown appointment status: {0}").format(code))
			statuses.append(by_fhir_status[code])
	names = [name for value in params.get("_id") or [] for name in value.split(",") if name]
	slot = _single(params, "slot")
	if slot:
		slot = slot.removeprefix("Slot/")
	start_from, start_to = parse_date_range(params.get("date") or [], timezone, "date", None, None)
	return AppointmentQuery(names, statuses, start_from, start_to, slot, parse_count(params))


def parse_appointment(body: bytes | str, timezone: str) -> AppointmentRequest:
	"""A booking request: an Appointment with its slot (`slot`: Slot/<id>) and its patient, a contained
	Patient referenced by a participant (name, birthDate, telecom)."""
	try:
		appointment = Appointment.model_validate_json(body or b"")
	except (ValidationError, ValueError) as e:
		raise FHIRRequestError(_("The Appointment is not valid FHIR: {0}").format(_first_error(e)))
	if appointment.status not in (None, "booked", "proposed", "pending"):
		raise FHIRRequestError(_("A new appointment has the status booked"))
	slots = [ref.reference for ref in appointment.slot or [] if ref.reference]
	if len(slots) != 1 or not slots[0].startswith("Slot/"):
		raise FHIRRequestError(
			_("The Appointment must reference exactly one Slot (Slot/<id>)"), code="required"
		)
	patient = _contained_patient(appointment)
	if not patient:
		raise FHIRRequestError(
			_("The Appointment must have a participant referencing a contained Patient"), code="required"
		)
	name = (patient.name or [None])[0]
	family = (name.family or "").strip() if name else ""
	given = " ".join(name.given or []).strip() if name else ""
	if not (family and given and patient.birthDate):
		raise FHIRRequestError(
			_("The patient's family name, given name and birth date are required"), code="required"
		)
	values = {
		"patient_last_name": family,
		"patient_first_name": given,
		"patient_date_of_birth": patient.birthDate.isoformat(),
	}
	for telecom in patient.telecom or []:
		if telecom.system == "phone" and telecom.value:
			values.setdefault("patient_phone", telecom.value)
		elif telecom.system == "email" and telecom.value:
			values.setdefault("patient_email", telecom.value)
	reason = appointment.description or next(
		(code.text for code in appointment.reasonCode or [] if code.text), None
	)
	requested_at = None
	if appointment.created:
		requested_at = parse_datetime(appointment.created.isoformat(), timezone)
	return AppointmentRequest(slots[0].removeprefix("Slot/"), values, reason, requested_at)


def parse_cancel_reason(body: bytes | str) -> str:
	"""The reason of an `Appointment/<id>/$cancel`: a Parameters resource with a `reason` (valueString)."""
	try:
		parameters = Parameters.model_validate_json(body or b"")
	except (ValidationError, ValueError) as e:
		raise FHIRRequestError(_("The Parameters are not valid FHIR: {0}").format(_first_error(e)))
	reason = next(
		(p.valueString for p in parameters.parameter or [] if p.name == "reason" and p.valueString), ""
	).strip()
	if not reason:
		raise FHIRRequestError(
			_("The reason of the cancellation is required (parameter reason)"), code="required"
		)
	return reason


def _contained_patient(appointment):
	contained = {
		f"#{res.id}": res for res in appointment.contained or [] if res.get_resource_type() == "Patient"
	}
	for participant in appointment.participant or []:
		reference = participant.actor.reference if participant.actor else None
		if reference in contained:
			return contained[reference]
	return None


def _first_error(error) -> str:
	if isinstance(error, ValidationError) and error.errors():
		first = error.errors()[0]
		return f"{'.'.join(str(p) for p in first.get('loc', ()))}: {first.get('msg', '')}"
	return str(error).splitlines()[0] if str(error) else ""


# --- Resources ---


def instant(value: datetime, timezone: str) -> str:
	"""A naive site-time datetime as a FHIR instant with its offset."""
	return value.replace(tzinfo=ZoneInfo(timezone)).isoformat(timespec="seconds")


def schedule_id(professional: str, place: str | None) -> str:
	"""One Schedule per practitioner role and place."""
	digest = hashlib.sha1((place or "").strip().lower().encode()).hexdigest()[:8]
	return f"{professional}-{digest}"


def slot_place(slot: dict) -> str:
	return slot.get("location") or slot.get("sector") or ""


def practitioner(pro: dict) -> dict:
	return {
		"resourceType": "Practitioner",
		"id": pro["name"],
		"identifier": [{"system": RPPS_SYSTEM, "value": IDNPS_PREFIX + pro["rpps"]}],
		"active": bool(pro.get("active", True)),
		"name": [
			{"family": pro.get("last_name"), "given": [pro["first_name"]] if pro.get("first_name") else None}
		],
	}


def practitioner_role(pro: dict) -> dict:
	role = {
		"resourceType": "PractitionerRole",
		"id": pro["name"],
		"active": bool(pro.get("active", True)),
		"practitioner": {"reference": f"Practitioner/{pro['name']}", "display": pro.get("full_name")},
	}
	profession = PROFESSION_CODES.get(pro.get("profession") or "General practitioner")
	if profession:
		role["code"] = [
			{"coding": [{"system": PROFESSION_SYSTEM, "code": profession[0], "display": profession[1]}]}
		]
	if (pro.get("profession") or "General practitioner") == "General practitioner":
		role["specialty"] = [
			{
				"coding": [
					{"system": SPECIALTY_SYSTEM, "code": GENERAL_PRACTICE[0], "display": GENERAL_PRACTICE[1]}
				]
			}
		]
	return role


def schedule(pro: dict, place: str) -> dict:
	return {
		"resourceType": "Schedule",
		"id": schedule_id(pro["name"], place),
		"active": True,
		"actor": [
			{"reference": f"PractitionerRole/{pro['name']}"},
			{"reference": f"Practitioner/{pro['name']}", "display": pro.get("full_name")},
		],
		"comment": place or None,
	}


def slot(row: dict, timezone: str) -> dict:
	code, display = MODALITY_CODES.get(row.get("modality") or "Office", MODALITY_CODES["Office"])
	return {
		"resourceType": "Slot",
		"id": row["name"],
		"meta": {"security": [{"system": SLOT_TYPE_SYSTEM, "code": code_} for code_ in SLOT_TYPES]},
		"serviceType": [{"coding": [{"system": ACT_CODE_SYSTEM, "code": code, "display": display}]}],
		"schedule": {"reference": f"Schedule/{schedule_id(row['professional'], slot_place(row))}"},
		"status": "free",
		"start": instant(row["starts_at"], timezone),
		"end": instant(row["ends_at"], timezone),
		"comment": row.get("location") or None,
	}


def appointment(row: dict, timezone: str) -> dict:
	"""A booking as an Appointment (its partner's own view: the patient's name is given as a display)."""
	patient = " ".join(filter(None, [row.get("patient_last_name"), row.get("patient_first_name")]))
	resource = {
		"resourceType": "Appointment",
		"id": row["name"],
		"status": APPOINTMENT_STATUS.get(row.get("status"), "booked"),
		"slot": [{"reference": f"Slot/{row['slot']}"}],
		"start": instant(row["slot_start"], timezone) if row.get("slot_start") else None,
		"end": instant(row["slot_end"], timezone) if row.get("slot_end") else None,
		"created": instant(row["creation"], timezone) if row.get("creation") else None,
		"description": row.get("reason") or None,
		"cancelationReason": {"text": row["cancellation_reason"]} if row.get("cancellation_reason") else None,
		"participant": [
			{
				"actor": {
					"reference": f"Practitioner/{row['professional']}",
					"display": row.get("professional_name"),
				},
				"status": "accepted",
			},
			{"actor": {"display": patient or None}, "status": "accepted"},
		],
	}
	return {key: value for key, value in resource.items() if value is not None}


def _entry(resource: dict, base_url: str, mode: str) -> dict:
	return {
		"fullUrl": f"{base_url}/{resource['resourceType']}/{resource['id']}",
		"resource": resource,
		"search": {"mode": mode},
	}


def slot_bundle(
	slots: list[dict],
	professionals: dict[str, dict],
	query: SlotQuery,
	base_url: str,
	self_url: str,
	timezone: str,
) -> dict:
	"""The searchset answering a Slot search: Slots (match), then Schedules, PractitionerRoles and
	Practitioners (include) as the query asks."""
	shown = slots[: query.count] if query.count else slots
	entries = [_entry(slot(row, timezone), base_url, "match") for row in shown]
	if query.include_schedules:
		schedules = {}
		for row in shown:
			key = schedule_id(row["professional"], slot_place(row))
			schedules.setdefault(key, (row["professional"], slot_place(row)))
		entries += [
			_entry(schedule(professionals[pro], place), base_url, "include")
			for pro, place in schedules.values()
		]
		if query.include_actors:
			actors = list(dict.fromkeys(pro for pro, _place in schedules.values()))
			entries += [_entry(practitioner_role(professionals[pro]), base_url, "include") for pro in actors]
			entries += [_entry(practitioner(professionals[pro]), base_url, "include") for pro in actors]
	return searchset(entries, len(slots), self_url)


def appointment_bundle(rows: list[dict], base_url: str, self_url: str, timezone: str) -> dict:
	return searchset(
		[_entry(appointment(row, timezone), base_url, "match") for row in rows], len(rows), self_url
	)


def searchset(entries: list[dict], total: int, self_url: str) -> dict:
	return {
		"resourceType": "Bundle",
		"type": "searchset",
		"total": total,
		"link": [{"relation": "self", "url": self_url}],
		"entry": entries,
	}


def operation_outcome(diagnostics: str, code: str = "invalid", severity: str = "error") -> dict:
	return {
		"resourceType": "OperationOutcome",
		"issue": [{"severity": severity, "code": code, "diagnostics": diagnostics}],
	}


def capability_statement(base_url: str, version: str, published: datetime, timezone: str) -> dict:
	"""What this server offers (`GET /fhir/metadata`): the Slot search of the SAS guide, reading and searching
	the caller's Appointments, booking by creating an Appointment and cancelling one (operation `$cancel`)."""
	return {
		"resourceType": "CapabilityStatement",
		"status": "active",
		"date": instant(published, timezone),
		"publisher": "CPTS",
		"kind": "instance",
		"software": {"name": "cpts_snp", "version": version},
		"implementation": {"description": _("Shared SNP agenda of the CPTS"), "url": base_url},
		"fhirVersion": "4.0.1",
		"format": [FHIR_JSON, "json"],
		"rest": [
			{
				"mode": "server",
				"security": {
					"description": _("Authorization: token <key>:<secret> of a partner user of the CPTS")
				},
				"resource": [
					{
						"type": "Slot",
						"interaction": [{"code": "search-type"}],
						"searchInclude": ["Slot:schedule"],
						"searchRevInclude": [],
						"searchParam": [
							{"name": "status", "type": "token"},
							{"name": "start", "type": "date"},
							{"name": PRACTITIONER_PARAM, "type": "token"},
							{"name": "_count", "type": "number"},
						],
					},
					{
						"type": "Appointment",
						"interaction": [{"code": "read"}, {"code": "search-type"}, {"code": "create"}],
						"searchParam": [
							{"name": "_id", "type": "token"},
							{"name": "status", "type": "token"},
							{"name": "date", "type": "date"},
							{"name": "slot", "type": "reference"},
							{"name": "_count", "type": "number"},
						],
						"operation": [
							{
								"name": CANCEL_OPERATION,
								"definition": f"{base_url}/OperationDefinition/{CANCEL_DEFINITION_ID}",
							}
						],
					},
				],
			}
		],
	}


def cancel_operation_definition(base_url: str, version: str, published: datetime, timezone: str) -> dict:
	"""The definition of `POST Appointment/<id>/$cancel` (`GET /fhir/OperationDefinition/Appointment-cancel`),
	which the CapabilityStatement points to."""
	return {
		"resourceType": "OperationDefinition",
		"id": CANCEL_DEFINITION_ID,
		"url": f"{base_url}/OperationDefinition/{CANCEL_DEFINITION_ID}",
		"version": version,
		"name": "CancelAppointment",
		"title": _("Cancel an appointment"),
		"status": "active",
		"kind": "operation",
		"date": instant(published, timezone),
		"publisher": "CPTS",
		"description": _(
			"Cancels one of the bookings of the caller's partner that is still to be honoured; the slot is offered again."
		),
		"affectsState": True,
		"code": CANCEL_OPERATION,
		"resource": ["Appointment"],
		"system": False,
		"type": False,
		"instance": True,
		"parameter": [
			{
				"name": "reason",
				"use": "in",
				"min": 1,
				"max": "1",
				"type": "string",
				"documentation": _("Why the appointment is cancelled"),
			},
			{
				"name": "return",
				"use": "out",
				"min": 1,
				"max": "1",
				"type": "Appointment",
				"documentation": _("The cancelled appointment"),
			},
		],
	}


EMPTY = (None, "", {}, [])


def pruned(value):
	"""`value` without its empty parts: FHIR has no null, no empty string, array or object."""
	if isinstance(value, dict):
		kept = ((key, pruned(item)) for key, item in value.items())
		return {key: item for key, item in kept if item not in EMPTY}
	if isinstance(value, list):
		return [item for item in map(pruned, value) if item not in EMPTY]
	return value


def to_json(resource: dict) -> str:
	"""A resource as FHIR JSON."""
	return json.dumps(pruned(resource), ensure_ascii=False, separators=(",", ":"))


def is_resource_id(value: str) -> bool:
	return bool(RESOURCE_ID.fullmatch(value or ""))
