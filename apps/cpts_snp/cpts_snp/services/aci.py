"""The ACI indicators: the figures the CPTS reports each year to the CPAM for its access-to-care mission, computed
from the app's data for one calendar year (report « Indicateurs ACI », its PDF).

The text: « Accord conventionnel interprofessionnel en faveur du développement de l'exercice coordonné et du
déploiement des communautés professionnelles territoriales de santé » (ACI CPTS) signed on 20 June 2019 (approved
by the arrêté of 21 August 2019), mission socle « Améliorer l'accès aux soins » in its two parts — « Faciliter
l'accès à un médecin traitant » and « Améliorer la prise en charge des soins non programmés en ville » — and its
avenant 2 signed on 20 December 2021, which ties that mission to the service d'accès aux soins (SAS): the count of
consultations registered for unscheduled care gives way to the number of doctors taking part in the SAS and the
number of SAS requests that ended in an appointment with the CPTS.

`INDICATORS` is the one definition of every figure: its label, unit, the rule used (shown beside the value) and
the text it answers; those the app's data cannot give carry the reason instead (`not_computed`). `compute(year)`
gives every value with four set-based queries for the whole year (professionals, slots, bookings, calls), never
one per doctor. The definitions of a slot made available, a booking and a consultation done are those of the
coordinator's other reports (cpts_snp.agenda.report.figures).
"""

from dataclasses import dataclass
from datetime import datetime

import frappe
from frappe import _, _lt
from frappe.query_builder import Interval
from frappe.query_builder.functions import Count, Sum
from frappe.utils import cint, flt

from cpts_snp.agenda.report.figures import CANCELLED, HONOURED, NO_SHOW, count_if, percentage
from cpts_snp.choices import CHOICES

REPORT = "Indicateurs ACI"
# the roles that may run the report and download its PDF (the report JSON lists the same, tests keep them equal)
ROLES = ("System Manager", "Coordinateur CPTS", "Comptable CPTS", "Trésorier CPTS")
MEMBERS = ("Active", "Suspended")  # onboarding statuses of a professional who signed the charter
PHYSICIANS = ("General practitioner", "Specialist physician")
RESERVED_FOR_CPTS = (
	"CPTS telesecretariat"  # a slot the SAS and the other partners do not see (services.cascade)
)
SAS_CHANNEL = "SAS"
BOOKED_OUTCOME = "SNP appointment booked"

MISSION_GP = _lt("Facilitate access to a médecin traitant")
MISSION_SNP = _lt("Improve the care of unscheduled visits in town")
MISSION_SAS = _lt("Take part in the service d'accès aux soins (SAS)")
MISSION_CALLS = _lt("Telesecretariat of the unscheduled care")

SOURCE_GP = _lt(
	"ACI CPTS of 20 June 2019, art. 4.1.1 « Faciliter l'accès à un médecin traitant » and its follow-up indicators"
)
SOURCE_SNP = _lt(
	"ACI CPTS of 20 June 2019, art. 4.1.2 « Améliorer la prise en charge des soins non programmés en ville » and its follow-up indicators"
)
SOURCE_SAS = _lt(
	"Avenant 2 to the ACI CPTS of 20 December 2021: the access-to-care mission and the SAS (number of doctors taking part in the SAS, SAS requests ended in an appointment)"
)
SOURCE_CALLS = _lt(
	"ACI CPTS of 20 June 2019, art. 4.1.2: the organisation the CPTS sets up to answer unscheduled requests (its telesecretariat)"
)

UNIT_YES_NO = _lt("yes / no")
UNIT_PROFESSIONALS = _lt("professionals")
UNIT_DOCTORS = _lt("doctors")
UNIT_PERCENT = "%"
UNIT_SLOTS = _lt("slots")
UNIT_HOURS = _lt("hours")
UNIT_APPOINTMENTS = _lt("appointments")
UNIT_CONSULTATIONS = _lt("consultations")
UNIT_CALLS = _lt("calls")


@dataclass(frozen=True)
class Indicator:
	key: str
	mission: str
	label: str
	unit: str
	definition: str
	source: str
	not_computed: bool = False  # the app's data cannot give it: `definition` says why


