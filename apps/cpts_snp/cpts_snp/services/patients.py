"""Patients of the SNP mission, stored once: every booking (whatever its channel) and every call points at its
patient, found by the deduplication key (normalised phone + birth date + names, cpts_snp.rules.identifiers) or
created in the booking's own transaction; the télésecrétariat finds a patient by phone or by name and date of birth
with the history of the last 12 months; the coordination merges two duplicates."""

import frappe
from frappe import _
from frappe.utils import add_months, escape_html, getdate, now_datetime, validate_email_address

from cpts_snp.exceptions import MergeError
from cpts_snp.permissions import COORDINATION, server_write
from cpts_snp.rules.identifiers import normalise_person_name, normalise_phone, patient_dedup_key

HISTORY_MONTHS = 12
# SNP Booking's identity copy → SNP Patient's fields
BOOKING_IDENTITY = {
	"patient_last_name": "last_name",
	"patient_first_name": "first_name",
	"patient_date_of_birth": "date_of_birth",
	"patient_phone": "phone",
	"patient_email": "email",
}


def key_of(doc) -> str | None:
	"""The dedup key of the identity copied on a booking or a call-back; None when it is incomplete."""
	if not (
		doc.get("patient_last_name") and doc.get("patient_first_name") and doc.get("patient_date_of_birth")
	):
		return None
	return patient_dedup_key(
		doc.patient_last_name,
		doc.patient_first_name,
		getdate(doc.patient_date_of_birth),
		doc.get("patient_phone"),
	)


def _live(name: str | None) -> str | None:
	"""The patient kept for `name`: a merged duplicate leads to the record it was merged into."""
	seen = set()
	while name and name not in seen:
		seen.add(name)
		merged_into = frappe.db.get_value("SNP Patient", name, "merged_into")
		if not merged_into:
			return name
		name = merged_into
	return name


def attach_patient(doc) -> str | None:
	"""Set `doc.patient` (a booking or a call-back carrying the identity copy) to the patient of its identity,
	creating him when he is new. Runs in the caller's transaction; the patient is written by the server whoever
	books (a partner, the SAS link, the portal hold no right on patients)."""
	if not _acceptable(doc):
		return None  # the booking's own checks refuse it with their own message
	key = key_of(doc)
	if not key:
		return None
	name = _by_key(key)
	if not name:
		patient = frappe.get_doc(
			{"doctype": "SNP Patient", **{p: doc.get(b) for b, p in BOOKING_IDENTITY.items() if doc.get(b)}}
		)
		messages = len(frappe.local.message_log)
		try:
			patient.insert(ignore_permissions=True, ignore_links=True)
			name = patient.name
		except frappe.UniqueValidationError:
			# the same new patient booked at the same moment by another request: its record won (the insert
			# waited for it on the unique key); the caller is not shown Frappe's « must be unique »
			del frappe.local.message_log[messages:]
			name = _by_key(key, committed=True)
	elif doc.get("patient_email"):
		if not frappe.db.get_value("SNP Patient", name, "email"):
			frappe.db.set_value("SNP Patient", name, "email", doc.patient_email, update_modified=False)
	doc.patient = _live(name)
	return doc.patient


def _acceptable(doc) -> bool:
	"""Whether the identity copied on `doc` passes the patient's checks (names without markup, a valid phone,
	a birth date not in the future)."""
	from cpts_snp.rules.text import has_markup

	if has_markup(doc.patient_last_name) or has_markup(doc.patient_first_name):
		return False
	if doc.get("patient_phone") and not normalise_phone(doc.patient_phone):
		return False
	try:
		return getdate(doc.patient_date_of_birth) <= getdate()
	except Exception:
		return False


def _by_key(key: str, committed: bool = False) -> str | None:
	"""The patient of `key`. A plain read takes no lock (two bookings of one patient never wait for each other);
	`committed`: a locking read, which sees the record another transaction has just committed."""
	query = "SELECT `name` FROM `tabSNP Patient` WHERE `dedup_key` = %s"
	found = frappe.db.sql(query + (" FOR UPDATE" if committed else ""), key)
	return found[0][0] if found else None


