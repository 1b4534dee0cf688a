"""Patients' personal data (RGPD, issue 17 §1): how long they are kept, and the rights of the person.

- Retention (`anonymise_expired`, a daily job): past the months of SNP Settings (« Données personnelles »), the
  bookings (by their consultation), calls (by their date) and call-back requests (by their last wanted day) lose
  the patient's identity, contact, reason and free text; their status, dates, sector, professional, channel,
  partner, supplement questions and every payment item stay, so the key figures, the ACI indicators and the
  payment runs are the same before and after. Each record is stamped `anonymised_on` (a rerun changes nothing);
  the patient records nothing points at any more are deleted, and so are the copies Frappe and the app keep of
  the anonymised records (history, comments, e-mails, messages sent, SAS payloads sent, attachments, deleted
  documents, error logs). The partners' access log loses its request parameters past its own months. 0 months:
  nothing is anonymised (the retention is off). One SNP Privacy Log row per run, with its counts.
- Rights (`search`, `export`, `erase`, called by cpts_snp.api.privacy for the coordination only): the records of
  one person (last name and date of birth, accents and case ignored as in services.patients.find_patients, or a
  phone), linked to an SNP Patient or not; their export (JSON, PDF) attached privately to the request; their
  erasure: the same anonymisation, the patient records deleted, every copy purged, in one transaction. The
  request then keeps its date, type, who acted and the counts, and a keyed fingerprint of the identity only.

Everything is set-based SQL, a batch of records at a time, never a document save per row.
"""

import hashlib
import hmac
import json
from collections import Counter

import frappe
from frappe import _
from frappe.utils import add_months, cint, get_datetime, getdate, now_datetime

from cpts_snp.exceptions import DataRequestError
from cpts_snp.permissions import COORDINATION, server_write
from cpts_snp.rules.identifiers import normalise_person_name, normalise_phone

REQUEST = "SNP Data Subject Request"
LOG = "SNP Privacy Log"
MARKER = "Anonymisé"
# the birth date an anonymised record keeps where one is mandatory
ANONYMISED_BIRTH_DATE = "1900-01-01"
BATCH = 500
ERASED = "Erased"
ERASURE_TYPES = ("Erasure", "Access and erasure")

# What an anonymised record keeps of the patient: {field: value} (None: emptied). `_comments` is Frappe's copy of
# the record's last comments. Not listed, so kept: status, dates, sector, professional, channel, partner,
# supplement questions and note, regulator, outcome, caller type, médecin traitant questions, reason category.
ANONYMISED = {
	"SNP Booking": {
		"patient": None,
		"patient_last_name": MARKER,
		"patient_first_name": MARKER,
		"patient_date_of_birth": ANONYMISED_BIRTH_DATE,
		"patient_phone": None,
		"patient_email": None,
		"reason": None,
		"cancellation_reason": None,
		"_comments": None,
	},
	"SNP Call": {"patient": None, "caller_name": None, "commune": None, "notes": None, "_comments": None},
	"SNP Callback": {
		"patient": None,
		"patient_last_name": MARKER,
		"patient_first_name": MARKER,
		"patient_date_of_birth": ANONYMISED_BIRTH_DATE,
		"patient_phone": MARKER,
		"notes": None,
		"_comments": None,
	},
}
# The moment a record's patient data start to age: the consultation, the call, the last day wanted
RECORD_DATE = {
	"SNP Booking": "COALESCE(`slot_start`, `creation`)",
	"SNP Call": "COALESCE(`received_at`, `creation`)",
	"SNP Callback": "COALESCE(`wanted_to`, `wanted_from`, `creation`)",
}
# The same date, read in the copy Frappe keeps of a deleted record (Deleted Document's JSON)
DELETED_DATE = {
	"SNP Booking": "JSON_VALUE(`data`, '$.slot_start')",
	"SNP Call": "JSON_VALUE(`data`, '$.received_at')",
	"SNP Callback": "COALESCE(JSON_VALUE(`data`, '$.wanted_to'), JSON_VALUE(`data`, '$.wanted_from'))",
}
# Frappe's tables holding copies of a record, by reference: (doctype, reference doctype column, name column)
REFERENCE_COPIES = (
	("Version", "ref_doctype", "docname"),
	("Comment", "reference_doctype", "reference_name"),
	("Communication", "reference_doctype", "reference_name"),
	("Email Queue", "reference_doctype", "reference_name"),
	("Error Log", "reference_doctype", "reference_name"),
	("Activity Log", "reference_doctype", "reference_name"),
	("Notification Log", "document_type", "document_name"),
	("ToDo", "reference_type", "reference_name"),
	("Email Unsubscribe", "reference_doctype", "reference_name"),
)
# child tables deleted with their parent row
CHILD_TABLES = {"Communication": ("Communication Link",), "Email Queue": ("Email Queue Recipient",)}
# Frappe's tables searched by content on an erasure (copies that do not say whose record they are): their text
# columns that may hold the person's name, phone or e-mail
CONTENT_COPIES = {
	"Version": ("data",),
	"Deleted Document": ("data",),
	"Comment": ("content", "subject"),
	"Communication": ("content", "text_content", "subject", "recipients", "cc", "bcc", "phone_no"),
	"Email Queue": ("message",),
	"Error Log": ("error", "method"),
	"Activity Log": ("subject", "content"),
	"Notification Log": ("subject", "email_content"),
	"ToDo": ("description",),
	"Access Log": ("filters", "page"),
	"SMS Log": ("message", "requested_numbers", "sent_to"),
	"Email Unsubscribe": ("email",),
}
# Tables whose rows stay (a proof of who read what) but lose the text naming the person: the staff read audit
# keeps who read which record when, not the search typed
CONTENT_BLANKED = {"SNP Access Audit": ("filters",)}
# doctypes of patient data whose deleted documents (Frappe's bin) age with them
PATIENT_DOCTYPES = (
	"SNP Booking",
	"SNP Call",
	"SNP Callback",
	"SNP Patient",
	"SNP Message Log",
	"SNP SAS Message",
	"SNP Debrief",
	"SNP Absence",
	REQUEST,
)


