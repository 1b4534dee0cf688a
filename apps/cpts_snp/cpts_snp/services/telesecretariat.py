"""The telesecretariat's work: finding the next free slots near a patient, and booking one with the call
logged in the same transaction."""

from datetime import timedelta

import frappe
from frappe import _
from frappe.utils import get_datetime, now_datetime

from cpts_snp.exceptions import UnknownCommuneError
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
	"""Free slots starting within the booking horizon. For a commune or sector: the caller's sector first, then
	its neighbours, then the rest of the territory, each soonest first; without one: soonest first.

	At most three indexed queries (one per distance), whatever the size of the agenda."""
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
	window = [["status", "=", "Available"], ["starts_at", ">", now], ["starts_at", "<=", until]]
	if matched:
		near = neighbours_of(matched)
		groups = [
			(SAME_SECTOR, [["sector", "in", sorted(matched)]]),
			(NEIGHBOUR_SECTOR, [["sector", "in", sorted(near)]] if near else None),
			(OTHER_SECTOR, [["sector", "not in", sorted(matched | near)]]),
		]
	else:
		groups = [(None, [])]
	slots = []
	for distance, sector_filter in groups:
		if sector_filter is None or len(slots) >= limit:
			continue
		rows = frappe.get_list(
			"SNP Slot",
			filters=window + sector_filter,
			fields=[
				"name",
				"starts_at",
				"ends_at",
				"duration",
				"professional_name",
				"sector",
				"modality",
				"location",
				"is_pdsa",
			],
			order_by="starts_at asc",
			limit_page_length=limit - len(slots),
		)
		for row in rows:
			row.distance = distance
		slots += rows
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
