"""Messages about bookings, through Frappe's email queue (and SMS when SMS Settings has a gateway).

Emails go to the Email Queue in the same transaction as the change: a refused or rolled-back change sends
nothing. SMS are sent by a background job once the transaction is committed. A site without an outgoing
email account (or with `mute_emails`, as the demo and test sites) never fails a booking because of email.

No message carries a patient's reason (the reason for the consultation, the reason of a cancellation, an
absence's reason): e-mail and SMS leave the CPTS in clear; the reasons stay in the desk and the portal.
"""

import frappe
from frappe import _
from frappe.email.doctype.email_account.email_account import EmailAccount
from frappe.utils import format_datetime

from cpts_snp.services.settings import get_settings


def _when(booking) -> str:
	return format_datetime(booking.slot_start, "dd/MM/yyyy 'à' HH:mm")


def _patient(booking) -> str:
	return f"{booking.patient_first_name} {booking.patient_last_name}".strip()


def _professional_email(booking) -> str | None:
	if "professional_email" in booking.flags:  # a new booking: read with the lock taken by claim_slot
		return booking.flags.pop("professional_email")
	found = frappe.db.sql("SELECT `email` FROM `tabSNP Professional` WHERE `name` = %s", booking.professional)
	return found[0][0] if found else None


def _telesecretariat_email() -> str | None:
	return get_settings().telesecretariat_email


def _send(recipients, subject: str, message: str, booking) -> None:
	send_email(recipients, subject, message, "SNP Booking", booking.name)


def send_email(
	recipients,
	subject: str,
	message: str,
	reference_doctype: str,
	reference_name: str,
	attachments: list | None = None,
) -> None:
	"""Queue an email (never fails the caller's change for want of an outgoing email account)."""
	recipients = [r for r in recipients if r]
	if not recipients:
		return
	account = EmailAccount.find_outgoing()
	if not account:
		# A site without outgoing email still books: the message is only logged.
		frappe.logger("cpts_snp").info(f"no outgoing email account: not sent to {recipients}: {subject}")
		return
	frappe.sendmail(
		# Frappe's stand-in account of a muted site has no address of its own.
		sender=account.email_id or f"noreply@{frappe.local.site}",
		recipients=recipients,
		subject=subject,
		message=message,
		reference_doctype=reference_doctype,
		reference_name=reference_name,
		attachments=attachments,
	)


def _sms(phone: str | None, message: str) -> None:
	if not phone or not frappe.db.get_single_value("SMS Settings", "sms_gateway_url"):
		return
	frappe.enqueue(
		"frappe.core.doctype.sms_settings.sms_settings.send_sms",
		receiver_list=[phone.replace(" ", "")],
		msg=message,
		success_msg=False,
		enqueue_after_commit=True,
	)


def booking_created(booking) -> None:
	doctor = _professional_email(booking)
	if not (doctor or booking.patient_email or booking.patient_phone):
		return  # nobody to tell: no message composed (every booking passes here)
	when = _when(booking)
	if doctor:
		_send(
			[doctor],
			_("New SNP appointment on {0}").format(when),
			_("{0} (born on {1}) is booked on {2}. Booked through: {3}.").format(
				_patient(booking),
				format_datetime(booking.patient_date_of_birth, "dd/MM/yyyy"),
				when,
				_(booking.channel),
			),
			booking,
		)
	confirmation = _("{0}: your appointment with {1} is confirmed on {2}.").format(
		get_settings().cpts_name or "CPTS", booking.professional_name, when
	)
	_send([booking.patient_email], _("Your appointment on {0}").format(when), confirmation, booking)
	_sms(booking.patient_phone, confirmation)


def booking_cancelled(booking) -> None:
	_send(
		[_professional_email(booking), _telesecretariat_email()],
		_("SNP appointment cancelled: {0}").format(_when(booking)),
		_("The appointment of {0} on {1} is cancelled.").format(_patient(booking), _when(booking)),
		booking,
	)


def booking_hit_by_absence(booking, absence) -> None:
	cpts = get_settings().cpts_name or "CPTS"
	patient_message = _(
		"{0}: {1} will be absent and cannot see you on {2}. The CPTS will call you to offer another appointment."
	).format(cpts, booking.professional_name, _when(booking))
	_send(
		[booking.patient_email], _("Your appointment on {0}").format(_when(booking)), patient_message, booking
	)
	_sms(booking.patient_phone, patient_message)
	_send(
		[_telesecretariat_email()],
		_("Absence of {0}: appointment to move").format(booking.professional_name),
		_(
			"{0} is absent from {1} to {2} ({3}); the appointment of {4} on {5} must be moved or cancelled."
		).format(
			booking.professional_name,
			format_datetime(absence.from_date, "dd/MM/yyyy"),
			format_datetime(absence.to_date, "dd/MM/yyyy"),
			absence.name,
			_patient(booking),
			_when(booking),
		),
		booking,
	)
