"""Territorial partners of the CPTS (SAS regulation, emergency departments, hospitals, pharmacies, nurses,
social services): who a partner user is, what his partner may do, how many requests he may send, and the log
of what partner users read and book.

A partner user (role Partenaire SNP, listed in the users of one SNP Partner) sees the free slots and the
bookings his own partner made (cpts_snp.permissions); he books through the one booking path
(services.booking.book_slot / the SNP Booking controller), which records his partner and the channel.
"""

import json
from datetime import timedelta

import frappe
from frappe import _
from frappe.model.document import Document
from frappe.utils import cint, getdate, now_datetime, today

from cpts_snp.exceptions import PartnerAccessError, PartnerRateLimitError
from cpts_snp.permissions import is_staff

PARTNER_ROLE = "Partenaire SNP"
BOOK = "Book"
CHANNEL_FOR_TYPE = {"SAS / SAMU": "SAS", "Emergency department": "Emergency department"}
REGULATED_TYPES = {"SAS / SAMU"}
RATE_WINDOW_SECONDS = 60
SLOT_FIELDS = [
	"name",
	"professional",
	"starts_at",
	"ends_at",
	"duration",
	"modality",
	"location",
	"sector",
	"is_pdsa",
]
PROFESSIONAL_FIELDS = ["name", "rpps", "first_name", "last_name", "full_name", "profession", "active"]
BOOKING_FIELDS = [
	"name",
	"slot",
	"status",
	"professional",
	"professional_name",
	"slot_start",
	"reason",
	"cancellation_reason",
	"patient_last_name",
	"patient_first_name",
	"partner",
	"channel",
	"creation",
]


def is_partner_user(user: str | None = None) -> bool:
	"""A user with the role Partenaire SNP and no staff role (staff rules win)."""
	user = user or frappe.session.user
	return PARTNER_ROLE in frappe.get_roles(user) and not is_staff(user)


def partner_of(user: str | None = None) -> frappe._dict | None:
	"""The SNP Partner `user` belongs to (name, type, access level, access period, rate limit), if any."""
	user = user or frappe.session.user
	if user in ("Guest", "Administrator"):
		return None
	Row = frappe.qb.DocType("SNP Partner User")
	Partner = frappe.qb.DocType("SNP Partner")
	rows = (
		frappe.qb.from_(Row)
		.join(Partner)
		.on(Partner.name == Row.parent)
		.select(
			Partner.name,
			Partner.partner_type,
			Partner.access_level,
			Partner.active_from,
			Partner.active_to,
			Partner.rate_limit_per_minute,
		)
		.where(Row.parenttype == "SNP Partner")
		.where(Row.parentfield == "users")
		.where(Row.user == user)
		.limit(1)
		.run(as_dict=True)
	)
	return rows[0] if rows else None


def is_active(partner, day=None) -> bool:
	day = getdate(day or today())
	return bool(partner) and (
		(not partner.active_from or getdate(partner.active_from) <= day)
		and (not partner.active_to or day <= getdate(partner.active_to))
	)


def can_book(partner) -> bool:
	return is_active(partner) and partner.access_level == BOOK


def ensure_active(partner) -> None:
	if not partner:
		frappe.throw(_("Your user is not attached to any partner of the CPTS"), PartnerAccessError)
	if not is_active(partner):
		frappe.throw(
			_("The access of {0} to the shared agenda is not active").format(partner.name), PartnerAccessError
		)


def ensure_can_book(partner) -> None:
	ensure_active(partner)
	if partner.access_level != BOOK:
		frappe.throw(
			_("{0} may view the free slots of the shared agenda but not book them").format(partner.name),
			PartnerAccessError,
			title=_("Booking not allowed"),
		)