INDICATORS: tuple[Indicator, ...] = (
	Indicator(
		"snp_organisation",
		MISSION_SNP,
		_lt("Organisation of unscheduled care in place"),
		UNIT_YES_NO,
		_lt(
			"Yes when at least one slot was made available in the year through the CPTS (a slot not cancelled, counted at its start)."
		),
		SOURCE_SNP,
	),
	Indicator(
		"members",
		MISSION_SNP,
		_lt("Professionals who signed the charter"),
		UNIT_PROFESSIONALS,
		_lt(
			"Professionals who signed the SNP charter on or before 31 December of the year and are active or suspended today (candidates not counted)."
		),
		SOURCE_SNP,
	),
	Indicator(
		"participants",
		MISSION_SNP,
		_lt("Professionals taking part"),
		UNIT_PROFESSIONALS,
		_lt(
			"Professionals who made at least one slot available in the year (slot not cancelled), whatever their status today."
		),
		SOURCE_SNP,
	),
	Indicator(
		"participation_share",
		MISSION_SNP,
		_lt("Share of the professionals taking part"),
		UNIT_PERCENT,
		_lt("Professionals taking part / professionals who signed the charter, in percent (one decimal)."),
		SOURCE_SNP,
	),
	Indicator(
		"slots",
		MISSION_SNP,
		_lt("Slots made available"),
		UNIT_SLOTS,
		_lt(
			"Unscheduled-care slots of the year not cancelled (available, booked, honoured or no-show), counted at their start."
		),
		SOURCE_SNP,
	),
	Indicator(
		"hours",
		MISSION_SNP,
		_lt("Hours made available"),
		UNIT_HOURS,
		_lt("Sum of the durations of the slots made available, in hours (one decimal)."),
		SOURCE_SNP,
	),
	Indicator(
		"bookings",
		MISSION_SNP,
		_lt("Appointments booked"),
		UNIT_APPOINTMENTS,
		_lt(
			"Bookings not cancelled whose slot starts in the year, whatever the channel (telesecretariat, SAS, emergency department, doctor, other)."
		),
		SOURCE_SNP,
	),
	Indicator(
		"consultations",
		MISSION_SNP,
		_lt("Unscheduled consultations done"),
		UNIT_CONSULTATIONS,
		_lt(
			"Bookings of the year recorded as honoured: the consultations registered for unscheduled care (the ACI's first indicator, replaced by the SAS figures in avenant 2)."
		),
		SOURCE_SNP,
	),
	Indicator(
		"no_shows",
		MISSION_SNP,
		_lt("Appointments not honoured"),
		UNIT_APPOINTMENTS,
		_lt("Bookings of the year recorded as no-show (the patient did not come)."),
		SOURCE_SNP,
	),
	Indicator(
		"regulated",
		MISSION_SNP,
		_lt("Consultations done after a medical regulation"),
		UNIT_CONSULTATIONS,
		_lt(
			"Consultations done whose booking is marked « regulated » (the request went through the SAS or the 15 regulation)."
		),
		SOURCE_SNP,
	),
	Indicator(
		"within_24h",
		MISSION_SNP,
		_lt("Consultations done within 24 hours of the request"),
		UNIT_PERCENT,
		_lt(
			"Consultations done whose slot started at most 24 hours after the request was received / consultations done, in percent."
		),
		SOURCE_SNP,
	),
	Indicator(
		"within_48h",
		MISSION_SNP,
		_lt("Consultations done within 48 hours of the request"),
		UNIT_PERCENT,
		_lt(
			"Consultations done whose slot started at most 48 hours after the request was received / consultations done, in percent."
		),
		SOURCE_SNP,
	),
	Indicator(
		"emergency_visits",
		MISSION_SNP,
		_lt("Emergency department visits, with or without hospital stay"),
		"",
		_lt(
			"Not computed by the app: the visits to the territory's emergency departments come from the hospitals' records (RPU), which the ARS and the Assurance Maladie hold."
		),
		SOURCE_SNP,
		not_computed=True,
	),
	Indicator(
		"sas_doctors",
		MISSION_SAS,
		_lt("Doctors taking part in the SAS"),
		UNIT_DOCTORS,
		_lt(
			"General practitioners and specialist physicians who made at least one slot of the year visible to the SAS (a slot not cancelled, not reserved for the CPTS telesecretariat or opened to partners later)."
		),
		SOURCE_SAS,
	),
	Indicator(
		"sas_bookings",
		MISSION_SAS,
		_lt("SAS requests ended in an appointment"),
		UNIT_APPOINTMENTS,
		_lt(
			"Bookings not cancelled of the year made through the SAS channel (the SAS platform or its regulators)."
		),
		SOURCE_SAS,
	),
	Indicator(
		"calls",
		MISSION_CALLS,
		_lt("Calls handled by the telesecretariat"),
		UNIT_CALLS,
		_lt(
			"Calls recorded by the telesecretariat in the year (counted on the day received), whatever the caller."
		),
		SOURCE_CALLS,
	),
	# one indicator per outcome of a call, in the order of the form (cpts_snp.choices): see _outcome_indicators
	Indicator(
		"calls_without_gp",
		MISSION_GP,
		_lt("Calls of patients without a médecin traitant"),
		UNIT_CALLS,
		_lt(
			"Calls of the year from a patient for whom the box « the patient has a médecin traitant » was not ticked: the patients the CPTS can direct towards a médecin traitant."
		),
		SOURCE_GP,
	),
	Indicator(
		"found_gp",
		MISSION_GP,
		_lt("Patients without a médecin traitant who found one"),
		"",
		_lt(
			"Not computed by the app: it does not record the declarations of médecin traitant; the Assurance Maladie gives the figure."
		),
		SOURCE_GP,
		not_computed=True,
	),
	Indicator(
		"without_gp_trend",
		MISSION_GP,
		_lt("Change in the patients without a médecin traitant (17 and over, 70 and over, ALD, C2S)"),
		"",
		_lt(
			"Not computed by the app: the counts of insured people without a médecin traitant on the territory come from the Assurance Maladie."
		),
		SOURCE_GP,
		not_computed=True,
	),
)