# --- retention: the daily job --------------------------------------------------------------------------------------
def anonymise_expired(commit: bool = True) -> str:
	"""Scheduler job (daily): anonymise the patient data older than SNP Settings' retention periods and purge their
	copies, a batch at a time (committed after each batch when `commit`). Idempotent. Returns its log's name."""
	from cpts_snp.services.settings import get_settings

	settings = get_settings()
	months = cint(settings.get("patient_data_retention_months"))
	log_months = cint(settings.get("partner_access_log_retention_months"))
	started = now_datetime()
	counts = Counter()
	log = frappe._dict(
		operation="Retention",
		status="Completed" if months or log_months else "Disabled",
		started_at=started,
		patient_data_before=add_months(started, -months) if months else None,
		partner_log_before=add_months(started, -log_months) if log_months else None,
	)
	try:
		if months:
			cutoff = log.patient_data_before
			unlinked = set()
			for doctype in ANONYMISED:
				last = ""  # a batch at a time, in the order of the primary key (each batch reads on from the last)
				while names := frappe.db.sql_list(
					f"""SELECT `name` FROM `tab{doctype}`
					WHERE `name` > %s AND `anonymised_on` IS NULL AND {RECORD_DATE[doctype]} < %s
					ORDER BY `name` LIMIT {BATCH}""",
					(last, cutoff),
				):
					last = names[-1]
					unlinked |= anonymise(doctype, names, counts, started)
					if commit:
						frappe.db.commit()
			# the patients of the records anonymised, then any other left without a record since the cutoff
			delete_orphan_patients(counts, only=with_duplicates(unlinked))
			delete_orphan_patients(counts, created_before=cutoff)
			purge_deleted_documents(cutoff, counts)
		if log_months:
			counts["SNP Partner Access Log"] += _execute(
				"""UPDATE `tabSNP Partner Access Log` SET `parameters` = NULL
				WHERE `timestamp` < %s AND IFNULL(`parameters`, '') != ''""",
				log.partner_log_before,
			)
	except Exception:
		if commit:
			frappe.db.rollback()
		log.status, log.error = "Failed", frappe.get_traceback()[-2000:]
	name = write_log(log, counts)
	if commit:
		frappe.db.commit()
	return name


def purge_deleted_documents(cutoff, counts: Counter) -> None:
	"""Delete Frappe's copies of the deleted records of patient data that have aged: deleted before the cutoff,
	or whose own date (the consultation, the call, the call-back's last day, read in the copy) is before it; and
	what Frappe still keeps of those records (e-mails sent about them, error logs…)."""
	own_date = " ".join(
		f"WHEN {frappe.db.escape(doctype)} THEN {expression}" for doctype, expression in DELETED_DATE.items()
	)
	rows = frappe.db.sql(
		f"""SELECT `name`, `deleted_doctype`, `deleted_name` FROM `tabDeleted Document`
		WHERE `deleted_doctype` IN %(doctypes)s
			AND (`creation` < %(cutoff)s OR CASE `deleted_doctype` {own_date} END < %(cutoff)s)""",
		{"doctypes": PATIENT_DOCTYPES, "cutoff": cutoff},
		as_dict=True,
	)
	by_doctype = {}
	for row in rows:
		by_doctype.setdefault(row.deleted_doctype, []).append(row.deleted_name)
	for doctype, names in by_doctype.items():
		for start in range(0, len(names), BATCH):
			purge_copies(doctype, names[start : start + BATCH], counts)
	counts["Deleted Document"] += delete_rows("Deleted Document", [row.name for row in rows])


def anonymise(doctype: str, names: list[str], counts: Counter, moment=None) -> set[str]:
	"""Anonymise the records `names` of `doctype` (a booking, call or call-back) and purge their copies. Returns
	the patient records they pointed at."""
	if not names:
		return set()
	names = tuple(names)
	patients = set(
		frappe.db.sql_list(
			f"SELECT DISTINCT `patient` FROM `tab{doctype}` WHERE `name` IN %s AND IFNULL(`patient`, '') != ''",
			(names,),
		)
	)
	moment = moment or now_datetime()
	values = ANONYMISED[doctype]
	assignments = ", ".join(f"`{field}` = %({field})s" for field in values)
	counts[doctype] += _execute(
		f"""UPDATE `tab{doctype}` SET {assignments}, `anonymised_on` = %(moment)s
		WHERE `name` IN %(names)s AND `anonymised_on` IS NULL""",
		{**values, "moment": moment, "names": names},
	)
	# a record anonymised before and found again (an erasure): its copies are purged again, nothing else
	purge_copies(doctype, names, counts)
	if doctype == "SNP Booking":
		purge_booking_copies(names, counts)
	frappe.clear_document_cache(doctype)
	return patients


def with_duplicates(patients) -> list[str]:
	"""`patients` and the duplicate records merged into them."""
	patients = set(patients)
	if patients:
		patients |= set(
			frappe.db.sql_list(
				"SELECT `name` FROM `tabSNP Patient` WHERE `merged_into` IN %s", (tuple(patients),)
			)
		)
	return sorted(patients)


def purge_copies(doctype: str, names, counts: Counter) -> None:
	"""Delete what Frappe keeps of the records `names`: history, comments, e-mails and their recipients, error and
	activity logs, notifications, assignments, attachments."""
	names = tuple(names)
	if not names:
		return
	for copy, doctype_column, name_column in REFERENCE_COPIES:
		if not frappe.db.table_exists(copy):
			continue
		rows = frappe.db.sql_list(
			f"SELECT `name` FROM `tab{copy}` WHERE `{doctype_column}` = %s AND `{name_column}` IN %s",
			(doctype, names),
		)
		if copy == "Communication":
			rows += frappe.db.sql_list(
				"""SELECT DISTINCT `parent` FROM `tabCommunication Link`
				WHERE `link_doctype` = %s AND `link_name` IN %s""",
				(doctype, names),
			)
		counts[copy] += delete_rows(copy, rows)
	counts["File"] += delete_files(doctype, names)


