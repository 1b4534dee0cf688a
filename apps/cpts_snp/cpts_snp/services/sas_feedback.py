"""INT_R03: bookings made through the SAS are reported back to the national SAS platform, through an outbox.

- Queue: when a booking of the SAS channel is inserted, or its status or slot (a move) changes later (doc_events of SNP Booking,
  hooks.py), one `SNP SAS Message` is written in the booking's own transaction. A booking never waits for the SAS
  nor fails because of it: any error of the queueing is logged and the booking goes on.
- Content: the FHIR Appointment (cpts_snp.exports.sas_appointment) is built when the message leaves, from the
  booking as committed (the regulator may be recorded on it after the insert, in the same transaction) with the
  status the message was queued for, and kept on the message as sent. A message whose Appointment cannot be built (no RPPS/ADELI, no regulator) is Failed
  with the reason; the coordination fixes the record and retries.
- Sender: after the commit, a background job sends the booking's messages; a scheduler job (every minute) sends
  every message due. The first message of a booking is a create (`POST [base]/Appointment`), the later ones
  conditional updates (`PUT [base]/Appointment?identifier=system|value`, guide « Mise à jour de rendez-vous »).
  Messages of one booking leave in order: one still pending holds back the later ones.
- Answers: 2xx → Sent (the SAS's id kept from the `Location` header); 4xx → Failed, not retried (except 408 and
  429); 5xx, timeout or connection error → retried after 1, 2, 4, 8… minutes, at most `sas_max_attempts`
  attempts, then Given up. The coordination may retry the last message of a booking at once (`retry`).
- Transport: mutual TLS with the client certificate and key of SNP Settings (`cert=`), the SAS server checked
  against `sas_ca_bundle` or the system's authorities (`verify=`), 10-second timeouts.
"""

import json
from datetime import timedelta
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import frappe
import requests
from frappe import _
from frappe.utils import cint, get_datetime, get_system_timezone, now_datetime

from cpts_snp.exports.sas_appointment import AppointmentDataError, appointment, identifier_system

MESSAGE = "SNP SAS Message"
CHANNEL = "SAS"
TIMEOUT = 10  # seconds, connect and read
ANSWER_LIMIT = 2000  # characters of the answer kept on the message
DEFAULT_MAX_ATTEMPTS = 8
RETRIED_CLIENT_ERRORS = {408, 429}
DUE_BATCH = 200
FHIR_JSON = "application/fhir+json"


# --- Settings -------------------------------------------------------------------------------------------------


def _setting(field: str):
	"""A field of SNP Settings read from the database (not the cached document: another process could cache a
	stale copy while a change is being committed, and every SAS booking would then be left unreported)."""
	return frappe.db.get_single_value("SNP Settings", field)


def feedback_enabled() -> bool:
	return bool(cint(_setting("sas_feedback_enabled")))


def max_attempts() -> int:
	return max(cint(_setting("sas_max_attempts")) or DEFAULT_MAX_ATTEMPTS, 1)


# --- Queue (doc_events of SNP Booking) ------------------------------------------------------------------------


def booking_inserted(booking, method=None) -> None:
	"""after_insert of SNP Booking: a booking made through the SAS is reported (create)."""
	if booking.channel == CHANNEL:
		queue(booking)


def booking_updated(booking, method=None) -> None:
	"""on_update of SNP Booking: a later change of a SAS booking's status, or its move to another slot (time,
	possibly doctor: the guide's « Mise à jour de rendez-vous » carries the whole Appointment), is reported
	(update)."""
	if booking.flags.in_insert or booking.channel != CHANNEL:
		return
	if not any(booking.has_value_changed(field) for field in ("status", "slot", "professional")):
		return
	queue(booking)


def queue(booking) -> str | None:
	"""Write the outbox message of `booking`'s current state and have it sent after the commit. Raises nothing of
	its own: an error is logged (Error Log) and the booking goes on (a deadlock, which has already undone the
	booking's whole transaction, goes up to the caller). Returns the message's name, if one was written."""
	if not feedback_enabled():
		return None
	savepoint = "sas_feedback_queue"
	try:
		frappe.db.savepoint(savepoint)
		message = _new_message(booking)
	except frappe.QueryDeadlockError:
		# InnoDB rolled the whole transaction back, the booking with it: the caller starts again
		# (cpts_snp.api.endpoint retries a deadlocked call), as for any deadlock of the booking itself.
		raise
	except Exception:
		frappe.db.rollback(save_point=savepoint)
		frappe.log_error(
			title=_("SAS booking feedback could not be queued"),
			reference_doctype="SNP Booking",
			reference_name=booking.name,
		)
		return None
	frappe.db.after_commit.add(lambda: _enqueue_send(booking.name))
	return message.name


