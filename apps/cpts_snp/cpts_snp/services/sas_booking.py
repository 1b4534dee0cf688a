"""The SAS booking link: a regulator coming from the national SAS platform opens a doctor's agenda page of the
CPTS (the URL every FHIR Slot carries in `Slot.comment`, guide ans.fhir.fr.sas, FAQ « Quelle URL doit être
transmise dans l'élément comment ? »: the doctor's agenda, not the slot) and books one of his slots in two steps.

The regulator's rights exist only when he comes through the SAS (spécifications fonctionnelles: the platform adds
`origin=sas` to the address): without it, the agenda is shown read-only. Who may book here: the CPTS staff, and
users of an active SAS / SAMU partner allowed to book. Every check is made here, on the server; the slot rules
(free, locked, taken meanwhile) are those of the one booking function, services.booking.book_slot.
"""

from urllib.parse import quote

import frappe
from frappe import _
from frappe.utils import get_datetime, get_url, now_datetime

from cpts_snp.exceptions import PartnerAccessError, SlotUnavailableError
from cpts_snp.rules.identifiers import practitioner_identifier
from cpts_snp.services import partners
from cpts_snp.services.booking import book_slot, patient_details
from cpts_snp.services.places import label_of
from cpts_snp.services.sas_regulators import is_active_row

AGENDA_PATH = "/sas/agenda/"
ORIGIN_SAS = "sas"
CHANNEL = "SAS"
PROFESSIONAL_FIELDS = ["name", "full_name", "first_name", "last_name", "profession", "place", "active"]


def booking_base_url() -> str:
	"""SNP Settings `booking_base_url` (the public address of the booking pages), or the site's URL."""
	base = ""
	if frappe.get_meta("SNP Settings").has_field("booking_base_url"):
		base = (frappe.db.get_single_value("SNP Settings", "booking_base_url") or "").strip()
	return (base or get_url()).rstrip("/")


def agenda_url(professional: str) -> str:
	"""The address of `professional`'s agenda page (an SNP Professional name), for `Slot.comment`: the SAS
	platform adds `origin=sas` (and maybe other parameters) when it sends a regulator there."""
	return f"{booking_base_url()}{AGENDA_PATH}{quote(professional, safe='')}"


def agenda_path(professional: str, origin: str | None = None, **params) -> str:
	"""The page's own address on this site (for links and redirects), keeping `origin`."""
	query = {"origin": origin, **params}
	pairs = "&".join(f"{key}={quote(str(value), safe='')}" for key, value in query.items() if value)
	return f"{AGENDA_PATH}{quote(professional, safe='')}" + (f"?{pairs}" if pairs else "")


def is_from_sas(origin: str | None) -> bool:
	"""The SAS platform adds `origin=sas` when it sends a regulator (spécifications techniques, « URL de
	redirection pour la prise de RDV »)."""
	return (origin or "").strip().lower() == ORIGIN_SAS


# --- Who is asking -------------------------------------------------------------------------------------------


def caller(origin: str | None) -> frappe._dict:
	"""The caller of the page or of a booking, once checked: staff, or a user of an active partner (counted
	against its rate limit). Guests raise AuthenticationError, other users PermissionError.

	`can_book`: whether he may book as a regulator here (he came through the SAS, and is staff or a user of a
	SAS / SAMU partner allowed to book); otherwise `notice` says why the agenda is read-only."""
	partner = partners.api_caller()
	result = frappe._dict(partner=partner, can_book=False, notice=None)
	if partner and partner.access_level != partners.BOOK:
		result.notice = _("{0} may view the free slots of the shared agenda but not book them").format(
			partner.name
		)
	elif partner and partner.partner_type not in partners.REGULATED_TYPES:
		result.notice = _("Booking through the SAS link is reserved to the SAS regulation")
	elif partner and not is_active_row(frappe.session.user, partner):
		result.notice = _("Your regulator account has been disabled by the SAS platform")
	elif not is_from_sas(origin):
		result.notice = _(
			"Read only: booking as a regulator is possible only when you come from the SAS platform"
		)
	else:
		result.can_book = True
	return result


def operator_identity(user: str, partner=None) -> dict:
	"""Who booked, as the SAS names a regulator (INT_R03 appointmentOperator), from his partner user row: the
	national identifier the SAS platform gave his account (IDNPS, as sent, cpts_snp.services.sas_regulators),
	else its SAS technical identifier (INTRN, a UUID), else IDNPS "8" + the row's RPPS (the one Pro Santé
	Connect identifies him by); his login (INTRN) only as the last resort (staff, a row without any of them)."""
	row = {}
	if partner:
		row = (
			frappe.db.get_value(
				"SNP Partner User",
				{"parenttype": "SNP Partner", "parent": partner.name, "user": user},
				["rpps", "national_id", "sas_id"],
				as_dict=True,
			)
			or {}
		)
	name = frappe.db.get_value("User", user, "full_name") or user
	if row.get("national_id"):
		return {"operator_id_type": "IDNPS", "operator_id": row["national_id"], "operator_name": name}
	if row.get("sas_id"):
		return {"operator_id_type": "INTRN", "operator_id": row["sas_id"], "operator_name": name}
	idnps = practitioner_identifier(row["rpps"], None) if row.get("rpps") else None
	if idnps:
		return {"operator_id_type": "IDNPS", "operator_id": idnps, "operator_name": name}
	return {"operator_id_type": "INTRN", "operator_id": user, "operator_name": name}


