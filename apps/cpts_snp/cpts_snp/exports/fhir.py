"""HL7 FHIR R4 facade of the shared agenda for the national SAS platform, as its implementation guide says
(« Service d'Accès aux Soins », package ans.fhir.fr.sas 1.2.0, FHIR 4.0.1, on hl7.fhir.fr.core 1.1.0).

Pure mapping, no database and no request: search parameters in, typed queries out; slots, professionals, places
and the CPTS's identity (already read by the caller, as dicts) in, FHIR resources out. What partners send (an
Appointment to book) is parsed and validated with `fhir.resources` (its R4B package: the same shapes as R4 for the
resources used here). Answers are built as plain dicts and serialised by `to_json`; the tests check them against
the guide's compiled profiles (tests/fhir/sas-1.2.0) and parse them with the same models.

Two flows of the guide, one search request (flux 3A/4A of the CI-SIS shared-agenda volume):

- INT_R04, slots the CPTS offers (base `/fhir`): every free slot of the shared agenda, tagged SNP + CPTS, with the
  serviceType 604 (CPTS) that refers to the CPTS's HealthcareService, whose Organization carries the CPTS's FINESS;
- INT_R01, a practitioner's own slots (base `/fhir/ps`): the free slots of the doctors who share them individually.

	GET [base]/Slot?_include=Slot:schedule&_include:iterate=Schedule:actor
		&_include=Slot:service-type-reference&_include:iterate=HealthcareService:organization
		&start=ge2024-06-12T16:20:00.000+02:00&start=le2024-06-15T16:20:00.000+02:00
		&schedule.actor:Practitioner.identifier=urn:oid:1.2.250.1.71.4.2.1|810002909371,…&status=free

answers a `searchset` Bundle: the Slots (match), then (include) one Schedule per PractitionerRole — one per
practitioner and place of practice, the place contained in the role as a Location —, the Practitioners, and for
the CPTS flow its HealthcareService and Organization. Every resource declares its profile in `meta.profile`.
"""

import hashlib
import json
import re
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from fhir.resources.R4B.appointment import Appointment
from fhir.resources.R4B.parameters import Parameters
from frappe import _
from pydantic import ValidationError

from cpts_snp.rules.identifiers import e164_phone, parse_practitioner_identifier, structure_identifier

FHIR_JSON = "application/fhir+json"
JSON_FORMATS = {"json", "application/json", FHIR_JSON, "application/json+fhir"}
CPTS_FLOW = "cpts"  # INT_R04
PS_FLOW = "ps"  # INT_R01

# --- The guide's canonical URLs (its own mix of http://sas.fr/… and https://interop.esante.gouv.fr/…) ---
SAS_IG = "https://interop.esante.gouv.fr/ig/fhir/sas"
SAS_SD = SAS_IG + "/StructureDefinition/"
PROFILES = {
	"cpts-bundle": SAS_SD + "sas-cpts-bundle-aggregator",
	"ps-bundle": "http://sas.fr/fhir/StructureDefinition/BundleAgregateur",
	"cpts-slot": SAS_SD + "sas-cpts-slot-aggregator",
	"ps-slot": "http://sas.fr/fhir/StructureDefinition/FrSlotAgregateur",
	"schedule": "http://sas.fr/fhir/StructureDefinition/FrScheduleAgregateur",
	"practitioner": "http://sas.fr/fhir/StructureDefinition/FrPractitionerAgregateur",
	"role": "http://sas.fr/fhir/StructureDefinition/FrPractitionerRoleExerciceAgregateur",
	"location": "http://sas.fr/fhir/StructureDefinition/FrLocationAgregateur",
	"service": SAS_SD + "sas-cpts-healthcareservice-aggregator",
	"organization": SAS_SD + "sas-cpts-organization-aggregator",
}
CAPABILITIES = {
	CPTS_FLOW: SAS_IG + "/CapabilityStatement/SAS-GestionnaireAgenda-CPTS",
	PS_FLOW: SAS_IG + "/CapabilityStatement/SAS-GestionnaireAgenda-PsIndiv",
}