def _new_message(booking):
	previous = frappe.db.sql(
		f"SELECT COALESCE(MAX(`sequence`), 0) FROM `tab{MESSAGE}` WHERE `booking` = %s", booking.name
	)[0][0]
	message = frappe.get_doc(
		{
			"doctype": MESSAGE,
			"booking": booking.name,
			"sequence": cint(previous) + 1,
			"operation": "update" if previous else "create",
			"booking_status": booking.status,
			"status": "Pending",
			"attempts": 0,
			"next_attempt_at": now_datetime(),
		}
	)
	message.flags.ignore_links = True
	message.insert(ignore_permissions=True)
	return message


def _build_payload(message) -> str | None:
	"""The Appointment of the message's booking (JSON): the status the message was queued with (a create says
	booked even when it leaves after the cancellation, which the next message reports), everything else as the
	booking stands now. None, with the reason on the message, when it cannot be built."""
	if not frappe.db.exists("SNP Booking", message.booking):
		message.error = _("Booking {0} not found").format(message.booking)
		return None
	booking = frappe.get_doc("SNP Booking", message.booking)
	booking.status = message.booking_status or booking.status
	try:
		return json.dumps(build_appointment(booking), indent=1, ensure_ascii=False)
	except AppointmentDataError as error:
		message.error = _missing_data_message(error.reason)
		return None


def _missing_data_message(reason: str) -> str:
	return {
		"status": _("The booking's status cannot be reported to the SAS"),
		"practitioner": _("The doctor has no RPPS nor ADELI number: the SAS cannot identify him"),
		"operator": _("The booking does not name the SAS regulator who made it"),
		"time": _("The booking's slot has no start or end time"),
	}.get(reason, reason)


def build_appointment(booking) -> dict:
	"""The FrAppointmentSAS resource of `booking` (an SNP Booking) as it stands."""
	from cpts_snp.rules.identifiers import practitioner_identifier

	slot = frappe.db.get_value("SNP Slot", booking.slot, ["starts_at", "ends_at", "duration"], as_dict=True)
	fields = ["rpps"] + (["adeli"] if frappe.get_meta("SNP Professional").has_field("adeli") else [])
	doctor = frappe.db.get_value("SNP Professional", booking.professional, fields, as_dict=True) or {}
	start = get_datetime(slot.starts_at) if slot and slot.starts_at else None
	end = get_datetime(slot.ends_at) if slot and slot.ends_at else None
	if start and not end and slot.duration:
		end = start + timedelta(minutes=cint(slot.duration))
	data = {
		"name": booking.name,
		"status": booking.status,
		"slot": booking.slot,
		"start": start,
		"end": end,
		"created": get_datetime(booking.creation) if booking.creation else None,
		"practitioner_id": practitioner_identifier(doctor.get("rpps"), doctor.get("adeli")),
		"operator_id_type": booking.get("operator_id_type"),
		"operator_id": (booking.get("operator_id") or "").strip(),
		"identifier_system": _identifier_system(booking.name),
	}
	return appointment(data, ZoneInfo(get_system_timezone()))


def _identifier_system(booking: str) -> str:
	"""The system of the booking's identifier: the one its first message used (the key of the conditional updates
	must never change, even if the CPTS's address does), else the CPTS's own URI."""
	first = frappe.db.sql(
		f"""SELECT `payload` FROM `tab{MESSAGE}` WHERE `booking` = %s AND `payload` IS NOT NULL
		ORDER BY `sequence` LIMIT 1""",
		booking,
	)
	if first:
		try:
			return json.loads(first[0][0])["identifier"][0]["system"]
		except (ValueError, KeyError, IndexError, TypeError):
			pass
	from cpts_snp.services.sas_booking import booking_base_url

	return identifier_system(booking_base_url())