# --- The doctor's agenda ----------------------------------------------------------------------------------------


def professional_of_page(professional: str) -> frappe._dict:
	"""The active professional whose agenda the page shows (« not found » otherwise), with his usual place."""
	pro = frappe.db.get_value("SNP Professional", professional, PROFESSIONAL_FIELDS, as_dict=True)
	if not professional or not pro or not pro.active:
		frappe.throw(_("This agenda does not exist"), frappe.DoesNotExistError)
	pro.place_label = place_label(pro.place)
	return pro


def place_label(place: str | None, location: str | None = None) -> str:
	"""Where the consultation takes place: a slot's `location` (the label of its place, services.places), else
	the label of the place."""
	return location or label_of(place) or ""


def window() -> tuple:
	"""The slots the page offers: every slot the FHIR facade may show the SAS platform (a search covers at most
	`exports.fhir.MAX_RANGE` from now), so that a regulator finds here the slot he saw there. Whether a booking is
	an SNP one (within the booking horizon of the request) is `book_slot`'s business, as everywhere."""
	from cpts_snp.exports.fhir import MAX_RANGE

	now = now_datetime()
	return now, now + MAX_RANGE


def free_slots(professional: str) -> list[dict]:
	start_from, start_to = window()
	slots = partners.free_slots([professional], start_from, start_to)
	for slot in slots:
		slot.place_label = place_label(slot.get("place"), slot.get("location"))
	return slots


def slot_of_page(professional: str, slot: str) -> frappe._dict:
	"""The slot asked for, if it is one of this professional's (« not found » otherwise, whatever it is)."""
	row = frappe.db.get_value(
		"SNP Slot",
		slot,
		["name", "professional", "starts_at", "ends_at", "status", "modality", "place", "location"],
		as_dict=True,
	)
	if not slot or not row or row.professional != professional:
		frappe.throw(_("This slot is not in the agenda of this doctor"), frappe.DoesNotExistError)
	row.place_label = place_label(row.place, row.location)
	return row


def ensure_bookable(slot) -> None:
	"""A free slot, not started, within the page's window."""
	start_from, start_to = window()
	starts_at = get_datetime(slot.starts_at)
	if slot.status != "Available" or starts_at <= start_from:
		frappe.throw(
			_("This slot is no longer available: please choose another one"),
			SlotUnavailableError,
			title=_("Slot unavailable"),
		)
	if starts_at > start_to:
		frappe.throw(
			_("This slot is too far ahead to be booked here"),
			SlotUnavailableError,
			title=_("Slot unavailable"),
		)


def page_booking(professional: str, booking: str) -> frappe._dict | None:
	"""A booking of this professional the caller may read (his partner's), for the confirmation."""
	if not booking or not frappe.db.exists("SNP Booking", booking):
		return None
	doc = frappe.get_doc("SNP Booking", booking)
	if doc.professional != professional or not frappe.has_permission("SNP Booking", "read", doc=doc):
		return None
	slot = frappe.db.get_value("SNP Slot", doc.slot, ["ends_at", "place", "location"], as_dict=True) or {}
	return frappe._dict(
		name=doc.name,
		slot_start=doc.slot_start,
		slot_end=slot.get("ends_at"),
		professional_name=doc.professional_name,
		place_label=place_label(slot.get("place"), slot.get("location")),
		patient_last_name=doc.patient_last_name,
		patient_first_name=doc.patient_first_name,
		patient_date_of_birth=doc.patient_date_of_birth,
		reason=doc.reason,
		channel=doc.channel,
		regulated=doc.regulated,
	)


# --- Booking -----------------------------------------------------------------------------------------------------


def book(professional: str, slot: str, origin: str | None, patient: dict, reason: str | None = None):
	"""Book `slot` of `professional`'s agenda for `patient` as a regulator coming from the SAS: channel SAS,
	regulated, the regulator named on the booking. Refused (nothing written) for a caller who may not book
	here, a slot of another doctor, one taken or out of the horizon."""
	who = caller(origin)
	if not who.can_book:
		frappe.throw(who.notice, PartnerAccessError, title=_("Booking not allowed"))
	professional_of_page(professional)
	ensure_bookable(slot_of_page(professional, slot))
	booking = book_slot(slot, patient, reason=reason, channel=CHANNEL, request={"regulated": 1})
	operator = operator_identity(frappe.session.user, who.partner)
	if frappe.get_meta("SNP Booking").has_field("operator_id"):
		# after the insert: book_slot takes patient and request fields only; same transaction
		booking.db_set(operator, update_modified=False)
	return booking


def book_from_form(professional, slot, origin, last_name, first_name, date_of_birth, phone=None, reason=None):
	booking = book(
		professional, slot, origin, patient_details(last_name, first_name, date_of_birth, phone), reason
	)
	return {
		"name": booking.name,
		"channel": booking.channel,
		"regulated": booking.regulated,
		"redirect": agenda_path(professional, origin, rdv=booking.name),
	}
