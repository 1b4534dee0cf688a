"""The one definition of the app's lists of choices and of the colours of their statuses (issue 15 §8).

Each Select field of the app's doctypes has its values here (the doctype JSON's `options` repeat them for Frappe,
and tests/test_choices.py keeps both equal); statuses have their Frappe indicator colour. Their French labels are
the translations of the values (`_()` / `__()`). The desk's JavaScript reads them from the boot
(`frappe.boot.cpts_snp_choices`, set by `boot`) and writes no list or colour of its own."""

import frappe

# (doctype, fieldname) -> the values, in the order the forms offer them ("" = nothing chosen yet)
CHOICES: dict[tuple[str, str], tuple[str, ...]] = {
	("SNP Availability Template", "modality"): ("Office", "Teleconsultation", "Home visit"),
	("SNP Availability Template", "reserved_for"): ("", "CPTS telesecretariat", "Open to partners"),
	# the kinds of staff read of patient data (cpts_snp.services.access_audit)
	("SNP Access Audit", "kind"): (
		"Record read",
		"List read",
		"Report read",
		"Data export",
		"Print or PDF",
		"Record search",
	),
	("SNP Booking", "status"): ("Booked", "Honoured", "No-show", "Cancelled"),
	("SNP Booking", "channel"): ("Telesecretariat", "SAS", "Emergency department", "Doctor", "Other"),
	("SNP Booking", "operator_id_type"): ("", "IDNPS", "INTRN"),
	("SNP Booking", "cancelled_by"): ("", "CPTS", "Doctor", "Partner"),
	("SNP Booking", "rebook_outcome"): ("", "Rebooked", "Patient informed, no new appointment"),
	("SNP Directory Import", "status"): ("Pending", "Running", "Completed", "Failed"),
	("SNP Message Log", "channel"): ("Email", "SMS"),
	("SNP Message Log", "status"): ("Queued", "Sent", "Failed"),
	("SNP Professional", "profession"): (
		"General practitioner",
		"Specialist physician",
		"SASPAS intern",
		"Nurse",
		"Pharmacist",
		"Physiotherapist",
		"Midwife",
		"Other",
	),
	("SNP Professional", "status"): ("Candidate", "Charter signed", "Active", "Suspended"),
	("SNP Professional", "directory_status"): ("Not checked", "Match", "Absent", "Mismatch"),
	("SNP Settings", "slot_reserved_for_default"): ("CPTS telesecretariat", "Open to partners"),
	("SNP Slot", "modality"): ("Office", "Teleconsultation", "Home visit"),
	("SNP Slot", "status"): ("Available", "Booked", "Honoured", "No-show", "Cancelled"),
	("SNP Slot", "reserved_for"): ("", "CPTS telesecretariat", "Open to partners"),
	("SNP Indemnity Payment", "status"): ("Computed", "Approved", "Paid", "Cancelled"),
	("SNP Indemnity Payment Line", "item_type"): (
		"Slot made available",
		"Consultation honoured",
		"No-show",
		"Permanence hour",
		"Supervision half-day",
		"Meeting attendance",
		"Monthly cap",
	),
	("SNP Payment Run", "status"): (
		"Draft",
		"Computing",
		"Computed",
		"Failed",
		"Approved",
		"Paid",
		"Cancelled",
	),
	("SNP Run IBAN Change", "change"): ("Confirmed since the previous run", "Awaiting confirmation"),
	("SNP Debrief", "status"): ("To do", "Done"),
	("SNP Intern", "status"): ("Active", "Suspended", "Finished"),
	("SNP Partner", "partner_type"): (
		"SAS / SAMU",
		"Emergency department",
		"Hospital",
		"Pharmacy",
		"Nurse",
		"MAIA / CLIC / CCAS",
		"Other",
	),
	("SNP Partner", "access_level"): ("View availability", "Book"),
	("SNP Partner Access Log", "action"): (
		"Search slots",
		"Read bookings",
		"Book",
		"Booking refused",
		"Booking cancelled",
		"Regulator account",
		"Regulator account refused",
	),
	("SNP SAS Message", "operation"): ("create", "update"),
	("SNP SAS Message", "booking_status"): ("Booked", "Honoured", "No-show", "Cancelled"),
	("SNP SAS Message", "status"): ("Pending", "Sent", "Failed", "Given up"),
	("SNP Permanence", "organisation_type"): ("CPTS", "MSP", "ESP"),
	("SNP Permanence", "status"): ("Scheduled", "Cancelled"),
	("SNP Permanence Swap", "status"): ("Requested", "Accepted", "Refused"),
	("SNP Call", "caller_type"): ("Patient", "Pharmacist", "Nurse", "SAS", "Emergency department", "Other"),
	("SNP Call", "reason_category"): (
		"",
		"Fever or infection",
		"Pain",
		"Minor injury",
		"Skin",
		"Ear, nose and throat",
		"Urinary problem",
		"Prescription",
		"Other",
	),
	("SNP Call", "gp_available"): ("", "Yes", "No", "Unknown"),
	("SNP Call", "outcome"): (
		"SNP appointment booked",
		"Advice given",
		"Referred to the 15",
		"Referred to PDSA",
		"Referred to the emergency department",
		"No slot available",
	),
	("SNP Callback", "status"): ("Waiting", "Offered", "Booked", "Dropped"),
	("SNP Meeting", "meeting_type"): ("Complex case concertation", "Working group", "Training"),
	("SNP Meeting", "status"): ("Planned", "Held", "Attendance confirmed", "Cancelled"),
	("SNP Meeting Participant", "kind"): ("Professional", "Partner staff", "Other"),
}
CHOICES[("SNP Callback", "reason_category")] = CHOICES[("SNP Call", "reason_category")]
# RGPD (cpts_snp.services.privacy): the requests of a person about his data, and the log of the retention job
CHOICES[("SNP Data Subject Request", "request_type")] = ("Access", "Erasure", "Access and erasure")
CHOICES[("SNP Data Subject Request", "status")] = ("Open", "Searched", "Exported", "Erased")
CHOICES[("SNP Privacy Log", "operation")] = ("Retention", "Erasure")
CHOICES[("SNP Privacy Log", "status")] = ("Completed", "Failed", "Disabled")