def _enqueue_send(booking: str) -> None:
	"""After the commit: send the booking's messages from a worker. When the queue is unreachable the scheduler
	sends them within a minute."""
	try:
		frappe.enqueue(
			"cpts_snp.services.sas_feedback.send_for_booking", queue="short", booking=booking, timeout=120
		)
	except Exception:
		frappe.logger("cpts_snp").exception("SAS feedback of %s not enqueued", booking)


# --- Sender ---------------------------------------------------------------------------------------------------


def send_due() -> None:
	"""Scheduler job (every minute): send every message due, booking by booking, each booking's in order."""
	if not feedback_enabled():
		return
	bookings = frappe.db.sql(
		f"""SELECT `booking` FROM `tab{MESSAGE}` WHERE `status` = 'Pending' AND `next_attempt_at` <= %s
		GROUP BY `booking` ORDER BY MIN(`next_attempt_at`) LIMIT {DUE_BATCH}""",
		now_datetime(),
		pluck=True,
	)
	for booking in bookings:
		send_for_booking(booking)


def send_for_booking(booking: str) -> None:
	"""Send the due messages of `booking` in their order, stopping at the first one that stays pending."""
	for _attempt in range(100):
		pending = frappe.db.sql(
			f"""SELECT `name`, `next_attempt_at` FROM `tab{MESSAGE}` WHERE `booking` = %s AND `status` = 'Pending'
			ORDER BY `sequence` LIMIT 1""",
			booking,
			as_dict=True,
		)
		if not pending or (
			pending[0].next_attempt_at and get_datetime(pending[0].next_attempt_at) > now_datetime()
		):
			return
		if send_message(pending[0].name) == "Pending":
			return


def send_message(name: str) -> str:
	"""Send one message now (locked for the length of the call, so two senders never send it twice) and commit its
	outcome. Returns its status."""
	frappe.db.commit()  # the lock below is released by the commit of the outcome; nothing of the caller's is lost
	row = frappe.db.sql(
		f"SELECT `name`, `status`, `booking`, `sequence` FROM `tab{MESSAGE}` WHERE `name` = %s FOR UPDATE",
		name,
		as_dict=True,
	)
	if not row or row[0].status != "Pending":
		frappe.db.commit()
		return row[0].status if row else None
	earlier = frappe.db.sql(
		f"""SELECT 1 FROM `tab{MESSAGE}` WHERE `booking` = %s AND `status` = 'Pending' AND `sequence` < %s
		LIMIT 1""",
		(row[0].booking, row[0].sequence),
	)
	if earlier:  # an earlier message of the booking goes first
		frappe.db.commit()
		return "Pending"
	message = frappe.get_doc(MESSAGE, name)
	message.payload = _build_payload(message)
	if message.payload:
		outcome = _deliver(message)
	else:
		outcome = _Outcome(error=message.error, retry=False, attempted=False)
	_record(message, outcome)
	frappe.db.commit()
	return message.status


class _Outcome(frappe._dict):
	"""http_status, answer, location, error, retry (a transient failure), retry_after (seconds), attempted
	(False: nothing was sent)."""


def _deliver(message) -> _Outcome:
	endpoint = (_setting("sas_appointment_endpoint") or "").strip().rstrip("/")
	if not endpoint:
		return _Outcome(error=_("No SAS FHIR endpoint is set in the SNP Settings"), retry=True)
	resource = json.loads(message.payload)
	identifier = resource["identifier"][0]
	url = f"{endpoint}/Appointment"
	kwargs = {
		"data": message.payload.encode("utf-8"),
		"headers": {"Content-Type": f"{FHIR_JSON}; charset=utf-8", "Accept": FHIR_JSON},
		"timeout": TIMEOUT,
		"allow_redirects": False,
		"cert": _client_certificate(),
		"verify": (_setting("sas_ca_bundle") or "").strip() or True,
	}
	try:
		if message.operation == "create":
			response = requests.post(url, **kwargs)
		else:
			query = {"identifier": f"{identifier['system']}|{identifier['value']}"}
			response = requests.put(url, params=query, **kwargs)
	except requests.Timeout:
		return _Outcome(
			error=_("The SAS platform did not answer within {0} seconds").format(TIMEOUT), retry=True
		)
	except (requests.RequestException, OSError) as error:
		return _Outcome(error=_("The SAS platform could not be reached: {0}").format(error), retry=True)
	status = response.status_code
	outcome = _Outcome(
		http_status=status,
		answer=(response.text or "")[:ANSWER_LIMIT],
		location=response.headers.get("Location") or response.headers.get("Content-Location"),
	)
	if 200 <= status < 300:
		return outcome
	outcome.retry = status >= 500 or status in RETRIED_CLIENT_ERRORS
	outcome.retry_after = cint(response.headers.get("Retry-After")) if status in RETRIED_CLIENT_ERRORS else 0
	outcome.error = _("The SAS platform answered HTTP {0}").format(status)
	return outcome


