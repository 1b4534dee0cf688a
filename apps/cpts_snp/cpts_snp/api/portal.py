"""Endpoints of the doctors' portal. Each one starts from the logged-in doctor's own SNP Professional
(`current_professional`) and refuses anything that is not his (see services/portal.py)."""

import frappe
from frappe.utils import getdate

from cpts_snp.api import endpoint, json_argument
from cpts_snp.services import portal


@frappe.whitelist(methods=["POST"])
@endpoint
def publish_slot(
	starts_at: str, duration: int = 20, modality: str = "Office", place: str | None = None
) -> str:
	"""`place`: one of the CPTS's active places (empty: the doctor's main place)."""
	return portal.publish_slot(portal.current_professional(), starts_at, int(duration), modality, place).name


@frappe.whitelist(methods=["POST"])
@endpoint
def apply_template(template: str, monday: str) -> list[str]:
	professional = portal.current_professional()
	return portal.apply_template(professional, template, portal.monday_of(getdate(monday)))


@frappe.whitelist(methods=["POST"])
@endpoint
def withdraw_slot(slot: str) -> str:
	return portal.withdraw_slot(portal.current_professional(), slot).status


@frappe.whitelist(methods=["POST"])
@endpoint
def record_outcome(booking: str, status: str) -> str:
	return portal.record_outcome(portal.current_professional(), booking, status).status


@frappe.whitelist(methods=["POST"])
@endpoint
def cancel_booking(booking: str, reason: str) -> str:
	return portal.cancel_booking(portal.current_professional(), booking, reason).status


@frappe.whitelist()
@endpoint
def preview_absence(from_date: str, to_date: str) -> list[dict]:
	return portal.absence_preview(portal.current_professional(), from_date, to_date)


@frappe.whitelist(methods=["POST"])
@endpoint
def declare_absence(from_date: str, to_date: str, reason: str | None = None) -> dict:
	absence = portal.declare_absence(portal.current_professional(), from_date, to_date, reason)
	return {
		"name": absence.name,
		"cancelled_slots": absence.cancelled_slots,
		"affected": len(absence.affected_bookings),
	}


@frappe.whitelist(methods=["POST"])
@endpoint
def update_profile(phone=None, email=None, iban=None, bic=None, sectors=None) -> dict:
	sectors = json_argument(sectors, list, "sectors") if sectors is not None else None
	values = {"phone": phone, "email": email, "iban": iban, "bic": bic}
	doc = portal.update_profile(portal.current_professional(), values, sectors)
	return {field: doc.get(field) for field in portal.PROFILE_FIELDS}


@frappe.whitelist(methods=["POST"])
@endpoint
def regenerate_calendar_token() -> str:
	professional = portal.current_professional()
	portal.regenerate_feed_token(professional)
	return portal.feed_url(professional)


@frappe.whitelist(allow_guest=True, methods=["GET"])
@endpoint
def calendar_feed(professional: str, token: str):
	"""The doctor's private ICS feed: no login (calendar apps cannot log in), the secret token instead."""
	frappe.response.filename = "snp.ics"
	frappe.response.filecontent = portal.calendar_feed(professional, token)
	frappe.response.type = "download"
	frappe.response.display_content_as = "inline"


@frappe.whitelist(methods=["POST"])
@endpoint
def request_swap(permanence: str, to_professional: str, reason: str | None = None) -> dict:
	swap = portal.request_swap(portal.current_professional(), permanence, to_professional, reason)
	return {"name": swap.name, "status": swap.status}


@frappe.whitelist(methods=["POST"])
@endpoint
def answer_swap(swap: str, accept: int | str) -> dict:
	accepted = str(accept).lower() in ("1", "true", "yes", "accept")
	doc = portal.answer_swap(portal.current_professional(), swap, accepted)
	return {"name": doc.name, "status": doc.status}


@frappe.whitelist(methods=["POST"])
@endpoint
def set_teleconsultation_link(permanence: str, link: str | None = None) -> str | None:
	return portal.set_teleconsultation_link(
		portal.current_professional(), permanence, link
	).teleconsultation_link


@frappe.whitelist(methods=["POST"])
@endpoint
def declare_shift(starts_at: str, ends_at: str, notes: str | None = None) -> str:
	return portal.declare_shift(portal.current_professional(), starts_at, ends_at, notes).name


@frappe.whitelist(methods=["POST"])
@endpoint
def withdraw_shift(shift: str) -> str:
	portal.withdraw_shift(portal.current_professional(), shift)
	return shift


@frappe.whitelist(methods=["POST"])
@endpoint
def record_debrief(debrief: str, notes: str, done: int | str = 1) -> dict:
	finished = str(done).lower() in ("1", "true", "yes")
	doc = portal.record_debrief(portal.current_professional(), debrief, notes, finished)
	return {"name": doc.name, "status": doc.status}


@frappe.whitelist(methods=["GET"])
@endpoint
def annual_statement(year: int | str) -> None:
	"""The logged-in doctor's own annual statement of `year` (PDF): the professional is the session's, never a
	parameter (cpts_snp.services.annual_statement)."""
	from cpts_snp.services import annual_statement as statements

	professional = portal.current_professional()
	year = statements.check_year(year)
	frappe.local.response.filename = statements.filename(professional, year)
	frappe.local.response.filecontent = statements.pdf(professional, year)
	frappe.local.response.type = "download"
