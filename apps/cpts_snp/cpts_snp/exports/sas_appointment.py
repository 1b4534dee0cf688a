"""INT_R03 « Gestion de rendez-vous » of the SAS guide (ans.fhir.fr.sas 1.2.0): the FHIR R4 `Appointment` the
CPTS sends back to the national SAS platform for a booking a regulator made through the SAS, to the profile
FrAppointmentSAS. Pure mapping, no database: the caller (cpts_snp.services.sas_feedback) reads the booking,
its slot and doctor into a plain dict.

What the profile asks, and what we send:
- `meta.profile` FrAppointmentSAS (the SAS validator picks the profile from it);
- `identifier` 1..1: our own technical id of the booking (system: the CPTS's URI, value: the booking's name),
  the key of the later conditional updates `PUT [base]/Appointment?identifier=system|value`;
- `extension[appointmentOperator]` 1..1: the regulator who booked, as the SAS platform named him (INT_R02):
  IDNPS + urn:oid:1.2.250.1.71.4.2.1 when he has a national identifier, else INTRN + urn:oid:1.2.250.1.213.3.6;
- `status` (booked, fulfilled, noshow, cancelled: the values the SAS platform reads), `start`, `end`, `created`;
- `participant` 1..*: the doctor, by his IDNPS ("8" + RPPS, else "0" + ADELI), status `accepted` (the SAS
  only takes bookings the doctor accepts tacitly, guide « Statut d'acceptation du RDV »);
- `slot`: the slot booked (`Slot/<name>`, the id our FHIR Slot endpoint gives it).

Data minimisation: the profile asks nothing about the patient, and every participant's actor must carry an IDNPS
identifier (`participant.actor.identifier` 1..1 with a fixed IDNPS type), which a patient has not. We therefore
send no patient participant at all: no name, birth date, phone, e-mail nor reason for the visit leaves the CPTS
in this message (the SAS platform knows the patient from the regulation file it holds itself).
"""

from datetime import datetime

APPOINTMENT_PROFILE = "http://sas.fr/fhir/StructureDefinition/FrAppointmentSAS"
OPERATOR_EXTENSION = "http://interopsante.org/fhir/StructureDefinition/FrAppointmentOperator"
IDENTIFIER_TYPE_SYSTEM = "http://interopsante.org/fhir/CodeSystem/fr-v2-0203"
# Assigning authorities of the guide (« Nomenclatures » of INT_R03)
NATIONAL_PS_OID = "urn:oid:1.2.250.1.71.4.2.1"
SAS_TECHNICAL_OID = "urn:oid:1.2.250.1.213.3.6"
OPERATOR_SYSTEMS = {"IDNPS": NATIONAL_PS_OID, "INTRN": SAS_TECHNICAL_OID}

# SNP Booking status → http://hl7.org/fhir/appointmentstatus (the four values the SAS platform reads)
APPOINTMENT_STATUS = {
	"Booked": "booked",
	"Honoured": "fulfilled",
	"No-show": "noshow",
	"Cancelled": "cancelled",
}
# sas-valueset-participant-status (required): accepted or needs-action; the SAS takes tacitly accepted bookings
PARTICIPANT_STATUS = "accepted"


class AppointmentDataError(ValueError):
	"""The booking lacks what the profile requires. `reason` names what: "status", "practitioner" (the doctor's
	national identifier), "operator" (the SAS regulator) or "time" (start and end)."""

	def __init__(self, reason: str):
		super().__init__(reason)
		self.reason = reason


def identifier_system(base_url: str) -> str:
	"""The CPTS's own URI for its booking identifiers (the guide: an OID of the software if it has one, otherwise a
	URL of its own): `{booking base url}/fhir/Appointment`."""
	return f"{base_url.rstrip('/')}/fhir/Appointment"


def instant(value: datetime, tz) -> str:
	"""A FHIR dateTime with milliseconds and the UTC offset of the CPTS's time zone, as the guide's examples write
	them ("2024-06-12T16:40:00.000+02:00"). A naive value is a wall-clock time in `tz` (Frappe stores
	datetimes in the site's time zone); an aware one is converted."""
	local = value.replace(tzinfo=tz) if value.tzinfo is None else value.astimezone(tz)
	return local.isoformat(timespec="milliseconds")


def appointment(booking: dict, tz) -> dict:
	"""The FrAppointmentSAS resource of `booking`, a dict with:

	- name (the booking's id), status (SNP Booking status), slot (the slot's name),
	- start, end, created: datetimes (naive ones are in `tz`, the site's time zone),
	- practitioner_id: the doctor's IDNPS ("8" + RPPS or "0" + ADELI),
	- operator_id_type ("IDNPS" or "INTRN") and operator_id: the regulator as the SAS named him,
	- identifier_system: the CPTS's URI of booking identifiers (see identifier_system()).

	Raises AppointmentDataError when a required element is missing (the caller words it for the user).
	"""
	status = APPOINTMENT_STATUS.get(booking.get("status"))
	if not status:
		raise AppointmentDataError("status")
	if not booking.get("practitioner_id"):
		raise AppointmentDataError("practitioner")
	operator_type = booking.get("operator_id_type")
	if operator_type not in OPERATOR_SYSTEMS or not booking.get("operator_id"):
		raise AppointmentDataError("operator")
	if not (booking.get("start") and booking.get("end")):
		raise AppointmentDataError("time")

	resource = {
		"resourceType": "Appointment",
		"meta": {"profile": [APPOINTMENT_PROFILE]},
		"extension": [
			{
				"url": OPERATOR_EXTENSION,
				"valueReference": {
					"identifier": _identifier(
						operator_type, OPERATOR_SYSTEMS[operator_type], booking["operator_id"]
					)
				},
			}
		],
		"identifier": [{"system": booking["identifier_system"], "value": booking["name"]}],
		"status": status,
		"start": instant(booking["start"], tz),
		"end": instant(booking["end"], tz),
		"participant": [
			{
				"actor": {
					"type": "Practitioner",
					"identifier": _identifier("IDNPS", NATIONAL_PS_OID, booking["practitioner_id"]),
				},
				"status": PARTICIPANT_STATUS,
			}
		],
	}
	if booking.get("created"):
		resource["created"] = instant(booking["created"], tz)
	if booking.get("slot"):
		resource["slot"] = [{"reference": f"Slot/{booking['slot']}"}]
	return resource


def _identifier(type_code: str, system: str, value: str) -> dict:
	return {
		"type": {"coding": [{"system": IDENTIFIER_TYPE_SYSTEM, "code": type_code}]},
		"system": system,
		"value": value,
	}