# --- Identifiers and nomenclatures named by the guide ---
IDNPS_SYSTEM = "urn:oid:1.2.250.1.71.4.2.1"  # national practitioner identifiers: "8" + RPPS, "0" + ADELI
RPPS_SYSTEM = IDNPS_SYSTEM
IDNST_SYSTEM = "urn:oid:1.2.250.1.71.4.2.2"  # national structure identifiers: "1" + FINESS, "3" + SIRET…
V2_0203 = "http://interopsante.org/fhir/CodeSystem/fr-v2-0203"  # Practitioner, PractitionerRole.organization
FR_CORE_V2_0203 = "https://hl7.fr/ig/fhir/core/CodeSystem/fr-core-cs-v2-0203"  # Organization (CPTS profile)
LOCATION_ID_TYPE = "http://interopsante.org/fhir/CodeSystem/fr-location-identifier-type"
SLOT_TYPE_SYSTEM = "https://mos.esante.gouv.fr/NOS/TRE_R314-TypeCreneau/FHIR/TRE-R314-TypeCreneau"
# The slots of the shared agenda are for patients regulated or directed by the SAS and its partners (SNP), and
# offered by the CPTS (CPTS); they are not open to the public's own booking.
SLOT_TYPES = {CPTS_FLOW: ("SNP", "CPTS"), PS_FLOW: ("SNP",)}
ACT_CODE_SYSTEM = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
MODALITY_CODES = {
	"Office": ("AMB", "ambulatory"),
	"Home visit": ("HH", "home health"),
	"Teleconsultation": ("VR", "virtual"),
}
ESTABLISHMENT_CATEGORY_SYSTEM = (
	"https://mos.esante.gouv.fr/NOS/TRE_R66-CategorieEtablissement/FHIR/TRE-R66-CategorieEtablissement"
)
CPTS_CATEGORY = "604"
SERVICE_TYPE_R5 = "http://hl7.org/fhir/5.0/StructureDefinition/extension-Slot.serviceType"
APPOINTMENT_REASON_SYSTEM = "http://terminology.hl7.org/CodeSystem/v2-0276"
ROUTINE = "ROUTINE"  # a slot with an appointment (WALKIN: without)
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
WITH_GENERAL_PRACTICE = {"General practitioner", "SASPAS intern"}
APPOINTMENT_STATUS = {
	"Booked": "booked",
	"Honoured": "fulfilled",
	"No-show": "noshow",
	"Cancelled": "cancelled",
}
OPERATOR_EXTENSION = "http://interopsante.org/fhir/StructureDefinition/FrAppointmentOperator"
# The two questions of the SNP supplement on a booking request (Appointment.extension, valueBoolean): the patient
# is followed by this doctor (médecin traitant), and the request is regulated (SAS/15). Without them: not the
# doctor's patient, and regulated as the partner's type says (services.partners.apply_partner).
PATIENT_OF_DOCTOR_EXTENSION = "https://cpts-snp.fr/fhir/StructureDefinition/snp-patient-of-doctor"
REGULATED_EXTENSION = "https://cpts-snp.fr/fhir/StructureDefinition/snp-regulated-request"
SUPPLEMENT_QUESTIONS = {PATIENT_OF_DOCTOR_EXTENSION: "patient_of_doctor", REGULATED_EXTENSION: "regulated"}
SERVICE_ID = ORGANIZATION_ID = "cpts"
LOCATION_REF = "lieu"  # the place of practice, contained in its PractitionerRole