def apply_partner(booking) -> None:
	"""Before a booking is inserted: a partner user's booking is his partner's, through the channel of the
	partner's type (SAS regulation: a regulated request); a view-only or inactive partner cannot book. Only a
	partner user's booking is a partner's (a booking of the staff names a partner only when the coordination
	records it)."""
	if not is_partner_user():
		from cpts_snp.permissions import COORDINATION

		if booking.partner and not booking.flags.cpts_server_write:
			if not COORDINATION.intersection(frappe.get_roles()):
				booking.partner = None
		return
	partner = partner_of()
	ensure_can_book(partner)
	booking.partner = partner.name
	booking.channel = CHANNEL_FOR_TYPE.get(partner.partner_type, "Other")
	if partner.partner_type not in REGULATED_TYPES:
		booking.regulated = 0  # only a regulation (SAS) makes a regulated request
	elif booking.flags.regulated_given is None:
		booking.regulated = 1  # the default of a regulation; it may say a request was not regulated
	else:
		booking.regulated = cint(booking.flags.regulated_given)


def cancel_booking(name: str, reason: str, partner=None) -> Document:
	"""Cancel a booking through the partner API or FHIR (the patient will not come): the booking's own rules apply
	(a reason, a booking still to honour, the slot offered again). Staff (no partner) cancel with their role's
	rights. Partner users have no write right on bookings in the desk: this is their one way to change one,
	checked here (their partner's booking, a partner allowed to book), hence ignore_permissions. Another
	partner's booking is « not found », as for reads."""
	if partner:
		ensure_can_book(partner)
		if not name or frappe.db.get_value("SNP Booking", name, "partner") != partner.name:
			frappe.throw(_("Booking {0} not found").format(name), frappe.DoesNotExistError)
	booking = frappe.get_doc("SNP Booking", name)
	booking.status = "Cancelled"
	booking.cancellation_reason = reason
	booking.flags.ignore_permissions = bool(partner)
	booking.save()
	return booking


def booking_inserted(booking) -> None:
	"""After a partner user's booking (desk, REST API, partner API or FHIR): it goes to the access log."""
	if booking.partner and is_partner_user():
		log_access("Book", f"SNP Booking/{booking.name}", {"slot": booking.slot}, 1, booking.partner)


def api_caller() -> frappe._dict | None:
	"""Who may use the partner API and the FHIR interface: staff (None returned: no partner, no limit) and
	partner users of an active partner (their partner returned, after counting the request against its
	limit). Anyone else is refused. An anonymous request may come from the SAS platform through the mTLS proxy:
	its client certificate then makes it the request of its partner's certificate user."""
	user = frappe.session.user
	if user == "Guest":
		from cpts_snp.services.client_certificates import certificate_partner

		if not certificate_partner():
			raise frappe.AuthenticationError
		user = frappe.session.user
	if is_staff(user):
		return None
	if PARTNER_ROLE not in frappe.get_roles(user):
		frappe.throw(
			_("The partner interface is reserved to the partners of the CPTS"), frappe.PermissionError
		)
	partner = partner_of(user)
	ensure_active(partner)
	if not frappe.flags.get("cpts_partner_request_counted"):
		frappe.flags.cpts_partner_request_counted = True
		check_rate_limit(partner.name, partner.rate_limit_per_minute)
	return partner


def check_rate_limit(partner: str, limit: int | None) -> None:
	"""At most `limit` requests per partner (all its users together, every path that returns patient data) in a
	window of a minute opened by its first request (Redis counter); 0 or empty: no limit."""
	if not limit:
		return
	key = frappe.cache.make_key(f"cpts_snp:partner-rate:{partner}")
	count = frappe.cache.incr(key)
	if count == 1:
		frappe.cache.expire(key, RATE_WINDOW_SECONDS)
	if count > limit:
		frappe.throw(
			_("Too many requests: at most {0} a minute for your partner, please try again shortly").format(
				limit
			),
			PartnerRateLimitError,
			title=_("Too many requests"),
		)


def reset_rate_limit(partner: str) -> None:
	frappe.cache.delete(frappe.cache.make_key(f"cpts_snp:partner-rate:{partner}"))


def log_access(action: str, resource: str, parameters, count: int, partner: str | None = None) -> None:
	"""One line of the partner access log. Written by the server for the caller, whatever his rights on the
	log (he cannot read it), on every request of the partner API and FHIR: an append-only row with nothing to
	validate (the server sets every field), written as one row without the cost of a document's life cycle
	(checks, version, notifications), in the request's transaction."""
	now, user = now_datetime(), frappe.session.user
	row = {
		# what Frappe's `hash` naming gives, and the fields Frappe sets on any insert
		"name": frappe.generate_hash(length=10),
		"owner": user,
		"creation": now,
		"modified": now,
		"modified_by": user,
		"timestamp": now,
		"user": user,
		"partner": partner,
		"action": action,
		"resource": resource[:140],
		"parameters": parameters if isinstance(parameters, str) else json.dumps(parameters, default=str),
		"record_count": count,
	}
	frappe.db.bulk_insert("SNP Partner Access Log", list(row), [tuple(row.values())])