def purge_booking_copies(bookings, counts: Counter) -> None:
	"""The app's copies of the bookings' patient: messages sent (address, text, gateway's answer), SAS payloads
	sent, the absences' lists of cancelled bookings, the interns' debrief notes, and the history of those."""
	bookings = tuple(bookings)
	counts["SNP Message Log"] += _execute(
		"""UPDATE `tabSNP Message Log` SET `recipient` = NULL, `message` = NULL, `answer` = NULL, `error` = NULL
		WHERE `booking` IN %s AND (`recipient` IS NOT NULL OR `message` IS NOT NULL OR `answer` IS NOT NULL
			OR `error` IS NOT NULL)""",
		(bookings,),
	)
	# a message still to send keeps what it sends (no patient data in INT_R03); what was sent is emptied
	counts["SNP SAS Message"] += _execute(
		"""UPDATE `tabSNP SAS Message` SET `payload` = NULL, `answer` = NULL, `error` = NULL
		WHERE `booking` IN %s AND `status` IN ('Sent', 'Given up')
			AND (`payload` IS NOT NULL OR `answer` IS NOT NULL OR `error` IS NOT NULL)""",
		(bookings,),
	)
	absences = frappe.db.sql_list(
		"""SELECT DISTINCT `parent` FROM `tabSNP Absence Booking`
		WHERE `booking` IN %s AND (`patient` IS NOT NULL OR `patient_phone` IS NOT NULL)""",
		(bookings,),
	)
	counts["SNP Absence Booking"] += _execute(
		"""UPDATE `tabSNP Absence Booking` SET `patient` = NULL, `patient_phone` = NULL
		WHERE `booking` IN %s AND (`patient` IS NOT NULL OR `patient_phone` IS NOT NULL)""",
		(bookings,),
	)
	debriefs = frappe.db.sql_list(
		"SELECT `name` FROM `tabSNP Debrief` WHERE `booking` IN %s AND IFNULL(`notes`, '') != ''", (bookings,)
	)
	if debriefs:
		counts["SNP Debrief"] += _execute(
			"UPDATE `tabSNP Debrief` SET `notes` = NULL, `_comments` = NULL WHERE `name` IN %s",
			(tuple(debriefs),),
		)
	for doctype, names in (("SNP Absence", absences), ("SNP Debrief", debriefs)):
		if names:
			counts["Version"] += delete_rows(
				"Version",
				frappe.db.sql_list(
					"SELECT `name` FROM `tabVersion` WHERE `ref_doctype` = %s AND `docname` IN %s",
					(doctype, tuple(names)),
				),
			)


def delete_orphan_patients(counts: Counter, created_before=None, only=None) -> None:
	"""Delete the patient records no booking, call or call-back points at (created before `created_before`; among
	`only` if given), with their copies; then the duplicates merged into a patient deleted so."""
	while True:
		conditions, values = [], {}
		if created_before:
			conditions.append("p.`creation` < %(before)s")
			values["before"] = created_before
		if only is not None:
			if not only:
				return
			conditions.append("p.`name` IN %(only)s")
			values["only"] = tuple(only)
		names = frappe.db.sql_list(
			f"""SELECT p.`name` FROM `tabSNP Patient` p
			WHERE {" AND ".join(conditions) or "1 = 1"}
				AND NOT EXISTS (SELECT 1 FROM `tabSNP Booking` b WHERE b.`patient` = p.`name`)
				AND NOT EXISTS (SELECT 1 FROM `tabSNP Call` c WHERE c.`patient` = p.`name`)
				AND NOT EXISTS (SELECT 1 FROM `tabSNP Callback` r WHERE r.`patient` = p.`name`)
				AND NOT EXISTS (SELECT 1 FROM `tabSNP Patient` d WHERE d.`merged_into` = p.`name`)""",
			values,
		)
		if not names:
			return
		for start in range(0, len(names), BATCH):
			part = tuple(names[start : start + BATCH])
			purge_copies("SNP Patient", part, counts)
			counts["SNP Patient"] += _execute("DELETE FROM `tabSNP Patient` WHERE `name` IN %s", (part,))
		frappe.clear_document_cache("SNP Patient")
		if only is not None:
			only = [name for name in only if name not in set(names)]


def write_log(log: dict, counts: Counter) -> str:
	"""The SNP Privacy Log row of a run or an erasure: its counts per table, and their totals."""
	records = sum(counts[doctype] for doctype in ANONYMISED)
	doc = frappe.get_doc(
		{
			"doctype": LOG,
			**log,
			"run_by": frappe.session.user,
			"finished_at": now_datetime(),
			"records_anonymised": records,
			"patients_deleted": counts["SNP Patient"],
			"copies_purged": sum(counts.values()) - records - counts["SNP Patient"],
			"counts": json.dumps(
				{k: v for k, v in sorted(counts.items()) if v}, indent=1, ensure_ascii=False
			),
		}
	)
	doc.flags.ignore_permissions = True  # written by the application (the job, an erasure)
	server_write(doc).insert()
	return doc.name


# --- rows and files ------------------------------------------------------------------------------------------------
def _execute(query: str, values=None) -> int:
	"""Run an UPDATE or DELETE; the number of rows it changed."""
	frappe.db.sql(query, values)
	return max(frappe.db._cursor.rowcount, 0)


def delete_rows(doctype: str, names) -> int:
	"""Delete the rows `names` of one of Frappe's tables and of its child tables."""
	names = tuple(set(names))
	if not names:
		return 0
	for child in CHILD_TABLES.get(doctype, ()):
		if frappe.db.table_exists(child):
			frappe.db.sql(f"DELETE FROM `tab{child}` WHERE `parent` IN %s", (names,))
	deleted = 0
	for start in range(0, len(names), BATCH):
		deleted += _execute(f"DELETE FROM `tab{doctype}` WHERE `name` IN %s", (names[start : start + BATCH],))
	return deleted


