"""The call-back list (« Liste de rappel »): a caller for whom the search found no slot waits for one in a sector
and on a date (or between two dates). A slot published (created, generated) or freed (its booking cancelled)
that matches — same sector or a neighbouring one, within the wanted dates, still free — shows up first on the
télésecrétariat's desk page, and the télésecrétaires get a desk notification, once per request and slot.

Matching runs in a background job after the commit that published or freed the slot, so publishing never waits.
Requests whose wanted dates are past leave the list (daily job)."""

from datetime import datetime, time, timedelta

import frappe
from frappe import _
from frappe.utils import escape_html, format_datetime, get_datetime, getdate, now_datetime, today
from frappe.utils.user import get_users_with_role

from cpts_snp.permissions import server_write
from cpts_snp.services.telesecretariat import log_call, neighbours_of

OPEN_STATUSES = ("Waiting", "Offered")
MATCH_JOB = "cpts_snp.services.callbacks.match_waiting"
TELESECRETARY = "Télésecrétaire"
CALLBACK_FIELDS = (
	"sector",
	"wanted_from",
	"wanted_to",
	"reason_category",
	"notes",
	"patient_last_name",
	"patient_first_name",
	"patient_date_of_birth",
	"patient_phone",
)


def put_on_list(values: dict, call: dict | None = None):
	"""Log the call (outcome « No slot available ») and put the caller on the call-back list, in one transaction.
	Returns the SNP Callback."""
	callback = frappe.get_doc(
		{
			"doctype": "SNP Callback",
			**{f: values.get(f) for f in CALLBACK_FIELDS if values.get(f) not in (None, "")},
		}
	)
	callback.insert()
	if call is not None:
		call_doc = log_call(
			{**call, "patient": callback.patient, "sector": call.get("sector") or callback.sector},
			"No slot available",
		)
		callback.db_set("call", call_doc.name, update_modified=False)
	return callback


def _day_bounds(callback) -> tuple[datetime, datetime]:
	first = getdate(callback.wanted_from)
	last = getdate(callback.wanted_to or callback.wanted_from)
	return datetime.combine(first, time.min), datetime.combine(last + timedelta(days=1), time.min)


def open_callbacks(limit: int = 100) -> list:
	"""The requests still on the list (wanted dates not past), oldest first."""
	return frappe.get_all(
		"SNP Callback",
		# wanted_to is always set (the wanted day itself when only one is given)
		filters=[["status", "in", OPEN_STATUSES], ["wanted_to", ">=", today()]],
		fields=[
			"name",
			"status",
			"sector",
			"wanted_from",
			"wanted_to",
			"reason_category",
			"patient",
			"patient_last_name",
			"patient_first_name",
			"patient_date_of_birth",
			"patient_phone",
			"creation",
		],
		order_by="creation asc",
		limit_page_length=limit,
	)


def matching_slots(callbacks: list, now=None, per_request: int = 5) -> dict:
	"""{request: [free slots that match it]}, soonest first: one query for all the requests (their sectors and
	neighbours, the span of their dates), then each request keeps its own sectors and dates."""
	now = get_datetime(now) if now else now_datetime()
	callbacks = [c for c in callbacks if getdate(c.wanted_to or c.wanted_from) >= now.date()]
	if not callbacks:
		return {}
	sectors_of = {}
	for callback in callbacks:
		if callback.sector not in sectors_of:
			sectors_of[callback.sector] = {callback.sector} | neighbours_of({callback.sector})
	all_sectors = set().union(*sectors_of.values())
	start = max(now, min(_day_bounds(c)[0] for c in callbacks))
	end = max(_day_bounds(c)[1] for c in callbacks)
	slots = frappe.get_all(
		"SNP Slot",
		filters=[
			["status", "=", "Available"],
			["sector", "in", sorted(all_sectors)],
			["starts_at", ">", start],
			["starts_at", "<", end],
		],
		fields=["name", "starts_at", "professional_name", "sector", "modality", "location"],
		order_by="starts_at asc",
		limit_page_length=1000,
	)
	found = {}
	for callback in callbacks:
		first, after_last = _day_bounds(callback)
		near = sectors_of[callback.sector]
		mine = [
			s
			for s in slots
			if s.sector in near
			and first <= get_datetime(s.starts_at) < after_last
			and get_datetime(s.starts_at) > now
		]
		if mine:
			found[callback.name] = mine[:per_request]
	return found


def desk_panel() -> list:
	"""The « Rappels en attente » panel of the desk page: the requests on the list that a free slot matches now,
	each with its matching slots, then the others."""
	callbacks = open_callbacks()
	slots = matching_slots(callbacks)
	for callback in callbacks:
		callback.slots = slots.get(callback.name, [])
	return sorted(callbacks, key=lambda c: (not c.slots, c.creation))


# --- Matching after a slot is published or freed ----------------------------------------------------------------
def slot_changed(doc, method=None) -> None:
	"""doc_events of SNP Slot (after_insert, on_update): a slot that becomes free schedules the matching job, once
	per transaction, after its commit."""
	if doc.status != "Available" or not (method == "after_insert" or doc.has_value_changed("status")):
		return
	schedule_matching()


def booking_freed(booking) -> None:
	"""A cancelled booking frees its slot (SNP Booking.on_update)."""
	schedule_matching()