# (doctype, fieldname) -> value -> Frappe indicator colour (list views, forms, desk page, calendar)
COLOURS: dict[tuple[str, str], dict[str, str]] = {
	("SNP Slot", "status"): {
		"Available": "green",
		"Booked": "blue",
		"Honoured": "darkgrey",
		"No-show": "orange",
		"Cancelled": "red",
	},
	("SNP Booking", "status"): {
		"Booked": "blue",
		"Honoured": "green",
		"No-show": "orange",
		"Cancelled": "red",
	},
	("SNP Payment Run", "status"): {
		"Draft": "red",
		"Computing": "orange",
		"Computed": "blue",
		"Failed": "red",
		"Approved": "purple",
		"Paid": "green",
		"Cancelled": "darkgrey",
	},
	("SNP Indemnity Payment", "status"): {
		"Computed": "blue",
		"Approved": "purple",
		"Paid": "green",
		"Cancelled": "darkgrey",
	},
	("SNP SAS Message", "status"): {
		"Pending": "orange",
		"Sent": "green",
		"Failed": "red",
		"Given up": "darkgrey",
	},
	("SNP Message Log", "status"): {"Queued": "orange", "Sent": "green", "Failed": "red"},
	("SNP Directory Import", "status"): {
		"Pending": "gray",
		"Running": "orange",
		"Completed": "green",
		"Failed": "red",
	},
	("SNP Professional", "status"): {
		"Candidate": "orange",
		"Charter signed": "blue",
		"Active": "green",
		"Suspended": "red",
	},
	("SNP Intern", "status"): {"Active": "green", "Suspended": "red", "Finished": "darkgrey"},
	("SNP Debrief", "status"): {"To do": "orange", "Done": "green"},
	("SNP Permanence", "status"): {"Scheduled": "green", "Cancelled": "red"},
	("SNP Permanence Swap", "status"): {"Requested": "orange", "Accepted": "green", "Refused": "red"},
	("SNP Callback", "status"): {
		"Waiting": "orange",
		"Offered": "blue",
		"Booked": "green",
		"Dropped": "darkgrey",
	},
	("SNP Meeting", "status"): {
		"Planned": "blue",
		"Held": "orange",
		"Attendance confirmed": "green",
		"Cancelled": "darkgrey",
	},
}