def delete_files(doctype: str, names) -> int:
	"""Delete the files attached to the records `names` of `doctype`: their rows now, the files on disk once the
	transaction commits (a rolled-back erasure loses no file)."""
	rows = frappe.db.sql(
		"""SELECT `name`, `file_url`, `is_private`, `is_folder` FROM `tabFile`
		WHERE `attached_to_doctype` = %s AND `attached_to_name` IN %s""",
		(doctype, tuple(names)),
		as_dict=True,
	)
	rows = [row for row in rows if not row.is_folder]
	if not rows:
		return 0
	paths = []
	for row in rows:
		path = _file_path(row.file_url)
		if path:
			paths.append((row.file_url, path))
	deleted = delete_rows("File", [row.name for row in rows])

	def remove_from_disk():
		import os

		for url, path in paths:
			if os.path.exists(path) and not frappe.db.exists("File", {"file_url": url}):
				os.remove(path)

	frappe.db.after_commit.add(remove_from_disk)
	return deleted


def _file_path(file_url: str | None) -> str | None:
	import os

	if not file_url:
		return None
	if file_url.startswith("/private/files/"):
		return frappe.get_site_path("private", "files", os.path.basename(file_url))
	if file_url.startswith("/files/"):
		return frappe.get_site_path("public", "files", os.path.basename(file_url))
	return None


# --- rights: the person's records ----------------------------------------------------------------------------------
def ensure_coordination() -> None:
	if frappe.session.user != "Administrator" and not COORDINATION.intersection(frappe.get_roles()):
		frappe.throw(
			_("Only the coordination answers the requests about personal data"), frappe.PermissionError
		)


class Person:
	"""The person of a request, as the search compares him: normalised names and birth date, or a phone."""

	def __init__(self, request):
		self.last = normalise_person_name(request.get("last_name"))
		self.first = normalise_person_name(request.get("first_name"))
		self.born = getdate(request.date_of_birth) if request.get("date_of_birth") else None
		self.phone = normalise_phone(request.phone) if request.get("phone") else None
		# name and date of birth identify the person; a phone alone (a family may share one) only without them
		self.by_identity = bool(self.last and self.born)
		if not self.by_identity and not self.phone:
			frappe.throw(
				_("Give the person's last name and date of birth (and first name), or his phone number"),
				DataRequestError,
			)

	def same_names(self, last, first) -> bool:
		return normalise_person_name(last) == self.last and (
			not self.first or normalise_person_name(first) == self.first
		)

	def named_in(self, text) -> bool:
		"""Whether free text (a caller's name) names both the last and the first name of the person."""
		words = f" {normalise_person_name(text)} "
		return bool(self.first) and f" {self.last} " in words and f" {self.first} " in words


def identity_hash(request) -> str | None:
	"""A keyed fingerprint of the person of a request (HMAC with the site's key): the same person searched the
	same way gives the same fingerprint; the identity cannot be read back from it."""
	from frappe.utils.password import get_encryption_key

	last, first = (
		normalise_person_name(request.get("last_name")),
		normalise_person_name(request.get("first_name")),
	)
	phone = normalise_phone(request.phone) if request.get("phone") else None
	if last and request.get("date_of_birth"):
		key = f"{getdate(request.date_of_birth).isoformat()}|{last}|{first}"
	elif phone:
		key = phone
	else:
		return None
	return hmac.new(get_encryption_key().encode(), key.encode(), hashlib.sha256).hexdigest()


def find_records(person: Person) -> dict[str, list[str]]:
	"""{doctype: [names]} of every record of the app holding the person's data, linked to an SNP Patient or not."""
	found = {}
	found["SNP Patient"] = _patients(person)
	for doctype in ("SNP Booking", "SNP Callback"):
		found[doctype] = _with_identity_copy(doctype, person, found["SNP Patient"])
	found["SNP Call"] = _calls(person, found["SNP Patient"], found["SNP Booking"])
	bookings = tuple(found["SNP Booking"])
	for doctype in ("SNP Message Log", "SNP SAS Message", "SNP Debrief"):
		found[doctype] = (
			frappe.db.sql_list(
				f"SELECT `name` FROM `tab{doctype}` WHERE `booking` IN %s ORDER BY `creation`", (bookings,)
			)
			if bookings
			else []
		)
	phones, _emails, spellings = _contacts(found)
	found["SNP Partner Access Log"] = _partner_logs(person, phones, spellings)
	found["SNP Meeting"] = _meetings(_patterns(person, phones | {person.phone} - {None}, (), spellings))
	return {doctype: sorted(set(names)) for doctype, names in found.items()}


# A concertation meeting on a complex case names its patient in its minutes and decisions: what the meeting
# holds of the person (its participants are professionals and partners' people, not him).
MEETING = "SNP Meeting"
MEETING_TEXTS = ("minutes", "decisions")
MEETING_EXPORTED = ("name", "title", "meeting_type", "meeting_date", *MEETING_TEXTS)


def _meetings(patterns) -> list[str]:
	"""The meetings whose minutes or decisions name the person (his name with his first name or birth date, his
	phone)."""
	if not patterns:
		return []
	condition, values = _matching_any(MEETING_TEXTS, patterns)
	return frappe.db.sql_list(f"SELECT `name` FROM `tab{MEETING}` WHERE {condition}", values)


def erase_from_meetings(names, person, phones, spellings, counts: Counter) -> None:
	"""Replace, in the minutes and decisions of `names`, what names the person (his names, phone, birth date) by
	the marker: the meeting, its other contents, its attendance and its payment stay."""
	words = _identity_words(person, phones, spellings)
	for name, *texts in frappe.db.sql(
		f"SELECT `name`, {', '.join(f'`{c}`' for c in MEETING_TEXTS)} FROM `tab{MEETING}` WHERE `name` IN %s",
		(tuple(names),),
	):
		changed = {}
		for column, text in zip(MEETING_TEXTS, texts, strict=True):
			blanked = _replace_folded(text, words, f"[{MARKER}]") if text else text
			if blanked != text:
				changed[column] = blanked
		if changed:
			frappe.db.set_value(MEETING, name, changed, update_modified=False)
			counts[MEETING] += 1