def find_patients(phone=None, last_name=None, first_name=None, date_of_birth=None, limit: int = 20) -> list:
	"""The patients (not merged away) with this phone, or this name and date of birth (accents and case ignored),
	each with his SNP bookings and calls of the last 12 months, most recent first."""
	Patient = frappe.qb.DocType("SNP Patient")
	query = (
		frappe.qb.from_(Patient)
		.select(
			Patient.name,
			Patient.last_name,
			Patient.first_name,
			Patient.date_of_birth,
			Patient.phone,
			Patient.email,
			Patient.reminders_opt_out,
			Patient.dedup_key,
		)
		.where(Patient.merged_into.isnull() | (Patient.merged_into == ""))
		.orderby(Patient.last_name)
		.limit(limit)
	)
	normalised = normalise_phone(phone) if phone else None
	if phone:
		if not normalised:
			return []
		query = query.where(Patient.phone == normalised)
	elif last_name and date_of_birth:
		# the names as the dedup key holds them (…|birth date|last name|first name): accents and case ignored
		day = getdate(date_of_birth)
		names = [_like(normalise_person_name(last_name)), _like(normalise_person_name(first_name)) or "%"]
		query = query.where(Patient.date_of_birth == day).where(
			Patient.dedup_key.like(f"%|{day.isoformat()}|{names[0]}|{names[1]}")
		)
	else:
		return []
	rows = query.run(as_dict=True)
	for row in rows:
		row.pop("dedup_key")
		row.update(history(row.name))
	return rows


def _like(text: str) -> str:
	"""`text` matched literally in a LIKE pattern."""
	return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def history(patient: str) -> dict:
	"""The patient's SNP bookings (consultations from 12 months ago on, upcoming ones included) and calls of
	the last 12 months."""
	since = add_months(now_datetime(), -HISTORY_MONTHS)
	bookings = frappe.get_all(
		"SNP Booking",
		filters={"patient": patient, "slot_start": [">=", since]},
		fields=["name", "slot_start", "professional_name", "sector", "status", "reason"],
		order_by="slot_start desc",
	)
	calls = frappe.get_all(
		"SNP Call",
		filters={"patient": patient, "received_at": [">=", since]},
		fields=["name", "received_at", "caller_type", "outcome", "booking"],
		order_by="received_at desc",
	)
	return {"bookings": bookings, "calls": calls}


def ensure_coordination() -> None:
	if frappe.session.user != "Administrator" and not COORDINATION.intersection(frappe.get_roles()):
		frappe.throw(_("Only the coordination can merge two patients"), frappe.PermissionError)


def merge(kept: str, duplicate: str) -> dict:
	"""Move the bookings, calls and call-backs of `duplicate` to `kept`, mark the duplicate as merged into it and
	record the merge on the kept patient. Coordination only; one transaction."""
	ensure_coordination()
	if kept == duplicate:
		frappe.throw(_("A patient cannot be merged with himself"), MergeError)
	kept_doc = frappe.get_doc("SNP Patient", kept, for_update=True)
	duplicate_doc = frappe.get_doc("SNP Patient", duplicate, for_update=True)
	for doc in (kept_doc, duplicate_doc):
		if doc.merged_into:
			frappe.throw(
				_("Patient {0} was already merged into {1}").format(doc.name, doc.merged_into), MergeError
			)
	moved = {}
	for doctype in ("SNP Booking", "SNP Call", "SNP Callback"):
		table = frappe.qb.DocType(doctype)
		names = frappe.get_all(doctype, filters={"patient": duplicate}, pluck="name")
		if names:
			frappe.qb.update(table).set(table.patient, kept).where(table.patient == duplicate).run()
		moved[doctype] = len(names)
	for field in ("email", "ins"):
		if not kept_doc.get(field) and duplicate_doc.get(field):
			kept_doc.set(field, duplicate_doc.get(field))
	kept_doc.reminders_opt_out = int(bool(kept_doc.reminders_opt_out or duplicate_doc.reminders_opt_out))
	server_write(kept_doc).save()
	duplicate_doc.merged_into = kept
	duplicate_doc.merged_by = frappe.session.user
	duplicate_doc.merged_on = now_datetime()
	duplicate_doc.flags.ignore_validate = True  # its identity stays as it was typed
	server_write(duplicate_doc).save()
	kept_doc.add_comment(
		"Info",
		_("Merged with {0} ({1} {2}): {3} bookings and {4} calls moved here").format(
			duplicate,
			escape_html(duplicate_doc.first_name),
			escape_html(duplicate_doc.last_name),
			moved["SNP Booking"],
			moved["SNP Call"],
		),
	)
	return {"kept": kept, "duplicate": duplicate, "moved": moved}