def _outcome_key(outcome: str) -> str:
	return "calls_" + frappe.scrub(outcome).replace("-", "_")


def _outcome_indicators() -> list[Indicator]:
	return [
		Indicator(
			_outcome_key(outcome),
			MISSION_CALLS,
			_("Calls with outcome « {0} »").format(_(outcome)),
			UNIT_CALLS,
			_(
				"Calls of the year whose recorded outcome is « {0} »; with the other outcomes they add up to the calls handled."
			).format(_(outcome)),
			SOURCE_CALLS,
		)
		for outcome in CHOICES[("SNP Call", "outcome")]
		if outcome
	]


def indicators() -> list[Indicator]:
	"""Every indicator in the order of the report: the SNP mission, the SAS, the telesecretariat and each outcome
	of its calls, then access to a médecin traitant."""
	listed = list(INDICATORS)
	after_calls = next(i for i, indicator in enumerate(listed) if indicator.key == "calls") + 1
	return listed[:after_calls] + _outcome_indicators() + listed[after_calls:]


def year_bounds(year: int) -> tuple[datetime, datetime]:
	if not 2000 <= cint(year) <= 2100:
		frappe.throw(_("The year must be between 2000 and 2100"), frappe.ValidationError)
	return datetime(cint(year), 1, 1), datetime(cint(year) + 1, 1, 1)


def compute(year: int) -> dict[str, object]:
	"""{indicator key: value} for `year`: numbers, a percentage (None when there is nothing to divide by) or
	Yes/No; the indicators the app does not compute are left out."""
	start, end = year_bounds(year)
	values = {}
	values.update(_professionals(end))
	values.update(_slots(start, end))
	values.update(_bookings(start, end))
	values.update(_calls(start, end))
	values["snp_organisation"] = values["slots"] > 0
	values["participation_share"] = percentage(values["participants"], values["members"])
	return values


def _professionals(end: datetime) -> dict:
	Professional = frappe.qb.DocType("SNP Professional")
	members = (
		frappe.qb.from_(Professional)
		.select(Count(Professional.name))
		.where(Professional.status.isin(MEMBERS))
		.where(Professional.charter_signed_on < end.date())
	).run()[0][0]
	return {"members": cint(members)}