def _identity_words(person, phones, spellings) -> list[str]:
	"""What to blank in free text, longest first: « first last », « last first », the last name, the phones and
	the birth date in its usual forms."""
	lasts = {person.last, *(spellings or {}).get("last", ())} - {None, ""}
	firsts = {person.first, *(spellings or {}).get("first", ())} - {None, ""}
	words = {f"{a} {b}" for last in lasts for first in firsts for a, b in ((first, last), (last, first))}
	words |= lasts
	for phone in phones:
		words |= _phone_variants(phone)
	if person.by_identity and person.born:
		born = person.born
		words |= set(_birth_date_forms(born))
	return sorted(words, key=len, reverse=True)


def _replace_folded(text: str, words, marker: str) -> str:
	"""`text` with every occurrence of `words` (case and accents ignored, a space or a hyphen alike) replaced."""
	import re

	folded, origin = [], []
	for index, char in enumerate(text):
		for folded_char in _fold(char):
			folded.append(folded_char)
			origin.append(index)
	folded = "".join(folded)
	spans = []
	for word in words:
		pattern = r"[\s\-]+".join(re.escape(part) for part in re.split(r"[\s\-]+", _fold(word)) if part)
		if not pattern:
			continue
		for match in re.finditer(pattern, folded):
			start, end = origin[match.start()], origin[match.end() - 1] + 1
			if not any(start < e and s < end for s, e in spans):
				spans.append((start, end))
	for start, end in sorted(spans, reverse=True):
		text = text[:start] + marker + text[end:]
	return text


def _patients(person: Person) -> list[str]:
	"""The patient records of the person, merged duplicates included (the matching of find_patients)."""
	from cpts_snp.services.patients import _like

	if person.by_identity:
		day = person.born.isoformat()
		return frappe.db.sql_list(
			"SELECT `name` FROM `tabSNP Patient` WHERE `date_of_birth` = %s AND `dedup_key` LIKE %s",
			(person.born, f"%|{day}|{_like(person.last)}|{_like(person.first) or '%'}"),
		)
	return frappe.db.sql_list("SELECT `name` FROM `tabSNP Patient` WHERE `phone` = %s", person.phone)


def _with_identity_copy(doctype: str, person: Person, patients: list[str]) -> list[str]:
	"""Bookings or call-backs of the person: pointing at one of his patient records, or carrying his identity."""
	names = (
		frappe.db.sql_list(f"SELECT `name` FROM `tab{doctype}` WHERE `patient` IN %s", (tuple(patients),))
		if patients
		else []
	)
	if person.by_identity:
		rows = frappe.db.sql(
			f"""SELECT `name`, `patient_last_name`, `patient_first_name` FROM `tab{doctype}`
			WHERE `patient_date_of_birth` = %s""",
			person.born,
			as_dict=True,
		)
		names += [
			row.name for row in rows if person.same_names(row.patient_last_name, row.patient_first_name)
		]
	else:
		names += frappe.db.sql_list(
			f"SELECT `name` FROM `tab{doctype}` WHERE `patient_phone` = %s", person.phone
		)
	return names


def _calls(person: Person, patients: list[str], bookings: list[str]) -> list[str]:
	names = []
	if patients:
		names += frappe.db.sql_list(
			"SELECT `name` FROM `tabSNP Call` WHERE `patient` IN %s", (tuple(patients),)
		)
	if bookings:
		names += frappe.db.sql_list(
			"SELECT `name` FROM `tabSNP Call` WHERE `booking` IN %s", (tuple(bookings),)
		)
	if person.by_identity and person.first:
		rows = frappe.db.sql(
			"SELECT `name`, `caller_name` FROM `tabSNP Call` WHERE `caller_name` LIKE %s",
			f"%{person.last.split()[0]}%",
			as_dict=True,
		)
		names += [row.name for row in rows if person.named_in(row.caller_name)]
	return names


def _partner_logs(person: Person, phones: set, spellings: dict) -> list[str]:
	"""Partner access log rows whose request parameters name the person or give one of his phones."""
	phones = set(phones) | ({person.phone} if person.phone else set())
	patterns = _patterns(person, phones, emails=[], spellings=spellings)
	if not patterns:
		return []
	condition, values = _matching("parameters", patterns)
	return frappe.db.sql_list(f"SELECT `name` FROM `tabSNP Partner Access Log` WHERE {condition}", values)


def _text_variants(text: str) -> set[str]:
	"""`text` as a LIKE pattern, and as JSON writes it (accents escaped), hyphens and spaces alike."""
	from cpts_snp.services.patients import _like

	variants = set()
	for form in {text, json.dumps(text)[1:-1]}:
		variants.add(_like(form).replace(" ", "_").replace("-", "_"))
	return variants


def _phone_variants(phone: str) -> set[str]:
	"""A phone as the app and people write it: +33 6 12 34 56 78, +33612345678, 06 12 34 56 78, 0612345678…"""
	import phonenumbers

	try:
		number = phonenumbers.parse(phone, "FR")
	except phonenumbers.NumberParseException:
		return {phone}
	formats = {
		phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL),
		phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164),
		phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL),
	}
	formats |= {f.replace(" ", "") for f in formats} | {f.replace(" ", ".") for f in formats}
	formats.add(phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164).lstrip("+"))
	return {f for f in formats if f}