def link_unlinked_bookings() -> int:
	"""Link every booking without a patient, and the calls of the bookings, to the patient of its identity,
	creating the missing patients. Set-based (sites set up before SNP Patient, the demo year's bulk-loaded
	bookings): the new patients in one bulk insert, the links in one UPDATE per thousand bookings. Idempotent.
	Returns the number of bookings linked."""
	Booking = frappe.qb.DocType("SNP Booking")
	rows = (
		frappe.qb.from_(Booking)
		.select(
			Booking.name,
			Booking.patient_last_name,
			Booking.patient_first_name,
			Booking.patient_date_of_birth,
			Booking.patient_phone,
			Booking.patient_email,
		)
		.where(Booking.patient.isnull() | (Booking.patient == ""))
		.orderby(Booking.creation)
		.run(as_dict=True)
	)
	by_key = {}
	for row in rows:
		key = key_of(row)
		if key:
			by_key.setdefault(key, []).append(row)
	if by_key:
		known = {
			p.dedup_key: p.merged_into or p.name
			for p in frappe.get_all("SNP Patient", fields=["name", "dedup_key", "merged_into"])
		}
		_insert_patients({key: by_key[key][-1] for key in by_key if key not in known}, known)
		_set_patients({b.name: known[key] for key, bookings in by_key.items() for b in bookings})
	# the calls follow their booking
	frappe.db.sql(
		"""UPDATE `tabSNP Call` c JOIN `tabSNP Booking` b ON b.`name` = c.`booking`
		SET c.`patient` = b.`patient`
		WHERE (c.`patient` IS NULL OR c.`patient` = '') AND IFNULL(b.`patient`, '') != ''"""
	)
	return sum(len(bookings) for bookings in by_key.values())


def _insert_patients(latest_by_key: dict, known: dict) -> None:
	"""One SNP Patient per new key, from its latest booking (names cleaned, a phone or e-mail the rules refuse
	left out), named from the doctype's sequence; `known` gets their names."""
	if not latest_by_key:
		return
	from cpts_snp.rules.text import clean_name
	from cpts_snp.services import naming

	pattern, moment, user = naming.pattern_of("SNP Patient"), now_datetime(), frappe.session.user
	fields = [
		"name",
		"creation",
		"modified",
		"owner",
		"modified_by",
		"docstatus",
		"idx",
		"last_name",
		"first_name",
		"date_of_birth",
		"phone",
		"email",
		"reminders_opt_out",
		"dedup_key",
	]
	values = []
	keys = list(latest_by_key)
	for key, number in zip(keys, naming.reserve("SNP Patient", len(keys)), strict=True):
		booking = latest_by_key[key]
		name = naming.format_name(pattern, moment, number)
		known[key] = name
		phone = normalise_phone(booking.patient_phone) if booking.patient_phone else None
		values.append(
			(
				name,
				moment,
				moment,
				user,
				user,
				0,
				0,
				clean_name(booking.patient_last_name),
				clean_name(booking.patient_first_name),
				getdate(booking.patient_date_of_birth),
				phone,
				validate_email_address(booking.patient_email or "") or None,
				0,
				key,
			)
		)
	frappe.db.bulk_insert("SNP Patient", fields, values, chunk_size=2000)


def _set_patients(patient_of: dict, chunk: int = 1000) -> None:
	"""SET patient = CASE name WHEN … for the bookings of `patient_of` ({booking: patient}), a chunk at a time."""
	from pypika.terms import Case

	Booking = frappe.qb.DocType("SNP Booking")
	names = list(patient_of)
	for start in range(0, len(names), chunk):
		part = names[start : start + chunk]
		case = Case()
		for name in part:
			case = case.when(Booking.name == name, patient_of[name])
		frappe.qb.update(Booking).set(Booking.patient, case).where(Booking.name.isin(part)).run()
