"""The telesecretariat's work: finding the next free slots near a patient, and booking one with the call
logged in the same transaction."""

from datetime import timedelta

import frappe
from frappe import _
from frappe.query_builder import Case
from frappe.utils import get_datetime, now_datetime

from cpts_snp.exceptions import UnknownCommuneError
from cpts_snp.permissions import is_staff
from cpts_snp.services.booking import book_slot
from cpts_snp.services.settings import booking_horizon_hours

SAME_SECTOR, NEIGHBOUR_SECTOR, OTHER_SECTOR = 0, 1, 2
CHANNEL_FOR_CALLER = {"SAS": "SAS", "Emergency department": "Emergency department"}
CALL_FIELDS = (
	"received_at",
	"caller_type",
	"caller_name",
	"sector",
	"commune",
	"reason_category",
	"has_gp",
	"gp_available",
	"notes",
	"patient",
)


def match_sectors(query: str) -> set[str]:
	"""Sectors whose name, INSEE code, postal code or list of communes matches what was typed."""
	query = (query or "").strip()
	if not query:
		return set()
	like = f"%{query}%"
	Sector = frappe.qb.DocType("SNP Sector")
	rows = (
		frappe.qb.from_(Sector)
		.select(Sector.name)
		.where(
			Sector.sector_name.like(like)
			| Sector.communes.like(like)
			| (Sector.insee_code == query)
			| (Sector.postal_code == query)
		)
		.run(pluck=True)
	)
	return set(rows)


def neighbours_of(sectors: set[str]) -> set[str]:
	"""Neighbours in both directions (a sector listed as neighbour by another is its neighbour too)."""
	if not sectors:
		return set()
	Neighbour = frappe.qb.DocType("SNP Sector Neighbour")
	rows = (
		frappe.qb.from_(Neighbour)
		.select(Neighbour.parent, Neighbour.sector)
		.where(Neighbour.parenttype == "SNP Sector")
		.where(Neighbour.parent.isin(list(sectors)) | Neighbour.sector.isin(list(sectors)))
		.run()
	)
	return {name for pair in rows for name in pair} - sectors


def find_free_slots(query: str | None = None, now=None, limit: int = 40) -> dict:
	"""Free slots starting within the booking horizon, for the CPTS team (the shared agenda: every doctor's free
	slots). For a commune or sector: the caller's sector first, then its neighbours, then the rest of the territory,
	each soonest first; without one: soonest first.

	One indexed query on the horizon's free slots (status, start), ranked by distance in the database."""
	frappe.has_permission("SNP Slot", "read", throw=True)
	if not is_staff():
		frappe.throw(_("Only the CPTS team searches the shared agenda."), frappe.PermissionError)
	now = get_datetime(now) if now else now_datetime()
	until = now + timedelta(hours=booking_horizon_hours())
	matched = match_sectors(query)
	if query and query.strip() and not matched:
		frappe.throw(
			_(
				"No sector of the CPTS matches « {0} »: check the commune, its postal code or INSEE code"
			).format(query.strip()),
			UnknownCommuneError,
			title=_("Unknown commune"),
		)
	Slot = frappe.qb.DocType("SNP Slot")
	search = (
		frappe.qb.from_(Slot)
		.select(
			Slot.name,
			Slot.starts_at,
			Slot.ends_at,
			Slot.duration,
			Slot.professional_name,
			Slot.sector,
			Slot.modality,
			Slot.location,
			Slot.is_pdsa,
		)
		.where((Slot.status == "Available") & (Slot.starts_at > now) & (Slot.starts_at <= until))
	)
	if matched:
		near = neighbours_of(matched)
		distance = Case().when(Slot.sector.isin(sorted(matched)), SAME_SECTOR)
		if near:
			distance = distance.when(Slot.sector.isin(sorted(near)), NEIGHBOUR_SECTOR)
		distance = distance.else_(OTHER_SECTOR)
		search = search.select(distance.as_("distance")).orderby(distance)
	slots = search.orderby(Slot.starts_at).orderby(Slot.name).limit(limit).run(as_dict=True)
	if not matched:
		for slot in slots:
			slot.distance = None
	return {"sectors": sorted(matched), "horizon_end": until, "slots": slots}


def book_and_log_call(
	slot: str,
	patient: dict,
	call: dict,
	reason: str | None = None,
	regulated=None,
	patient_of_doctor=None,
	callback: str | None = None,
):
	"""Book `slot` and log the call that asked for it, in one transaction. Returns (booking, call).

	The two questions of the SNP supplement are asked on every call: `patient_of_doctor` (the patient is on the
	doctor's médecin traitant list) and `regulated` (SAS or 15; by default when the SAS calls). `callback`: the
	call-back request this booking serves (it leaves the list)."""
	call = {field: call.get(field) for field in CALL_FIELDS if call.get(field) not in (None, "")}
	call.setdefault("received_at", now_datetime())
	caller = call.get("caller_type") or "Patient"
	if regulated is None:
		regulated = caller == "SAS"
	booking = book_slot(
		slot,
		patient,
		reason=reason,
		channel=CHANNEL_FOR_CALLER.get(caller, "Telesecretariat"),
		request={
			"requested_at": call["received_at"],
			"regulated": int(bool(regulated)),
			"patient_of_doctor": int(bool(patient_of_doctor)),
		},
	)
	call_doc = frappe.get_doc(
		{
			"doctype": "SNP Call",
			**call,
			"sector": call.get("sector") or booking.sector,
			"outcome": "SNP appointment booked",
			"booking": booking.name,
			"patient": booking.patient,
		}
	).insert()
	booking.db_set("call", call_doc.name)
	if callback:
		from cpts_snp.services.callbacks import mark_booked

		mark_booked(callback, booking)
	return booking, call_doc


def log_call(call: dict, outcome: str):
	"""Log a call that ended without a booking (advice, referral, no slot)."""
	values = {field: call.get(field) for field in CALL_FIELDS if call.get(field) not in (None, "")}
	return frappe.get_doc({"doctype": "SNP Call", **values, "outcome": outcome}).insert()