def _patterns(person: Person, phones, emails, spellings=None) -> list[list[str]]:
	"""What identifies the person in free text: groups of LIKE patterns, each group a set of alternatives that
	must all be found (the last name with the first name or with the birth date; a phone; an e-mail). `spellings`:
	{"last": …, "first": …} names as the records wrote them (JSON copies escape their accents)."""
	groups = []
	if person.by_identity:
		spellings = spellings or {}
		last = set(_text_variants(person.last))
		for spelling in spellings.get("last", ()):
			last |= _text_variants(spelling)
		last = sorted(last)
		if person.first:
			first = set(_text_variants(person.first))
			for spelling in spellings.get("first", ()):
				first |= _text_variants(spelling)
			groups.append([last, sorted(first)])
		born = person.born
		groups.append([last, _birth_date_forms(born)])
	for phone in {p for p in phones if p}:
		groups.append([sorted(_phone_variants(phone))])
	for email in {e for e in emails if e}:
		groups.append([[email.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")]])
	return groups


def _encoded_email_matches(patterns, exclude) -> list[str]:
	"""The queued e-mails of the app whose decoded text names the person. Their `message` is MIME: quoted-printable
	breaks long lines (a name may be cut in two) and encodes accents, so SQL cannot search it; the app's own e-mails
	(reference to an SNP record) and those naming a part of the person are decoded and matched here."""
	loose = [alternative for group in patterns for alternative in group[0]]
	condition, values = _matching("message", [[loose]])
	found, last = [], ""
	while True:
		rows = frappe.db.sql(
			f"""SELECT `name`, `message` FROM `tabEmail Queue`
			WHERE `name` > %(after)s AND (`reference_doctype` LIKE 'SNP %%' OR {condition})
			ORDER BY `name` LIMIT {BATCH}""",
			{**values, "after": last},
		)
		for name, message in rows:
			if name not in exclude and _text_matches(_email_text(message), patterns):
				found.append(name)
		if len(rows) < BATCH:
			return found
		last = rows[-1][0]


def _email_text(message: str | None) -> str:
	"""The readable text of a MIME message: its headers and every part, decoded."""
	import email
	from email.header import decode_header, make_header

	if not message:
		return ""
	parsed = email.message_from_string(message)
	texts = []
	for key in ("Subject", "To", "Cc", "Reply-To"):
		if parsed.get(key):
			try:
				texts.append(str(make_header(decode_header(parsed[key]))))
			except (UnicodeDecodeError, LookupError, ValueError):
				texts.append(parsed[key])
	for part in parsed.walk():
		if part.is_multipart():
			continue
		payload = part.get_payload(decode=True)
		if payload is None:
			continue
		texts.append(payload.decode(part.get_content_charset() or "utf-8", errors="replace"))
	return "\n".join(texts) if texts else message


def _fold(text: str) -> str:
	"""`text` compared as MariaDB compares: case and accents ignored."""
	import unicodedata

	decomposed = unicodedata.normalize("NFKD", text)
	return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


def _like_regex(pattern: str):
	"""A LIKE pattern (\\ escapes, _ one character, % any) as a regular expression on folded text."""
	import re

	parts, i = [], 0
	while i < len(pattern):
		c = pattern[i]
		if c == "\\" and i + 1 < len(pattern):
			parts.append(re.escape(_fold(pattern[i + 1])))
			i += 2
			continue
		parts.append("." if c == "_" else ".*" if c == "%" else re.escape(_fold(c)))
		i += 1
	return re.compile("".join(parts), re.DOTALL)


def _text_matches(text: str, patterns) -> bool:
	"""Python's twin of `_matching`: `text` holds every part of one group of `patterns` (any of its forms)."""
	folded = _fold(text)
	return any(
		all(any(_like_regex(alternative).search(folded) for alternative in part) for part in group)
		for group in patterns
	)


def _birth_date_forms(born) -> list[str]:
	"""A birth date as records and people write it: 1931-05-23, 23/05/1931, 23-05-1931."""
	return [born.isoformat(), born.strftime("%d/%m/%Y"), born.strftime("%d-%m-%Y")]


def _matching_any(columns, patterns) -> tuple[str, dict]:
	"""The SQL condition: one of `columns` matches `patterns` (see `_matching`)."""
	conditions, values = [], {}
	for column in columns:
		condition, column_values = _matching(column, patterns)
		conditions.append(condition)
		values.update(column_values)
	return "(" + " OR ".join(conditions) + ")", values


def _matching(column: str, patterns) -> tuple[str, dict]:
	"""The SQL condition: `column` matches one group of `patterns` (every part of the group, any of its forms)."""
	values, groups = {}, []
	for g, group in enumerate(patterns):
		parts = []
		for p, alternatives in enumerate(group):
			options = []
			for a, alternative in enumerate(alternatives):
				key = f"{column}_{g}_{p}_{a}"
				values[key] = f"%{alternative}%"
				options.append(f"`{column}` LIKE %({key})s")
			parts.append("(" + " OR ".join(options) + ")")
		groups.append("(" + " AND ".join(parts) + ")")
	return "(" + " OR ".join(groups) + ")", values


def records_of(found: dict[str, list[str]]) -> list[dict]:
	"""The rows of the request's list of records found: document type, name and date, most recent first."""
	dates = {
		"SNP Patient": "creation",
		"SNP Booking": "slot_start",
		"SNP Call": "received_at",
		"SNP Callback": "wanted_from",
		"SNP Message Log": "creation",
		"SNP SAS Message": "creation",
		"SNP Debrief": "creation",
		"SNP Partner Access Log": "timestamp",
		MEETING: "meeting_date",
	}
	rows = []
	for doctype, names in found.items():
		if not names:
			continue
		for name, moment in frappe.db.sql(
			f"SELECT `name`, `{dates[doctype]}` FROM `tab{doctype}` WHERE `name` IN %s", (tuple(names),)
		):
			rows.append({"record_type": doctype, "record_name": name, "record_date": moment})
	return rows


def _request(name: str, for_update: bool = True):
	ensure_coordination()
	request = frappe.get_doc(REQUEST, name, for_update=for_update)
	if request.status == ERASED:
		frappe.throw(_("The data of request {0} were erased").format(request.name), DataRequestError)
	return request


def search(name: str) -> dict:
	"""Find the person's records and list them on the request. Returns {doctype: count}."""
	request = _request(name)
	found = find_records(Person(request))
	_store_found(request, found)
	server_write(request).save(ignore_permissions=True)
	return json.loads(request.counts)


def _store_found(request, found: dict) -> None:
	request.set("records", [])
	for row in sorted(
		records_of(found),
		key=lambda r: (get_datetime(r["record_date"] or "1900-01-01"), r["record_name"]),
		reverse=True,
	):
		request.append("records", row)
	request.found_count = sum(len(names) for names in found.values())
	request.counts = json.dumps({k: len(v) for k, v in found.items() if v}, indent=1, ensure_ascii=False)
	request.searched_on, request.searched_by = now_datetime(), frappe.session.user
	if request.status == "Open":
		request.status = "Searched"


def reset_results(request) -> None:
	"""Another person typed on the request: what was found for the previous one is forgotten."""
	request.set("records", [])
	request.found_count, request.counts = 0, None
	request.status = "Open"


# --- the export ------------------------------------------------------------------------------------------------------
INTERNAL = {"owner", "modified_by", "docstatus", "idx", "parent", "parentfield", "parenttype", "doctype"}


def export_data(request, found: dict) -> dict:
	"""The person's data: every record found, with its fields (child tables included)."""
	from cpts_snp.services.settings import get_settings

	def clean(row: dict) -> dict:
		out = {}
		for key, value in row.items():
			if key in INTERNAL or key.startswith("_") or value in (None, "", []):
				continue
			if isinstance(value, list):
				value = [clean(child) for child in value]
			out[key] = value
		return out

	records = {}
	for doctype, names in found.items():
		if names:
			records[doctype] = [
				clean(frappe.get_doc(doctype, name).as_dict(convert_dates_to_str=True)) for name in names
			]
			if doctype == MEETING:
				records[doctype] = [
					{k: v for k, v in row.items() if k in MEETING_EXPORTED} for row in records[doctype]
				]
	return {
		"request": request.name,
		"controller": get_settings().get("legal_name") or get_settings().get("cpts_name"),
		"generated_on": str(now_datetime()),
		"person": {
			field: str(request.get(field))
			for field in ("last_name", "first_name", "date_of_birth", "phone")
			if request.get(field)
		},
		"records": records,
	}


def export(name: str, kind: str) -> str:
	"""Export the person's data (`kind`: json or pdf) as a private file attached to the request; its URL."""
	if kind not in ("json", "pdf"):
		frappe.throw(_("Unknown export format {0}").format(kind), DataRequestError)
	request = _request(name)
	found = find_records(Person(request))
	_store_found(request, found)
	data = export_data(request, found)
	if kind == "json":
		content = json.dumps(data, indent=1, ensure_ascii=False, default=str).encode("utf-8")
	else:
		from frappe.utils.pdf import get_pdf

		content = get_pdf(render_pdf_html(data))
	field = f"export_{kind}"
	previous = request.get(field)
	if previous:
		delete_rows_of_files(request.name, previous)
	file = frappe.get_doc(
		{
			"doctype": "File",
			"file_name": f"{request.name}.{kind}",
			"attached_to_doctype": REQUEST,
			"attached_to_name": request.name,
			"attached_to_field": field,
			"is_private": 1,
			"content": content,
		}
	)
	file.flags.ignore_permissions = True  # the coordination's own request, checked above
	file.insert()
	request.set(field, file.file_url)
	request.exported_on, request.exported_by = now_datetime(), frappe.session.user
	if request.status in ("Open", "Searched"):
		request.status = "Exported"
	server_write(request).save(ignore_permissions=True)
	return file.file_url


def delete_rows_of_files(request_name: str, file_url: str) -> None:
	rows = frappe.get_all(
		"File",
		filters={"attached_to_doctype": REQUEST, "attached_to_name": request_name, "file_url": file_url},
		pluck="name",
	)
	for row in rows:
		frappe.delete_doc("File", row, ignore_permissions=True, delete_permanently=True)


def render_pdf_html(data: dict) -> str:
	"""The printable page of an export: each record with its fields, under its translated labels."""
	sections = []
	for doctype, rows in data["records"].items():
		meta = frappe.get_meta(doctype)
		records = []
		for row in rows:
			fields = []
			for key, value in row.items():
				field = meta.get_field(key)
				if isinstance(value, list):
					value = "; ".join(
						", ".join(f"{k}: {v}" for k, v in child.items() if k != "name") for child in value
					)
				label = _(field.label) if field and field.label else key
				fields.append((label, str(value)))
			records.append({"name": row.get("name"), "fields": fields})
		sections.append({"title": _(doctype), "records": records})
	return frappe.render_template(
		"cpts_snp/privacy/doctype/snp_data_subject_request/data_export.html",
		{
			"title": _("Your personal data"),
			"intro": _("Data held by {0} about the person of request {1}, on {2}").format(
				data.get("controller") or "", data["request"], data["generated_on"][:16]
			),
			"person": [(_(frappe.get_meta(REQUEST).get_label(k)), v) for k, v in data["person"].items()],
			"sections": sections,
			"empty": _("No record found"),
		},
	)


# --- the erasure ---------------------------------------------------------------------------------------------------
def erase(name: str) -> dict:
	"""Erase the person's data (one transaction): anonymise his bookings, calls and call-backs (figures and payments
	stay), delete his patient records and purge every copy; the request keeps its date, type, who acted and the
	counts. Refused while he has an appointment to come or a call-back request still open."""
	request = _request(name)
	if request.request_type not in ERASURE_TYPES:
		frappe.throw(
			_("Request {0} asks for access to the data, not for their erasure").format(request.name),
			DataRequestError,
		)
	person = Person(request)
	found = find_records(person)
	_refuse_open_records(found)
	phones, emails, spellings = _contacts(found)
	moment = now_datetime()
	counts = Counter()
	linked = set(found["SNP Patient"])
	for doctype in ANONYMISED:
		for start in range(0, len(found[doctype]), BATCH):
			linked |= anonymise(doctype, found[doctype][start : start + BATCH], counts, moment)
	for doctype in ("SNP Message Log", "SNP Debrief", "SNP SAS Message"):
		purge_copies(doctype, found[doctype], counts)
	if found["SNP Partner Access Log"]:
		counts["SNP Partner Access Log"] += _execute(
			"UPDATE `tabSNP Partner Access Log` SET `parameters` = NULL WHERE `name` IN %s",
			(tuple(found["SNP Partner Access Log"]),),
		)
	# his patient records, and the duplicates merged into them
	patients = with_duplicates(linked)
	frappe.db.sql(
		"UPDATE `tabSNP Patient` SET `merged_into` = NULL WHERE `name` IN %s", (tuple(patients) or ("",),)
	)
	delete_orphan_patients(counts, only=sorted(patients))
	phones |= {person.phone} if person.phone else set()
	if found[MEETING]:
		erase_from_meetings(found[MEETING], person, phones, spellings, counts)
	purge_by_content(_patterns(person, phones, emails, spellings), counts)
	# the request forgets the person: the exports sent, the records listed, the identity typed
	counts["File"] += delete_files(REQUEST, [request.name])
	frappe.db.delete("SNP Data Subject Record", {"parent": request.name, "parenttype": REQUEST})
	erased = {k: len(v) for k, v in found.items() if v}
	frappe.db.set_value(
		REQUEST,
		request.name,
		{
			"status": ERASED,
			"last_name": None,
			"first_name": None,
			"date_of_birth": None,
			"phone": None,
			"export_json": None,
			"export_pdf": None,
			"found_count": sum(erased.values()),
			"counts": json.dumps(erased, indent=1, ensure_ascii=False),
			"erased_on": moment,
			"erased_by": frappe.session.user,
		},
	)
	frappe.clear_document_cache(REQUEST, request.name)
	write_log(
		frappe._dict(operation="Erasure", status="Completed", request=request.name, started_at=moment), counts
	)
	return erased


def _refuse_open_records(found: dict) -> None:
	upcoming = frappe.db.sql_list(
		"""SELECT `name` FROM `tabSNP Booking` WHERE `name` IN %s AND `status` = 'Booked' AND `slot_start` > %s""",
		(tuple(found["SNP Booking"]) or ("",), now_datetime()),
	)
	if upcoming:
		frappe.throw(
			_("This person has an appointment to come ({0}): cancel it before erasing the data").format(
				", ".join(upcoming)
			),
			DataRequestError,
		)
	waiting = frappe.db.sql_list(
		"SELECT `name` FROM `tabSNP Callback` WHERE `name` IN %s AND `status` IN ('Waiting', 'Offered')",
		(tuple(found["SNP Callback"]) or ("",),),
	)
	if waiting:
		frappe.throw(
			_("This person is on the call-back list ({0}): drop the request before erasing the data").format(
				", ".join(waiting)
			),
			DataRequestError,
		)


def _contacts(found: dict) -> tuple[set, set, dict]:
	"""The phones, e-mails and spellings of the names the person's records hold (before they are emptied)."""
	phones, emails, spellings = set(), set(), {"last": set(), "first": set()}
	for doctype, last, first in (
		("SNP Patient", "last_name", "first_name"),
		("SNP Booking", "patient_last_name", "patient_first_name"),
		("SNP Callback", "patient_last_name", "patient_first_name"),
	):
		if found[doctype]:
			for row in frappe.get_all(
				doctype, filters={"name": ["in", found[doctype]]}, fields=[last, first]
			):
				if row.get(last) and row.get(last) != MARKER:
					spellings["last"].add(row.get(last))
					spellings["first"].add(row.get(first) or "")
	spellings["first"].discard("")
	for doctype, phone, email in (
		("SNP Patient", "phone", "email"),
		("SNP Booking", "patient_phone", "patient_email"),
		("SNP Callback", "patient_phone", None),
	):
		if not found[doctype]:
			continue
		fields = [phone] + ([email] if email else [])
		for row in frappe.get_all(doctype, filters={"name": ["in", found[doctype]]}, fields=fields):
			if row.get(phone) and row.get(phone) != MARKER:
				phones.add(row.get(phone))
			if email and row.get(email):
				emails.add(row.get(email))
	if found.get("SNP Message Log"):
		for recipient in frappe.get_all(
			"SNP Message Log", filters={"name": ["in", found["SNP Message Log"]]}, pluck="recipient"
		):
			if recipient and "@" in recipient:
				emails.add(recipient)
			elif recipient and normalise_phone(recipient):
				phones.add(normalise_phone(recipient))
	return phones, emails, spellings


def purge_by_content(patterns, counts: Counter) -> None:
	"""Delete the rows of Frappe's copy tables whose text names the person, gives his phone or his e-mail (the
	copies that do not say whose record they are: deleted documents, history of other records, e-mails…)."""
	if not patterns:
		return
	for doctype, columns in CONTENT_COPIES.items():
		if not frappe.db.table_exists(doctype):
			continue
		columns = [column for column in columns if frappe.db.has_column(doctype, column)]
		if not columns:
			continue
		condition, values = _matching_any(columns, patterns)
		names = frappe.db.sql_list(f"SELECT `name` FROM `tab{doctype}` WHERE {condition}", values)
		if doctype == "Email Queue":
			condition, column_values = _matching("recipient", patterns)
			names += frappe.db.sql_list(
				f"SELECT DISTINCT `parent` FROM `tabEmail Queue Recipient` WHERE {condition}", column_values
			)
			names += _encoded_email_matches(patterns, exclude=set(names))
		counts[doctype] += delete_rows(doctype, names)
	for doctype, columns in CONTENT_BLANKED.items():
		if not frappe.db.table_exists(doctype):
			continue
		for column in columns:
			if frappe.db.has_column(doctype, column):
				condition, values = _matching(column, patterns)
				counts[doctype] += _execute(
					f"UPDATE `tab{doctype}` SET `{column}` = NULL WHERE {condition}", values
				)