def _slots(start: datetime, end: datetime) -> dict:
	Slot = frappe.qb.DocType("SNP Slot")
	Professional = frappe.qb.DocType("SNP Professional")
	seen_by_sas = (Slot.reserved_for.isnull()) | (Slot.reserved_for != RESERVED_FOR_CPTS)
	seen_by_sas = seen_by_sas | Slot.opened_to_partners_at.isnotnull()
	row = (
		frappe.qb.from_(Slot)
		.select(
			Count(Slot.name).as_("slots"),
			Sum(Slot.duration).as_("minutes"),
			Count(Slot.professional).distinct().as_("participants"),
		)
		.where(Slot.starts_at >= start)
		.where(Slot.starts_at < end)
		.where(Slot.status != CANCELLED)
	).run(as_dict=True)[0]
	sas_doctors = (
		frappe.qb.from_(Slot)
		.join(Professional)
		.on(Professional.name == Slot.professional)
		.select(Count(Slot.professional).distinct())
		.where(Slot.starts_at >= start)
		.where(Slot.starts_at < end)
		.where(Slot.status != CANCELLED)
		.where(Professional.profession.isin(PHYSICIANS))
		.where(seen_by_sas)
	).run()[0][0]
	return {
		"slots": cint(row.slots),
		"hours": round(flt(row.minutes) / 60, 1),
		"participants": cint(row.participants),
		"sas_doctors": cint(sas_doctors),
	}


def _bookings(start: datetime, end: datetime) -> dict:
	Booking = frappe.qb.DocType("SNP Booking")
	honoured = Booking.status == HONOURED
	row = (
		frappe.qb.from_(Booking)
		.select(
			Count(Booking.name).as_("bookings"),
			count_if(honoured).as_("consultations"),
			count_if(Booking.status == NO_SHOW).as_("no_shows"),
			count_if(honoured & (Booking.regulated == 1)).as_("regulated"),
			count_if(honoured & (Booking.slot_start <= Booking.requested_at + Interval(hours=24))).as_(
				"in_24h"
			),
			count_if(honoured & (Booking.slot_start <= Booking.requested_at + Interval(hours=48))).as_(
				"in_48h"
			),
			count_if(Booking.channel == SAS_CHANNEL).as_("sas_bookings"),
		)
		.where(Booking.slot_start >= start)
		.where(Booking.slot_start < end)
		.where(Booking.status != CANCELLED)
	).run(as_dict=True)[0]
	consultations = cint(row.consultations)
	return {
		"bookings": cint(row.bookings),
		"consultations": consultations,
		"no_shows": cint(row.no_shows),
		"regulated": cint(row.regulated),
		"within_24h": percentage(cint(row.in_24h), consultations),
		"within_48h": percentage(cint(row.in_48h), consultations),
		"sas_bookings": cint(row.sas_bookings),
	}


def _calls(start: datetime, end: datetime) -> dict:
	Call = frappe.qb.DocType("SNP Call")
	rows = (
		frappe.qb.from_(Call)
		.select(
			Call.outcome,
			Count(Call.name).as_("calls"),
			count_if((Call.caller_type == "Patient") & (Call.has_gp == 0)).as_("without_gp"),
		)
		.where(Call.received_at >= start)
		.where(Call.received_at < end)
		.groupby(Call.outcome)
	).run(as_dict=True)
	values = {_outcome_key(outcome): 0 for outcome in CHOICES[("SNP Call", "outcome")] if outcome}
	for row in rows:
		if row.outcome:
			values[_outcome_key(row.outcome)] = cint(row.calls)
	values["calls"] = sum(cint(row.calls) for row in rows)
	values["calls_without_gp"] = sum(cint(row.without_gp) for row in rows)
	return values


def display_value(indicator: Indicator, value) -> str | int | float | None:
	"""The value as the report shows it: Yes/No, a number, empty when there is nothing to divide by, or « Not
	computed by the app »."""
	if indicator.not_computed:
		return _("Not computed by the app")
	if isinstance(value, bool):
		return _("Yes") if value else _("No")
	return value


def rows(year: int) -> list[dict]:
	"""The report's rows: mission, indicator, value, unit, definition, source (all translated)."""
	values = compute(year)
	return [
		{
			"key": indicator.key,
			"mission": str(indicator.mission),
			"indicator": str(indicator.label),
			"value": display_value(indicator, values.get(indicator.key)),
			"unit": str(indicator.unit),
			"definition": str(indicator.definition),
			"source": str(indicator.source),
			"computed": 0 if indicator.not_computed else 1,
		}
		for indicator in indicators()
	]


def cpts_name() -> str:
	return frappe.db.get_single_value("SNP Settings", "cpts_name") or "CPTS"


def may_run(user: str | None = None) -> bool:
	"""The coordination, the accountant and the treasurer (the report's roles)."""
	return bool(set(frappe.get_roles(user)) & set(ROLES))