COLOURS[("SNP Data Subject Request", "status")] = {
	"Open": "orange",
	"Searched": "blue",
	"Exported": "purple",
	"Erased": "darkgrey",
}

# Frappe's indicator colours (frappe/public/scss/common/indicator.scss) and their hex, for the calendar's events
INDICATOR_HEX = {
	"green": "#2f9e44",
	"blue": "#1c7ed6",
	"orange": "#f08c00",
	"red": "#e03131",
	"darkgrey": "#868e96",
	"gray": "#adb5bd",
	"grey": "#adb5bd",
	"purple": "#7048e8",
	"yellow": "#f59f00",
	"pink": "#d6336c",
	"cyan": "#1098ad",
	"light-blue": "#4dabf7",
}

# Lists the desk offers that are part of a list above.
CALL_OUTCOMES_WITHOUT_BOOKING = tuple(
	v for v in CHOICES[("SNP Call", "outcome")] if v != "SNP appointment booked"
)
# How far a proposed slot is from the caller's sector (cpts_snp.services.telesecretariat): label and colour
SLOT_DISTANCES = {
	0: ("Same sector", "green"),
	1: ("Neighbouring sector", "blue"),
	2: ("Other sector", "gray"),
}


def options(doctype: str, fieldname: str) -> tuple[str, ...]:
	return CHOICES[(doctype, fieldname)]


def colour(doctype: str, fieldname: str, value: str | None, default: str = "gray") -> str:
	return COLOURS.get((doctype, fieldname), {}).get(value or "", default)


def hex_colour(doctype: str, fieldname: str, value: str | None) -> str:
	return INDICATOR_HEX[colour(doctype, fieldname, value, "darkgrey")]


def for_desk() -> dict:
	"""What the desk's JavaScript reads: {options|colours: {doctype: {fieldname: …}}, lists: {name: […]}}."""
	served = {"options": {}, "colours": {}}
	for (doctype, fieldname), values in CHOICES.items():
		served["options"].setdefault(doctype, {})[fieldname] = list(values)
	for (doctype, fieldname), colours in COLOURS.items():
		served["colours"].setdefault(doctype, {})[fieldname] = dict(colours)
	from cpts_snp.services.annual_statement import READERS
	from cpts_snp.services.directory import FLAGGED, NOT_CHECKED
	from cpts_snp.services.payment_run import COMPUTABLE

	served["lists"] = {
		# who downloads any doctor's annual statement (the SNP Professional form's button)
		"annual_statement_readers": list(READERS),
		"call_outcomes_without_booking": list(CALL_OUTCOMES_WITHOUT_BOOKING),
		"computable_run_statuses": list(COMPUTABLE),
		# directory checks that need the coordination's attention, and the report's choices of them
		"directory_flagged": list(FLAGGED),
		"directory_report_statuses": [*FLAGGED, NOT_CHECKED],
		"slot_distances": {str(k): {"label": label, "colour": c} for k, (label, c) in SLOT_DISTANCES.items()},
	}
	return served


def boot(bootinfo) -> None:
	"""extend_bootinfo hook: the choices and colours, for every desk session."""
	if frappe.session.user != "Guest":
		bootinfo.cpts_snp_choices = for_desk()


@frappe.whitelist()
def get_choices() -> dict:
	"""The same, for a page loaded without the desk's boot (or after a change of the definitions)."""
	return for_desk()
