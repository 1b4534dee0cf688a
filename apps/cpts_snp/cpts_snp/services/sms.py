"""SMS through the gateway of Frappe's SMS Settings, with a timeout and the gateway's answer logged.

Frappe's own send_sms waits on the gateway without a timeout (a hung gateway holds a worker for ever) and keeps
only the numbers it reached. Here each SMS is an SNP Message Log row written in the caller's transaction
(a rolled-back change sends nothing), sent by a background job after commit, which stores the HTTP status and
the start of the body: Sent for a 2xx answer, Failed otherwise (or on a timeout, a refused connection…), shown
on the booking (connections « Messages »). The gateway's settings are Frappe's: URL, message and receiver
parameters, other parameters (or headers), GET or POST, JSON when a Content-Type header says so.
"""

import frappe
import phonenumbers
import requests
from frappe import _
from frappe.utils import cint, get_datetime, now_datetime

from cpts_snp.services.settings import get_settings

SEND_METHOD = "cpts_snp.services.sms.send_logged"
ANSWER_LIMIT = 2000


def gateway_configured() -> bool:
	return bool(frappe.db.get_single_value("SMS Settings", "sms_gateway_url"))


def timeout_seconds() -> int:
	return cint(get_settings().get("sms_timeout_seconds")) or 10


def can_receive_sms(phone: str) -> bool:
	"""A mobile number (a French landline « 04 … » receives no SMS: none is sent, nor logged)."""
	try:
		number = phonenumbers.parse(phone, "FR")
	except phonenumbers.NumberParseException:
		return False
	return phonenumbers.number_type(number) in (
		phonenumbers.PhoneNumberType.MOBILE,
		phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE,
	)


def clean_number(phone: str) -> str:
	for character in " -().":
		phone = phone.replace(character, "")
	return phone


def log_message(
	channel: str,
	recipient: str,
	message: str,
	booking: str | None,
	kind: str,
	unique_key: str | None = None,
	status: str = "Queued",
	error: str | None = None,
):
	"""Insert the SNP Message Log row (raises frappe.DuplicateEntryError when `unique_key` is taken)."""
	log = frappe.get_doc(
		{
			"doctype": "SNP Message Log",
			"booking": booking,
			"kind": kind,
			"channel": channel,
			"recipient": recipient,
			"message": message,
			"status": status,
			"unique_key": unique_key,
			"error": error,
			"sent_at": now_datetime() if status == "Sent" else None,
		}
	)
	log.flags.ignore_permissions = True  # written by the app on behalf of the change being made
	log.insert()
	return log


def queue(phone: str | None, message: str, booking: str | None, kind: str, unique_key: str | None = None):
	"""Log an SMS to `phone` and send it from the queue once the transaction commits. Returns the log (or None
	without a mobile number or a gateway)."""
	if not phone or not message or not can_receive_sms(phone) or not gateway_configured():
		return None
	log = log_message("SMS", clean_number(phone), message, booking, kind, unique_key)
	frappe.enqueue(SEND_METHOD, log_name=log.name, enqueue_after_commit=True)
	return log


def _request_arguments(settings) -> tuple[dict, dict]:
	headers = {"Accept": "text/plain, text/html, */*"}
	params = {}
	for row in settings.get("parameters"):
		if row.header:
			headers[row.parameter] = row.value
		else:
			params[row.parameter] = row.value
	return headers, params


def send_logged(log_name: str) -> str:
	"""Send the SMS of one SNP Message Log row still Queued (background job); returns its new status."""
	log = frappe.get_doc("SNP Message Log", log_name)
	if log.status != "Queued":
		return log.status  # sent already (a job run twice sends once)
	settings = frappe.get_doc("SMS Settings")
	headers, params = _request_arguments(settings)
	params[settings.message_parameter] = log.message
	params[settings.receiver_parameter] = log.recipient
	kwargs = {"headers": headers, "timeout": timeout_seconds()}
	if headers.get("Content-Type") == "application/json":
		kwargs["json"] = params
	elif settings.use_post:
		kwargs["data"] = params
	else:
		kwargs["params"] = params
	values = {"sent_at": now_datetime()}
	try:
		response = (requests.post if settings.use_post else requests.get)(settings.sms_gateway_url, **kwargs)
	except requests.RequestException as error:
		values.update(status="Failed", error=f"{type(error).__name__}: {error}"[:ANSWER_LIMIT])
	else:
		values.update(
			http_status=response.status_code,
			answer=response.text[:ANSWER_LIMIT],
			status="Sent" if 200 <= response.status_code < 300 else "Failed",
			error=None if 200 <= response.status_code < 300 else f"HTTP {response.status_code}",
		)
	log.db_set(values, update_modified=True)
	return values["status"]


def retry(log_name: str):
	"""Send a failed SMS again (« Renvoyer le SMS »): the same text to the same number, on the same log row
	(attempts + 1, who asked), from the queue once committed. Refused for a message already sent or on its way,
	an e-mail, a text already anonymised, a booking cancelled or whose appointment has passed."""
	from cpts_snp.permissions import can_resend_messages

	if not can_resend_messages():
		frappe.throw(
			_("Only the télésecrétariat and the coordination send a message again."), frappe.PermissionError
		)
	log = frappe.get_doc("SNP Message Log", log_name, for_update=True)
	log.check_permission("read")
	if log.channel != "SMS" or log.status != "Failed":
		frappe.throw(_("Only a failed SMS can be sent again (this one is « {0} »).").format(_(log.status)))
	if not log.recipient or not log.message:
		frappe.throw(_("This SMS was anonymised: it can no longer be sent."))
	if log.booking:
		status, start = frappe.db.get_value("SNP Booking", log.booking, ["status", "slot_start"])
		if status == "Cancelled" or (start and get_datetime(start) <= now_datetime()):
			frappe.throw(
				_("The booking of this SMS is cancelled or its time has passed: it is not sent again.")
			)
	if not gateway_configured():
		frappe.throw(_("No SMS gateway is configured (SMS Settings)."))
	log.db_set(
		{
			"status": "Queued",
			"error": None,
			"attempts": cint(log.attempts or 1) + 1,
			"retried_by": frappe.session.user,
		},
		update_modified=True,
	)
	frappe.enqueue(SEND_METHOD, log_name=log.name, enqueue_after_commit=True)
	return log