# --- Search ---
PRACTITIONER_PARAM = "schedule.actor:Practitioner.identifier"
CANCEL_OPERATION = "cancel"
CANCEL_DEFINITION_ID = "Appointment-cancel"
SLOT_PARAMS = {"status", "start", PRACTITIONER_PARAM, "_include", "_include:iterate", "_count", "_offset"}
APPOINTMENT_PARAMS = {"_id", "status", "date", "slot", "_count"}
RESULT_PARAMS = {
	"_format",
	"_pretty",
	"_summary",
	"_elements",
}  # accepted everywhere, JSON is the only answer
INCLUDES = {
	"Slot:schedule": "schedules",
	"Schedule:actor": "actors",
	"Schedule:actor:Practitioner": "actors",
	"Schedule:actor:PractitionerRole": "actors",
	"Slot:service-type-reference": "services",
	"HealthcareService:organization": "organizations",
}
MAX_PRACTITIONERS = 25
MAX_RANGE = timedelta(days=31)
MAX_COUNT = 1000
DATE_PREFIXES = ("ge", "gt", "le", "lt", "eq")
FHIR_DATETIME = re.compile(
	r"(?P<date>\d{4}-\d{2}-\d{2})"
	r"(?:T(?P<time>\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?)(?P<tz>Z|[+-]\d{2}:\d{2})?)?"
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
	adeli: list[str] = field(default_factory=list)
	start_from: datetime | None = None
	start_to: datetime | None = None
	free: bool = True
	include_schedules: bool = False
	include_actors: bool = False
	include_services: bool = False
	include_organizations: bool = False
	count: int | None = None
	offset: int = 0

	@property
	def empty(self) -> bool:
		"""Nothing can match: no known practitioner, a window in the past, or a status other than free."""
		return (
			not (self.rpps or self.adeli)
			or not self.free
			or (self.start_to is not None and self.start_from is not None and self.start_to < self.start_from)
		)


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
	operator: dict | None = None
	# the SNP supplement's questions answered (patient_of_doctor, regulated: 0 or 1)
	questions: dict = field(default_factory=dict)


# --- Parameters ---


def _single(params: dict[str, list[str]], name: str) -> str | None:
	values = params.get(name) or []
	if len(values) > 1:
		raise FHIRRequestError(_("Parameter {0} may be given only once").format(name))
	return values[0] if values else None


def check_format(params: dict[str, list[str]]) -> None:
	"""`_format` (the guide's base request allows it): JSON only; XML and others answer 406."""
	value = _single(params, "_format")
	if value is not None and value.split(";")[0].strip().lower() not in JSON_FORMATS:
		raise FHIRRequestError(
			_("Only the JSON format is offered (_format=json or application/fhir+json)"), 406, "not-supported"
		)


def check_known(params: dict[str, list[str]], known: set[str], strict: bool = True) -> None:
	"""Unknown parameters: refused when `strict` (the client's `Prefer: handling=strict`, or for Appointments),
	otherwise ignored, as FHIR's lenient handling says (the platform may add parameters of its own)."""
	check_format(params)
	unknown = sorted(set(params) - known - RESULT_PARAMS)
	if unknown and strict:
		raise FHIRRequestError(
			_("Unknown or unsupported search parameter: {0}").format(", ".join(unknown)), code="not-supported"
		)


def parse_count(params: dict[str, list[str]], name: str = "_count", low: int = 1) -> int | None:
	value = _single(params, name)
	if value is None:
		return None
	if not value.isdigit() or not low <= int(value) <= (MAX_COUNT if name == "_count" else 10**6):
		raise FHIRRequestError(_("{0} must be a whole number from {1} to {2}").format(name, low, MAX_COUNT))
	return int(value)


def parse_datetime(value: str, timezone: str, end_of_day: bool = False) -> datetime:
	"""A FHIR date or dateTime as a naive datetime in the site's time zone (the database's). A `+` of an offset
	that reached us unencoded was read as a space by the URL decoding: it is a `+` again."""
	value = (value or "").strip()
	if re.search(r"T\d{2}:\d{2}(:\d{2}(\.\d+)?)? \d{2}:\d{2}$", value):
		value = value[:-6] + "+" + value[-5:]
	match = FHIR_DATETIME.fullmatch(value)
	if not match:
		raise FHIRRequestError(_("{0} is not a valid FHIR date or dateTime").format(value))
	try:
		day = date.fromisoformat(match["date"])
		if not match["time"]:
			return datetime.combine(day, time.max if end_of_day else time.min)
		clock = match["time"]
		if "." in clock:  # Python reads 3 or 6 decimals; FHIR allows any
			whole, fraction = clock.split(".")
			clock = f"{whole}.{(fraction + '000000')[:6]}"
		moment = datetime.fromisoformat(f"{match['date']}T{clock}")
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


def parse_practitioners(values: list[str]) -> tuple[list[str], list[str]]:
	"""RPPS and ADELI numbers of `system|value` tokens, as the guide sends them: IDNPS values, "8" + RPPS or
	"0" + ADELI, under the IDNPS system (bare numbers are understood too). A token of another system or that is no
	practitioner identifier matches nobody: it is left aside, the others are searched."""
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
	found = {"rpps": [], "adeli": []}
	for token in tokens:
		system, _sep, value = token.rpartition("|")
		if system and system != IDNPS_SYSTEM:
			continue
		parsed = parse_practitioner_identifier(value.strip())
		if parsed and parsed[1] not in found[parsed[0]]:
			found[parsed[0]].append(parsed[1])
	return found["rpps"], found["adeli"]


def parse_includes(params: dict[str, list[str]]) -> set[str]:
	"""What the client asks to include (`_include` and `_include:iterate` alike); unknown values are ignored."""
	asked = set()
	for value in (params.get("_include") or []) + (params.get("_include:iterate") or []):
		for item in value.split(","):
			if item.strip() in INCLUDES:
				asked.add(INCLUDES[item.strip()])
	return asked


def parse_slot_search(
	params: dict[str, list[str]],
	timezone: str,
	now: datetime,
	horizon: timedelta,
	flow: str = CPTS_FLOW,
	strict: bool = False,
) -> SlotQuery:
	"""The Slot search of the SAS guide. A malformed date or count is a 400 (FHIRRequestError); a request that
	can run but match nothing (a window in the past, unknown identifiers) gives an empty query (`query.empty`)."""
	check_known(params, SLOT_PARAMS, strict)
	status = _single(params, "status")
	start_from, start_to = parse_date_range(params.get("start") or [], timezone, "start", None, None)
	start_from = max(start_from or now, now)
	start_to = start_to or start_from + horizon
	if start_to >= start_from and start_to - start_from > MAX_RANGE:
		raise FHIRRequestError(
			_("Search at most {0} days at a time").format(MAX_RANGE.days), code="too-costly"
		)
	rpps, adeli = parse_practitioners(params.get(PRACTITIONER_PARAM) or [])
	asked = parse_includes(params)
	schedules = "schedules" in asked
	services = flow == CPTS_FLOW and "services" in asked
	return SlotQuery(
		rpps=rpps,
		adeli=adeli,
		start_from=start_from,
		start_to=start_to,
		free=status in (None, "free"),
		include_schedules=schedules,
		include_actors=schedules and "actors" in asked,
		include_services=services,
		include_organizations=services and "organizations" in asked,
		count=parse_count(params),
		offset=parse_count(params, "_offset", low=0) or 0,
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
	return AppointmentRequest(
		slots[0].removeprefix("Slot/"),
		values,
		reason,
		requested_at,
		_operator(appointment),
		_supplement_questions(appointment),
	)


def _supplement_questions(appointment) -> dict:
	"""The answers to the SNP supplement's questions the Appointment carries (valueBoolean extensions)."""
	answers = {}
	for extension in appointment.extension or []:
		fieldname = SUPPLEMENT_QUESTIONS.get(extension.url)
		if fieldname and extension.valueBoolean is not None:
			answers[fieldname] = int(extension.valueBoolean)
	return answers


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


def _operator(appointment) -> dict | None:
	"""The regulator who booked (FrAppointment's appointmentOperator extension, as FrAppointmentSAS requires it):
	his identifier's type (IDNPS, INTRN), value and name."""
	for extension in appointment.extension or []:
		reference = extension.valueReference if extension.url == OPERATOR_EXTENSION else None
		identifier = reference.identifier if reference else None
		if identifier and identifier.value:
			codes = identifier.type.coding if identifier.type and identifier.type.coding else []
			return {
				"operator_id_type": codes[0].code if codes else None,
				"operator_id": identifier.value,
				"operator_name": reference.display,
			}
	return None


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


# --- Resources of the slot search ---


def instant(value: datetime, timezone: str) -> str:
	"""A naive site-time datetime as a FHIR instant with its offset and milliseconds, as in the guide's examples
	(2024-06-12T16:40:00.000+02:00)."""
	return value.replace(tzinfo=ZoneInfo(timezone)).isoformat(timespec="milliseconds")


def role_id(professional: str, place: str) -> str:
	"""One PractitionerRole, and one Schedule, per practitioner and place of practice (the guide's FAQ: one
	agenda per place)."""
	return f"{professional}.{place}"


def split_role_id(value: str) -> tuple[str, str] | None:
	professional, dot, place = (value or "").partition(".")
	return (professional, place) if dot and professional and place else None


def coding(system: str, code: str, display: str | None = None) -> dict:
	return {"system": system, "code": code, "display": display}


def _meta(profile: str, security: list[dict] | None = None) -> dict:
	return {"profile": [profile], "security": security}


def practitioner_identifier(pro: dict) -> str | None:
	"""The IDNPS value of a professional: "8" + RPPS, else "0" + ADELI."""
	if pro.get("rpps"):
		return "8" + pro["rpps"]
	if pro.get("adeli"):
		return "0" + pro["adeli"]
	return None


def practitioner(pro: dict) -> dict:
	return {
		"resourceType": "Practitioner",
		"id": pro["name"],
		"meta": _meta(PROFILES["practitioner"]),
		"identifier": [
			{
				"type": {"coding": [{"system": V2_0203, "code": "IDNPS"}]},
				"system": IDNPS_SYSTEM,
				"value": practitioner_identifier(pro),
			}
		],
		"active": bool(pro.get("active", True)),
		"name": [
			{"family": pro.get("last_name"), "given": [pro["first_name"]] if pro.get("first_name") else None}
		],
	}


def location(place: dict, base_url: str) -> dict:
	"""The place of practice, contained in its PractitionerRole (FrLocationAgregateur: an identifier, and an
	address with one line, a city and a postal code). Its identifier is the CPTS's own (INTRN)."""
	return {
		"resourceType": "Location",
		"id": LOCATION_REF,
		"meta": _meta(PROFILES["location"]),
		"identifier": [
			{
				"type": {"coding": [{"system": LOCATION_ID_TYPE, "code": "INTRN"}]},
				"system": f"{base_url}/Location",
				"value": place["name"],
			}
		],
		"status": "active",
		"name": place.get("place_name"),
		"telecom": _phone(place.get("phone")),
		"address": {
			"use": "work",
			"type": "physical",
			"line": [place["address_line"]],
			"city": place["city"],
			"postalCode": place["postal_code"],
			"country": "FRA",
		},
	}


def practitioner_role(pro: dict, place: dict, base_url: str) -> dict:
	"""A practitioner at one place of practice. The structure he practises in is named by its national
	identifier, in the guide's order (FINESS, SIRET, RPPS rang), when the place has one."""
	role = {
		"resourceType": "PractitionerRole",
		"id": role_id(pro["name"], place["name"]),
		"meta": _meta(PROFILES["role"]),
		"contained": [location(place, base_url)],
		"active": bool(pro.get("active", True)),
		"practitioner": {"reference": f"Practitioner/{pro['name']}", "display": pro.get("full_name")},
		"location": [{"reference": f"#{LOCATION_REF}"}],
		"telecom": _phone(place.get("phone")),
	}
	structure = structure_identifier(place.get("finess"), place.get("siret"), place.get("rpps_rang"))
	if structure:
		role["organization"] = {
			"identifier": {
				"type": {"coding": [{"system": V2_0203, "code": "IDNST"}]},
				"system": IDNST_SYSTEM,
				"value": structure,
			},
			"display": place.get("place_name"),
		}
	profession = PROFESSION_CODES.get(pro.get("profession") or "General practitioner")
	if profession:
		role["code"] = [{"coding": [coding(PROFESSION_SYSTEM, *profession)]}]
	if _general_practice(pro):
		role["specialty"] = [{"coding": [coding(SPECIALTY_SYSTEM, *GENERAL_PRACTICE)]}]
	return role


def schedule(pro: dict, place: dict) -> dict:
	key = role_id(pro["name"], place["name"])
	return {
		"resourceType": "Schedule",
		"id": key,
		"meta": _meta(PROFILES["schedule"]),
		"active": True,
		"actor": [
			{"reference": f"Practitioner/{pro['name']}", "display": pro.get("full_name")},
			{"reference": f"PractitionerRole/{key}"},
		],
	}


def healthcare_service(cpts: dict) -> dict:
	"""The CPTS's service of soins non programmés, which CPTS slots refer to (serviceType 604)."""
	return {
		"resourceType": "HealthcareService",
		"id": SERVICE_ID,
		"meta": _meta(PROFILES["service"]),
		"active": True,
		"providedBy": {"reference": f"Organization/{ORGANIZATION_ID}", "display": cpts.get("name")},
		"name": _("Unscheduled care of the CPTS"),
		"telecom": _phone(cpts.get("phone")),
	}


def organization(cpts: dict) -> dict:
	"""The CPTS, named by its FINESS ("1" + 9 digits, FINESS-invariant)."""
	return {
		"resourceType": "Organization",
		"id": ORGANIZATION_ID,
		"meta": _meta(PROFILES["organization"]),
		"identifier": [
			{
				"type": {"coding": [{"system": FR_CORE_V2_0203, "code": "IDNST"}]},
				"system": IDNST_SYSTEM,
				"value": "1" + cpts["finess"] if cpts.get("finess") else None,
			}
		],
		"active": True,
		"name": cpts.get("name"),
		"telecom": _phone(cpts.get("phone")),
	}


def slot(row: dict, pro: dict, flow: str, timezone: str, booking_url: str) -> dict:
	"""A free slot. `comment` is where the regulator books: the practitioner's agenda page (guide's FAQ: the
	agenda's address, not the slot's); the SAS platform adds `origin` to it."""
	code, display = MODALITY_CODES.get(row.get("modality") or "Office", MODALITY_CODES["Office"])
	service_types = [{"coding": [coding(ACT_CODE_SYSTEM, code, display)]}]
	if flow == CPTS_FLOW:
		service_types.append(
			{
				"extension": [
					{
						"url": SERVICE_TYPE_R5,
						"valueReference": {"reference": f"HealthcareService/{SERVICE_ID}"},
					}
				],
				"coding": [coding(ESTABLISHMENT_CATEGORY_SYSTEM, CPTS_CATEGORY)],
			}
		)
	resource = {
		"resourceType": "Slot",
		"id": row["name"],
		"meta": _meta(
			PROFILES[f"{flow}-slot"], [{"system": SLOT_TYPE_SYSTEM, "code": c} for c in SLOT_TYPES[flow]]
		),
		"serviceType": service_types,
		"specialty": [{"coding": [coding(SPECIALTY_SYSTEM, *GENERAL_PRACTICE)]}]
		if _general_practice(pro)
		else None,
		"appointmentType": {"coding": [{"system": APPOINTMENT_REASON_SYSTEM, "code": ROUTINE}]},
		"schedule": {"reference": f"Schedule/{role_id(row['professional'], row['place'])}"},
		"status": "free",
		"start": instant(row["starts_at"], timezone),
		"end": instant(row["ends_at"], timezone),
		"comment": booking_url,
	}
	return resource


def _general_practice(pro: dict) -> bool:
	return (pro.get("profession") or "General practitioner") in WITH_GENERAL_PRACTICE


def _phone(value: str | None) -> list[dict] | None:
	"""A French phone number as the guide wants it (+33XXXXXXXXX); none when it is not one."""
	number = e164_phone(value) if value else None
	return [{"system": "phone", "value": number}] if number else None


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
	places: dict[str, dict],
	cpts: dict,
	query: SlotQuery,
	base_url: str,
	self_url: str,
	timezone: str,
	booking_url,
	flow: str = CPTS_FLOW,
) -> dict:
	"""The searchset answering a Slot search: the page of Slots asked (match), then, as the query asks, one
	Schedule per PractitionerRole (practitioner and place), the PractitionerRoles and Practitioners, and for the
	CPTS flow the CPTS's HealthcareService and Organization (include). `slots` are all the matches, soonest first
	(each with its `place`); `booking_url(professional)` is the agenda page a regulator books on."""
	page = slots[query.offset :]
	if query.count is not None:
		page = page[: query.count]
	entries = [
		_entry(
			slot(row, professionals[row["professional"]], flow, timezone, booking_url(row["professional"])),
			base_url,
			"match",
		)
		for row in page
	]
	if query.include_schedules:
		roles = list(dict.fromkeys((row["professional"], row["place"]) for row in page))
		entries += [
			_entry(schedule(professionals[pro], places[place]), base_url, "include") for pro, place in roles
		]
		if query.include_actors:
			entries += [
				_entry(practitioner(professionals[pro]), base_url, "include")
				for pro in dict.fromkeys(pro for pro, _place in roles)
			]
			entries += [
				_entry(practitioner_role(professionals[pro], places[place], base_url), base_url, "include")
				for pro, place in roles
			]
	if flow == CPTS_FLOW and page and query.include_services:
		entries.append(_entry(healthcare_service(cpts), base_url, "include"))
		if query.include_organizations:
			entries.append(_entry(organization(cpts), base_url, "include"))
	# An answer without slots cannot be a CPTS bundle (1..* slots): it is the guide's empty Bundle (FAQ).
	profile = PROFILES["cpts-bundle"] if flow == CPTS_FLOW and page else PROFILES["ps-bundle"]
	links = [{"relation": "self", "url": self_url}]
	if query.count is not None and query.offset + query.count < len(slots):
		links.append({"relation": "next", "url": page_url(self_url, query.offset + query.count)})
	return searchset(entries, len(slots), links, profile)


def page_url(url: str, offset: int) -> str:
	"""The address of the page of a search starting at `offset` (the same search, its `_offset` replaced)."""
	base, _sep, query = url.partition("?")
	kept = [part for part in query.split("&") if part and not part.startswith("_offset=")]
	return f"{base}?{'&'.join(kept + [urlencode({'_offset': offset})])}"


def resource_bundle(resources: list[dict], base_url: str, self_url: str, profile: str | None = None) -> dict:
	"""A searchset of resources found directly (Practitioner by identifier, Schedule by actor)."""
	entries = [_entry(resource, base_url, "match") for resource in resources]
	return searchset(entries, len(entries), [{"relation": "self", "url": self_url}], profile)


def appointment_bundle(rows: list[dict], base_url: str, self_url: str, timezone: str) -> dict:
	return searchset(
		[_entry(appointment(row, timezone), base_url, "match") for row in rows],
		len(rows),
		[{"relation": "self", "url": self_url}],
	)


def searchset(entries: list[dict], total: int, links: list[dict], profile: str | None = None) -> dict:
	return {
		"resourceType": "Bundle",
		"id": bundle_id(links[0]["url"], entries),
		"meta": {"profile": [profile]} if profile else None,
		"type": "searchset",
		"total": total,
		"link": links,
		"entry": entries,
	}


def bundle_id(url: str, entries: list[dict]) -> str:
	"""A stable id for an answer: the same search over the same data gives the same Bundle."""
	digest = hashlib.sha1(url.encode())
	for entry in entries:
		digest.update(entry["fullUrl"].encode())
	return digest.hexdigest()[:32]


def operation_outcome(diagnostics: str, code: str = "invalid", severity: str = "error") -> dict:
	return {
		"resourceType": "OperationOutcome",
		"issue": [{"severity": severity, "code": code, "diagnostics": diagnostics}],
	}


REGULATOR_PROFILE = "https://interop.esante.gouv.fr/ig/fhir/sas/StructureDefinition/FrPractitionerRegul"


def capability_statement(
	base_url: str, version: str, published: datetime, timezone: str, flow: str = CPTS_FLOW
) -> dict:
	"""What this server offers (`GET [base]/metadata`): what the guide's CapabilityStatement for the flow
	declares (SAS-GestionnaireAgenda-CPTS or -PsIndiv: the profiles, Slot read and search with its includes,
	Schedule, Practitioner), which it instantiates; the CPTS flow also reads HealthcareService and Organization,
	and offers the CPTS's own extension to book and cancel (Appointment create, read, search, `$cancel`)."""
	slot_includes = ["Slot:schedule", "Schedule:actor"]
	if flow == CPTS_FLOW:
		slot_includes += ["Slot:service-type-reference", "HealthcareService:organization"]
	resources = [
		{
			"type": "Slot",
			"profile": PROFILES[f"{flow}-slot"],
			"interaction": [{"code": "read"}, {"code": "search-type"}],
			"searchInclude": slot_includes,
			"searchParam": [
				{
					"name": "start",
					"definition": f"{SAS_IG}/SearchParameter/slot-sp-start",
					"type": "date",
					"documentation": _("Start of the slots: ge and le"),
				},
				{"name": "status", "type": "token"},
				{
					"name": PRACTITIONER_PARAM,
					"type": "token",
					"documentation": _(
						"1 to 25 national identifiers of practitioners (IDNPS: 8 + RPPS, 0 + ADELI)"
					),
				},
				{"name": "_count", "type": "number"},
			]
			+ (
				[
					{
						"name": "service-type-reference",
						"definition": f"{SAS_IG}/SearchParameter/cptsslot-sp-servicetype",
						"type": "reference",
					}
				]
				if flow == CPTS_FLOW
				else []
			),
		},
		{
			"type": "Schedule",
			"profile": PROFILES["schedule"],
			"interaction": [{"code": "read"}, {"code": "search-type"}],
			"searchParam": [
				{
					"name": "actor",
					"definition": "http://hl7.org/fhir/SearchParameter/Schedule-actor",
					"type": "reference",
				}
			],
		},
		{
			"type": "Practitioner",
			"profile": PROFILES["practitioner"],
			# the regulators' accounts the SAS platform manages (« Gestion des comptes régulateurs »,
			# cpts_snp.services.sas_regulators): create, and the conditional update by identifier
			"supportedProfile": [REGULATOR_PROFILE],
			"documentation": _(
				"Doctors of the directory (read, search); regulators' accounts of the SAS platform "
				"(create, conditional update by identifier, profile FrPractitionerRegul)"
			),
			"interaction": [
				{"code": "read"},
				{"code": "search-type"},
				{"code": "create"},
				{"code": "update"},
			],
			"conditionalUpdate": True,
			"searchParam": [
				{
					"name": "identifier",
					"definition": "http://hl7.org/fhir/SearchParameter/Practitioner-identifier",
					"type": "token",
				}
			],
		},
		{"type": "PractitionerRole", "profile": PROFILES["role"], "interaction": [{"code": "read"}]},
	]
	if flow == CPTS_FLOW:
		resources += [
			{"type": "HealthcareService", "profile": PROFILES["service"], "interaction": [{"code": "read"}]},
			{"type": "Organization", "profile": PROFILES["organization"], "interaction": [{"code": "read"}]},
			{
				"type": "Appointment",
				"documentation": _(
					"The CPTS's own extension (not in the SAS guide): a partner books a slot by creating an "
					"Appointment, reads and searches its own bookings, cancels one with $cancel"
				),
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
		]
	return {
		"resourceType": "CapabilityStatement",
		"status": "active",
		"date": instant(published, timezone),
		"publisher": "CPTS",
		"kind": "instance",
		"instantiates": [CAPABILITIES[flow]],
		"software": {"name": "cpts_snp", "version": version},
		"implementation": {
			"description": _("Shared SNP agenda of the CPTS (slots offered by the CPTS)")
			if flow == CPTS_FLOW
			else _("Shared SNP agenda of the CPTS (slots of practitioners sharing them individually)"),
			"url": base_url,
		},
		"fhirVersion": "4.0.1",
		"format": [FHIR_JSON, "json"],
		"implementationGuide": [SAS_IG],
		"rest": [
			{
				"mode": "server",
				"security": {
					"cors": False,
					"description": _(
						"Mutual TLS with an IGC-Santé certificate of the SAS platform, or "
						"Authorization: token <key>:<secret> of a partner user of the CPTS"
					),
				},
				"resource": resources,
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