def _client_certificate():
	certificate = (_setting("sas_client_certificate") or "").strip()
	key = (_setting("sas_client_key") or "").strip()
	if certificate and key:
		return (certificate, key)
	return certificate or None


def _record(message, outcome: _Outcome) -> None:
	now = now_datetime()
	attempted = outcome.attempted is not False
	values = {
		"attempts": cint(message.attempts) + (1 if attempted else 0),
		"last_attempt_at": now if attempted else message.last_attempt_at,
		"http_status": outcome.http_status or 0,
		"answer": outcome.answer or None,
		"error": outcome.error or None,
		"booking_status": message.booking_status,
		"payload": message.payload,
	}
	if not outcome.error:
		values |= {"status": "Sent", "next_attempt_at": None, "remote_id": remote_id(outcome.location)}
	elif outcome.retry and values["attempts"] < max_attempts():
		wait = timedelta(minutes=2 ** (values["attempts"] - 1))
		wait = max(wait, timedelta(seconds=outcome.retry_after or 0))
		values |= {"status": "Pending", "next_attempt_at": now + wait}
	else:
		values |= {"status": "Given up" if outcome.retry else "Failed", "next_attempt_at": None}
	message.db_set(values, update_modified=True)


def remote_id(location: str | None) -> str | None:
	"""The id of the Appointment in a `Location` header ("[base]/Appointment/12345[/_history/1]")."""
	if not location:
		return None
	parts = [p for p in urlsplit(location).path.split("/") if p]
	if "Appointment" in parts:
		index = len(parts) - 1 - parts[::-1].index("Appointment")
		if index + 1 < len(parts):
			return parts[index + 1]
	return parts[-1] if parts else None


# --- Retry by the coordination --------------------------------------------------------------------------------


def retry(name: str) -> str:
	"""Send the message `name` again now (the coordination's « Réessayer maintenant »): the last message of its
	booking, not yet sent; its Appointment is built again from the booking as it stands (a fixed RPPS or regulator
	is taken into account); earlier pending messages of the booking go first. Returns the message's new status."""
	from cpts_snp.permissions import COORDINATION

	if frappe.session.user != "Administrator" and not COORDINATION.intersection(frappe.get_roles()):
		frappe.throw(_("Only the coordination may send a message to the SAS again"), frappe.PermissionError)
	if not frappe.db.exists(MESSAGE, name):
		frappe.throw(_("Message {0} not found").format(name), frappe.DoesNotExistError)
	message = frappe.db.get_value(MESSAGE, name, ["booking", "sequence", "status"], as_dict=True)
	if message.status == "Sent":
		frappe.throw(_("This message was already received by the SAS platform"))
	latest = frappe.db.sql(
		f"SELECT MAX(`sequence`) FROM `tab{MESSAGE}` WHERE `booking` = %s", message.booking
	)[0][0]
	if cint(latest) != cint(message.sequence):
		frappe.throw(
			_("A later message of booking {0} carries its current state: retry that one").format(
				message.booking
			)
		)
	now = now_datetime()
	frappe.db.set_value(MESSAGE, name, {"status": "Pending", "next_attempt_at": now, "error": None})
	frappe.db.sql(
		f"""UPDATE `tab{MESSAGE}` SET `next_attempt_at` = %s WHERE `booking` = %s AND `status` = 'Pending'
		AND `sequence` < %s""",
		(now, message.booking, message.sequence),
	)
	frappe.db.commit()
	send_for_booking(message.booking)
	return frappe.db.get_value(MESSAGE, name, "status")