# --- Queries of the partner API and the FHIR interface (with the caller's permissions) ---


def professionals_by_rpps(rpps: list[str]) -> dict[str, dict]:
	"""{professional name: directory data} for the RPPS numbers asked. Directory data (name, RPPS,
	profession) is public (RPPS directory); the caller was checked by api_caller, hence no permission rule."""
	if not rpps:
		return {}
	# plain SQL: every FHIR slot search runs it (the query builder costs more in Python than the query)
	fields = ", ".join(f"`{field}`" for field in PROFESSIONAL_FIELDS)
	rows = frappe.db.sql(
		f"SELECT {fields} FROM `tabSNP Professional` WHERE `rpps` IN %s AND `active` = 1",
		(tuple(rpps),),
		as_dict=True,
	)
	return {pro.name: pro for pro in rows}


def free_slots(professionals: list[str] | None, start_from, start_to, limit: int = 0) -> list[dict]:
	"""Free slots (of `professionals`, when given) starting in [start_from, start_to], soonest first.

	For callers checked by `api_caller` (staff, or a user of an active partner) who may read slots: every free
	slot is readable by both (`cpts_snp.permissions.partner_slot_query`: free slots and the partner's own), so
	the role's right is checked here and the slots are read by one query, without Frappe's list machinery (which
	took 2.6 ms of the 11 ms of CPU a FHIR slot search cost; 1 ms now)."""
	frappe.has_permission("SNP Slot", "read", throw=True)
	if professionals is not None and not professionals:
		return []
	from cpts_snp.services.cascade import partner_visible_sql

	conditions = ["`status` = 'Available'", "`starts_at` >= %(start_from)s", "`starts_at` <= %(start_to)s"]
	# not the slots the telesecretariat keeps for itself until the cascade opens them (services.cascade)
	conditions.append(partner_visible_sql())
	if professionals is not None:
		conditions.append("`professional` IN %(professionals)s")
	fields = ", ".join(f"`{field}`" for field in SLOT_FIELDS)
	return frappe.db.sql(
		f"""SELECT {fields} FROM `tabSNP Slot` WHERE {" AND ".join(conditions)}
		ORDER BY `starts_at` ASC{f" LIMIT {int(limit)}" if limit else ""}""",
		{
			"start_from": max(start_from, now_datetime()),
			"start_to": start_to,
			"professionals": tuple(professionals or ()),
		},
		as_dict=True,
	)


def bookings(
	names=None, statuses=None, start_from=None, start_to=None, slot=None, limit: int = 0
) -> list[dict]:
	"""Bookings the caller may read (a partner user: his partner's), soonest appointment first, with the end
	of their slot (`slot_end`)."""
	filters = []
	if names:
		filters.append(["name", "in", names])
	if statuses:
		filters.append(["status", "in", statuses])
	if start_from:
		filters.append(["slot_start", ">=", start_from])
	if start_to:
		filters.append(["slot_start", "<=", start_to])
	if slot:
		filters.append(["slot", "=", slot])
	rows = frappe.get_list(
		"SNP Booking",
		filters=filters,
		fields=BOOKING_FIELDS,
		order_by="slot_start desc",
		limit_page_length=limit,
	)
	if rows:
		# The end of each booking's slot, in one query (the booking is readable, so is the time of its slot).
		ends = dict(
			frappe.get_all(
				"SNP Slot",
				filters={"name": ("in", [row.slot for row in rows])},
				fields=["name", "ends_at"],
				as_list=True,
			)
		)
		for row in rows:
			row.slot_end = ends.get(row.slot)
	return rows


def default_search_horizon() -> timedelta:
	from cpts_snp.services.settings import booking_horizon_hours

	return timedelta(hours=booking_horizon_hours())