def schedule_matching() -> None:
	"""Enqueue the matching job after this transaction's commit when requests wait (one check and at most one job
	per transaction, however many slots it publishes)."""
	if frappe.flags.cpts_callback_matching_checked:
		return
	frappe.flags.cpts_callback_matching_checked = True

	def reset():
		frappe.flags.cpts_callback_matching_checked = False

	frappe.db.after_rollback.add(reset)
	if not frappe.db.exists("SNP Callback", {"status": ["in", OPEN_STATUSES]}):
		frappe.db.after_commit.add(reset)
		return

	def enqueue():
		reset()
		# no deduplication: a job already running may have read the slots before this commit
		frappe.enqueue(MATCH_JOB, queue="short")

	frappe.db.after_commit.add(enqueue)


def match_waiting(now=None) -> int:
	"""The job: for each request on the list, the matching free slots not yet notified are recorded on it and the
	télésecrétaires get one desk notification. Idempotent: a (request, slot) pair is notified once (the request's
	row is locked while its offers are written; a unique key on (request, slot) backs it)."""
	found = matching_slots(open_callbacks(limit=500), now=now)
	notified = 0
	for name, slots in found.items():
		callback = frappe.get_doc("SNP Callback", name, for_update=True)
		if callback.status not in OPEN_STATUSES:
			continue
		known = {row.slot for row in callback.offers}
		new = [s for s in slots if s.name not in known]
		if not new:
			continue
		moment = now_datetime()
		for slot in new:
			callback.append(
				"offers",
				{
					"slot": slot.name,
					"starts_at": slot.starts_at,
					"professional_name": slot.professional_name,
					"notified_on": moment,
				},
			)
		callback.status = "Offered"  # a matching slot was put to the télésecrétariat (still open)
		callback.flags.ignore_links = True
		server_write(callback).save(ignore_permissions=True)
		_notify(callback, new)
		notified += 1
	return notified


def _notify(callback, slots: list) -> None:
	first = slots[0]
	subject = _("Call back {0} {1}: a slot on {2} with {3} matches the request").format(
		escape_html(callback.patient_first_name),
		escape_html(callback.patient_last_name),
		format_datetime(first.starts_at, "dd/MM/yyyy HH:mm"),
		escape_html(first.professional_name),
	)
	for user in telesecretaries():
		frappe.get_doc(
			{
				"doctype": "Notification Log",
				"for_user": user,
				"type": "Alert",
				"subject": subject,
				"document_type": "SNP Callback",
				"document_name": callback.name,
				"from_user": "Administrator",
			}
		).insert(ignore_permissions=True)


def telesecretaries() -> list[str]:
	return get_users_with_role(TELESECRETARY)


# --- The life of a request ----------------------------------------------------------------------------------------
def mark_booked(callback: str, booking) -> None:
	doc = frappe.get_doc("SNP Callback", callback, for_update=True)
	if doc.status not in OPEN_STATUSES:
		frappe.throw(_("Call-back request {0} is no longer on the list").format(callback))
	doc.status = "Booked"
	doc.booking = booking.name
	doc.closed_reason = _("Booked")
	server_write(doc).save()


def drop(callback: str, reason: str | None = None) -> None:
	doc = frappe.get_doc("SNP Callback", callback, for_update=True)
	if doc.status not in OPEN_STATUSES:
		return
	doc.status = "Dropped"
	doc.closed_reason = reason or _("Dropped by the télésecrétariat")
	server_write(doc).save()


def expire(now=None) -> int:
	"""Daily: the requests whose wanted dates are past leave the list (status Dropped, reason « Expired »).
	Idempotent."""
	day = getdate(now) if now else getdate(today())
	Callback = frappe.qb.DocType("SNP Callback")
	from frappe.query_builder.functions import Coalesce

	names = (
		frappe.qb.from_(Callback)
		.select(Callback.name)
		.where(Callback.status.isin(OPEN_STATUSES))
		.where(Coalesce(Callback.wanted_to, Callback.wanted_from) < day)
		.run(pluck=True)
	)
	for name in names:
		doc = frappe.get_doc("SNP Callback", name)
		doc.status = "Dropped"
		doc.closed_reason = _("The wanted dates are past")
		server_write(doc).save(ignore_permissions=True)
	return len(names)


def waiting_in_sectors_of(professional: str) -> int:
	"""How many requests wait for a slot in the doctor's sectors or their neighbours (the portal's agenda)."""
	own = set(
		frappe.get_all(
			"SNP Professional Sector",
			filters={"parent": professional, "parenttype": "SNP Professional"},
			pluck="sector",
			ignore_permissions=True,
		)
	)
	main = frappe.db.get_value("SNP Professional", professional, "sector")
	if main:
		own.add(main)
	if not own:
		return 0
	sectors = own | neighbours_of(own)
	Callback = frappe.qb.DocType("SNP Callback")
	from frappe.query_builder.functions import Coalesce, Count

	return (
		frappe.qb.from_(Callback)
		.select(Count(Callback.name))
		.where(Callback.status.isin(OPEN_STATUSES))
		.where(Callback.sector.isin(sorted(sectors)))
		.where(Coalesce(Callback.wanted_to, Callback.wanted_from) >= getdate(today()))
		.run()[0][0]
	)
