"""Messages about bookings, from Email Templates (e-mail) and SNP Settings texts (SMS).

Every e-mail comes from a Frappe Email Template named « SNP - … » (MESSAGES below): the coordination edits its
subject and text in the desk (Email Template list) and the next message uses them. The French defaults are
created by `ensure_email_templates` on install and migrate when a template is missing, and never overwritten:
Frappe's fixtures would overwrite the coordination's edits at every migrate (frappe.utils.fixtures.sync_fixtures
« Import, overwrite fixtures »), so the templates are not shipped as fixtures. SMS texts are Jinja too, in SNP
Settings (tab « Messages »), with French defaults as field defaults.

Every text is rendered with frappe.render_template and the same context (`message_context`): the booking's
fields (never its reasons), `patient`, `when` (dd/MM/yyyy à HH:mm), `cpts_name`, `cpts_phone` (how to cancel)
and, for a move, `previous_when` and `previous_professional_name`. In an e-mail (HTML), every value is escaped.

Emails go to the Email Queue in the same transaction as the change: a refused or rolled-back change sends
nothing. SMS are sent by a background job once the transaction is committed (cpts_snp.services.sms), logged in
SNP Message Log. A site without an outgoing email account (or with `mute_emails`, as the demo and test sites)
never fails a booking because of email.

No message carries a reason (the reason for the consultation, the reason of a cancellation, an absence's
reason): e-mail and SMS leave the CPTS in clear; the reasons stay in the desk and the portal. They are not in
the templates' context at all, so an edited template cannot show them either.
"""

import frappe
from frappe import _
from frappe.email.doctype.email_account.email_account import EmailAccount
from frappe.utils import format_datetime
from markupsafe import escape

from cpts_snp.services.settings import get_settings

_CANCEL_HINT = (
	"<p>Pour annuler ou déplacer ce rendez-vous, appelez la {{ cpts_name }}"
	"{% if cpts_phone %} au {{ cpts_phone }}{% endif %}.</p>"
)

# kind: (Email Template name, default subject, default HTML text). Jinja, French by default.
MESSAGES = {
	"booking_confirmed_patient": (
		"SNP - Confirmation patient",
		"{{ cpts_name }} : votre rendez-vous du {{ when }}",
		"<p>Bonjour {{ patient }},</p>"
		"<p>Votre rendez-vous avec {{ professional_name }} est confirmé le {{ when }}.</p>" + _CANCEL_HINT,
	),
	"booking_confirmed_doctor": (
		"SNP - Nouveau rendez-vous (médecin)",
		"Nouveau rendez-vous SNP le {{ when }}",
		"<p>{{ patient }} (né(e) le {{ patient_date_of_birth }}) a rendez-vous avec vous le {{ when }}.</p>"
		"<p>Pris par : {{ channel }}.</p>",
	),
	"booking_cancelled_staff": (
		"SNP - Annulation (médecin et télésecrétariat)",
		"Rendez-vous SNP annulé : {{ when }}",
		"<p>Le rendez-vous de {{ patient }} avec {{ professional_name }} le {{ when }} est annulé.</p>",
	),
	"booking_cancelled_by_doctor_patient": (
		"SNP - Annulation par le médecin (patient)",
		"{{ cpts_name }} : votre rendez-vous du {{ when }} est annulé",
		"<p>Bonjour {{ patient }},</p>"
		"<p>{{ professional_name }} ne peut pas vous recevoir le {{ when }} : votre rendez-vous est annulé.</p>"
		"<p>Pour prendre un autre rendez-vous, appelez la {{ cpts_name }}"
		"{% if cpts_phone %} au {{ cpts_phone }}{% endif %}.</p>",
	),
	"booking_moved_patient": (
		"SNP - Déplacement (patient)",
		"{{ cpts_name }} : votre rendez-vous est déplacé au {{ when }}",
		"<p>Bonjour {{ patient }},</p>"
		"<p>Votre rendez-vous du {{ previous_when }} avec {{ previous_professional_name }} est déplacé "
		"au {{ when }} avec {{ professional_name }}.</p>" + _CANCEL_HINT,
	),
	"booking_moved_doctor": (
		"SNP - Déplacement (médecin)",
		"Rendez-vous SNP déplacé : {{ patient }}",
		"<p>Le rendez-vous de {{ patient }} du {{ previous_when }} avec {{ previous_professional_name }} "
		"est déplacé au {{ when }} avec {{ professional_name }}.</p>",
	),
	"reminder_patient": (
		"SNP - Rappel patient",
		"{{ cpts_name }} : rappel de votre rendez-vous du {{ when }}",
		"<p>Bonjour {{ patient }},</p>"
		"<p>Nous vous rappelons votre rendez-vous avec {{ professional_name }} le {{ when }}.</p>"
		+ _CANCEL_HINT,
	),
	"absence_patient": (
		"SNP - Absence du médecin (patient)",
		"{{ cpts_name }} : votre rendez-vous du {{ when }}",
		"<p>Bonjour {{ patient }},</p>"
		"<p>{{ professional_name }} sera absent(e) et ne pourra pas vous recevoir le {{ when }}. "
		"La {{ cpts_name }} va vous appeler pour vous proposer un autre rendez-vous.</p>",
	),
	"absence_telesecretariat": (
		"SNP - Absence du médecin (télésecrétariat)",
		"Absence de {{ professional_name }} : rendez-vous à déplacer",
		"<p>{{ professional_name }} est absent(e) du {{ absence_from }} au {{ absence_to }} ({{ absence }}) : "
		"le rendez-vous de {{ patient }} le {{ when }} doit être déplacé ou annulé.</p>",
	),
	"statement": (
		"SNP - Relevé d'indemnités",
		"Votre relevé d'indemnités SNP : {{ period }}",
		"<p>Bonjour {{ professional_name }},</p>"
		"<p>Veuillez trouver ci-joint votre relevé : {{ amount }} virés le {{ paid_on }}.</p>"
		"<p>{{ cpts_name }}</p>",
	),
	# the annual statement of a doctor's indemnities, sent in January (cpts_snp.services.annual_statement)
	"statement_annual": (
		"SNP - Relevé annuel d'indemnités",
		"Votre relevé annuel d'indemnités SNP {{ year }}",
		"<p>Bonjour {{ professional_name }},</p>"
		"<p>Veuillez trouver ci-joint le relevé des indemnités SNP que la {{ cpts_name }} vous a versées en "
		"{{ year }} : {{ amount }} au total.</p>"
		"<p>{{ cpts_name }}</p>",
	),
	"swap_requested": (
		"SNP - Échange de permanence (demande)",
		"Demande d'échange de la permanence du {{ when }}",
		"<p>Bonjour {{ to_professional_name }},</p>"
		"<p>{{ from_professional_name }} vous demande de prendre sa permanence de téléconsultation du "
		"{{ when }}. Vous pouvez accepter ou refuser depuis votre espace médecin.</p><p>{{ cpts_name }}</p>",
	),
	"swap_answered": (
		"SNP - Échange de permanence (réponse)",
		"Échange de la permanence du {{ when }} : {% if accepted %}accepté{% else %}refusé{% endif %}",
		"<p>Bonjour {{ from_professional_name }},</p>"
		"<p>{% if accepted %}{{ to_professional_name }} prend votre permanence de téléconsultation du "
		"{{ when }}.{% else %}{{ to_professional_name }} ne peut pas prendre votre permanence de "
		"téléconsultation du {{ when }} : elle reste à votre charge.{% endif %}</p><p>{{ cpts_name }}</p>",
	),
	"slot_still_free": (
		"SNP - Créneau encore libre",
		"Créneau SNP encore libre : {{ when }}",
		"<p>Le créneau de {{ professional_name }} le {{ when }} est encore libre {{ hours }} heures avant son début. "
		"Il est proposé aux partenaires et au SAS.</p>",
	),
}

# kind: SNP Settings field holding the SMS text (Jinja, French default in the field's default)
SMS_FIELDS = {
	"booking_confirmed_patient": "sms_booking_confirmed",
	"booking_cancelled_by_doctor_patient": "sms_booking_cancelled_by_doctor",
	"booking_moved_patient": "sms_booking_moved",
	"reminder_patient": "sms_reminder",
	"absence_patient": "sms_absence",
}

# Never in a message's context, whatever a template asks for
_PRIVATE_FIELDS = {"reason", "cancellation_reason", "supplement_note", "operator_id", "call"}


def ensure_email_templates() -> None:
	"""Create the missing « SNP - … » Email Templates with their French defaults (after install / migrate).
	An existing template is left as the coordination edited it."""
	for name, subject, response in MESSAGES.values():
		if frappe.db.exists("Email Template", name):
			continue
		frappe.get_doc(
			{"doctype": "Email Template", "name": name, "subject": subject, "response": response}
		).insert(ignore_permissions=True)  # installation step, no user involved
	ensure_template_permission()


TEMPLATE_EDITOR = "Coordinateur CPTS"


def ensure_template_permission() -> None:
	"""The coordination edits the Email Templates (Frappe gives them to the System Manager only): a permission
	rule « Coordinateur CPTS » read / write on Email Template, added when missing (Frappe's own permission
	manager then shows and changes it)."""
	from frappe.permissions import add_permission, update_permission_property

	rule = {"parent": "Email Template", "role": TEMPLATE_EDITOR, "permlevel": 0, "if_owner": 0}
	if not frappe.db.exists("Role", TEMPLATE_EDITOR) or frappe.db.exists("Custom DocPerm", rule):
		return
	add_permission("Email Template", TEMPLATE_EDITOR, 0)
	for ptype in ("write", "report"):
		update_permission_property("Email Template", TEMPLATE_EDITOR, 0, ptype, 1, validate=False)
	frappe.clear_cache(doctype="Email Template")


# Kinds whose context is a booking's (message_context(booking)): their texts may use every booking field
_BOOKING_KINDS = ("booking_", "reminder_", "absence_")
_BOOKING_KEYS = {"booking", "patient", "when", "patient_date_of_birth", "channel"}


def template_variables(text: str | None) -> set[str]:
	"""The names a Jinja text reads from its context (its own loop and `set` variables excluded)."""
	from jinja2 import TemplateSyntaxError, meta

	if not text:
		return set()
	try:
		return meta.find_undeclared_variables(frappe.get_jenv().parse(text))
	except TemplateSyntaxError as error:
		frappe.throw(
			_("This message text is not valid (line {0}): {1}").format(error.lineno, error.message),
			title=_("Message text"),
		)


def available_variables(kind: str) -> set[str]:
	"""What a text of `kind` may use: the CPTS's name and phone, the booking's fields (never its reasons) for a
	booking's message, and whatever the French default of that kind uses."""
	names = _default_variables(kind)
	if kind.startswith(_BOOKING_KINDS):
		fields = {
			df.fieldname for df in frappe.get_meta("SNP Booking").fields if df.fieldtype not in ("Table",)
		}
		names |= _BOOKING_KEYS | fields
	return names - _PRIVATE_FIELDS


def check_variables(kind: str, *texts: str | None) -> None:
	"""Refuse a text naming a variable its message does not have (a typo would be sent as an empty blank)."""
	used = set().union(*(template_variables(text) for text in texts)) - set(frappe.get_jenv().globals)
	unknown = used - available_variables(kind)
	if unknown:
		frappe.throw(
			_("Unknown variable in this message: {0}. It may use: {1}.").format(
				", ".join(sorted(unknown)),
				", ".join(sorted(_default_variables(kind))),
			),
			title=_("Message text"),
		)


def _default_variables(kind: str) -> set[str]:
	_name, subject, response = MESSAGES[kind]
	return {"cpts_name", "cpts_phone"} | template_variables(subject) | template_variables(response)


_KIND_OF_TEMPLATE = {name: kind for kind, (name, _subject, _response) in MESSAGES.items()}


def validate_email_template(doc, method=None) -> None:
	"""Email Template validate hook: an « SNP - … » template may only use its message's variables."""
	kind = _KIND_OF_TEMPLATE.get(doc.name)
	if kind:
		check_variables(kind, doc.subject, doc.response_html if doc.use_html else doc.response)


def validate_sms_texts(settings) -> None:
	"""SNP Settings: each SMS text may only use its message's variables."""
	for kind, field in SMS_FIELDS.items():
		check_variables(kind, settings.get(field))


def _when(value) -> str:
	return format_datetime(value, "dd/MM/yyyy 'à' HH:mm") if value else ""


def _patient(booking) -> str:
	return f"{booking.patient_first_name or ''} {booking.patient_last_name or ''}".strip()


def message_context(booking=None, **extra) -> dict:
	"""What every message's template may use: the booking's fields except its reasons, and the CPTS's."""
	settings = get_settings()
	context = {"cpts_name": settings.cpts_name or "CPTS", "cpts_phone": settings.cpts_phone or ""}
	if booking is not None:
		context.update(
			{
				key: value
				for key, value in booking.as_dict(no_default_fields=True).items()
				if key not in _PRIVATE_FIELDS and not isinstance(value, list)
			}
		)
		context.update(
			{
				"booking": booking.name,
				"patient": _patient(booking),
				"when": _when(booking.slot_start),
				"patient_date_of_birth": format_datetime(booking.patient_date_of_birth, "dd/MM/yyyy")
				if booking.patient_date_of_birth
				else "",
				"channel": _(booking.channel) if booking.channel else "",
			}
		)
	context.update(extra)
	return context


def _escaped(context: dict) -> dict:
	return {key: escape("" if value is None else value) for key, value in context.items()}


def _template(kind: str) -> tuple[str, str]:
	name, subject, response = MESSAGES[kind]
	stored = frappe.db.get_value(
		"Email Template", name, ["subject", "response", "response_html", "use_html"], as_dict=True
	)
	if stored:
		subject = stored.subject or subject
		response = (stored.response_html if stored.use_html else stored.response) or response
	return subject, response


def render_email(kind: str, context: dict) -> tuple[str, str]:
	"""(subject, HTML message) of `kind` from its Email Template: values escaped in the HTML text."""
	subject, response = _template(kind)
	return (
		frappe.render_template(subject, context).strip(),
		frappe.render_template(response, _escaped(context)),
	)


def render_sms(kind: str, context: dict) -> str:
	settings = get_settings()
	field = settings.meta.get_field(SMS_FIELDS[kind])
	text = settings.get(SMS_FIELDS[kind]) or (field.default if field else "")
	return frappe.render_template(text, context).strip()


def _professional_email(booking, professional: str | None = None) -> str | None:
	if professional is None and "professional_email" in booking.flags:
		# a new booking: read with the lock taken by claim_slot
		return booking.flags.pop("professional_email")
	found = frappe.db.sql(
		"SELECT `email` FROM `tabSNP Professional` WHERE `name` = %s", professional or booking.professional
	)
	return found[0][0] if found else None


def _telesecretariat_email() -> str | None:
	return get_settings().telesecretariat_email


def _email(kind: str, recipients, context: dict, booking) -> None:
	recipients = [r for r in recipients if r]
	if not recipients:
		return
	subject, message = render_email(kind, context)
	send_email(recipients, subject, message, "SNP Booking", booking.name)


def send_email(
	recipients,
	subject: str,
	message: str,
	reference_doctype: str,
	reference_name: str,
	attachments: list | None = None,
) -> bool:
	"""Queue an email (never fails the caller's change for want of an outgoing email account); True when
	queued."""
	recipients = [r for r in recipients if r]
	if not recipients:
		return False
	account = EmailAccount.find_outgoing()
	if not account:
		# A site without outgoing email still books: the message is only logged.
		frappe.logger("cpts_snp").info(f"no outgoing email account: not sent to {recipients}: {subject}")
		return False
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
	return True


def _sms(kind: str, booking, context: dict, unique_key: str | None = None) -> None:
	from cpts_snp.services import sms

	if not booking.patient_phone:
		return
	sms.queue(
		booking.patient_phone,
		render_sms(kind, context),
		booking=booking.name,
		kind=kind,
		unique_key=unique_key,
	)


def _patient_messages(kind: str, booking, context: dict) -> None:
	_email(kind, [booking.patient_email], context, booking)
	_sms(kind, booking, context)


def booking_created(booking) -> None:
	doctor = _professional_email(booking)
	if not (doctor or booking.patient_email or booking.patient_phone):
		return  # nobody to tell: no message composed (every booking passes here)
	context = message_context(booking)
	_email("booking_confirmed_doctor", [doctor], context, booking)
	_patient_messages("booking_confirmed_patient", booking, context)


def booking_cancelled(booking) -> None:
	"""A cancellation, whoever made it: the doctor and the telesecretariat are told."""
	_email(
		"booking_cancelled_staff",
		[_professional_email(booking, booking.professional), _telesecretariat_email()],
		message_context(booking),
		booking,
	)


def booking_cancelled_by_doctor(booking) -> None:
	"""The doctor cancelled: the patient is told (e-mail and SMS), with how to get another appointment.
	(The doctor and the telesecretariat are told by booking_cancelled, as for any cancellation.)"""
	_patient_messages("booking_cancelled_by_doctor_patient", booking, message_context(booking))


def booking_moved(booking, previous: dict) -> None:
	"""The booking moved to another slot (maybe another doctor). `previous`: {"slot", "slot_start",
	"professional", "professional_name"} before the move. The patient and both doctors are told."""
	context = message_context(
		booking,
		previous_when=_when(previous.get("slot_start")),
		previous_professional_name=previous.get("professional_name") or "",
	)
	_patient_messages("booking_moved_patient", booking, context)
	if booking.patient_email:
		# the move is in the booking's messages, and its time decides the reminder (cpts_snp.services.reminders)
		from cpts_snp.services import sms

		subject, _message = render_email("booking_moved_patient", context)
		sms.log_message(
			"Email", booking.patient_email, subject, booking.name, "booking_moved_patient", status="Sent"
		)
	doctors = [_professional_email(booking, booking.professional)]
	if previous.get("professional") and previous.get("professional") != booking.professional:
		doctors.append(_professional_email(booking, previous["professional"]))
	_email("booking_moved_doctor", list(dict.fromkeys(doctors)), context, booking)


def booking_hit_by_absence(booking, absence) -> None:
	context = message_context(
		booking,
		absence=absence.name,
		absence_from=format_datetime(absence.from_date, "dd/MM/yyyy"),
		absence_to=format_datetime(absence.to_date, "dd/MM/yyyy"),
	)
	_patient_messages("absence_patient", booking, context)
	_email("absence_telesecretariat", [_telesecretariat_email()], context, booking)


def _full_name(professional: str) -> str:
	return frappe.db.get_value("SNP Professional", professional, "full_name") or professional


def _swap_context(swap) -> dict:
	return message_context(
		permanence=swap.permanence,
		when=_when(
			swap.permanence_start or frappe.db.get_value("SNP Permanence", swap.permanence, "starts_at")
		),
		from_professional_name=swap.from_professional_name or _full_name(swap.from_professional),
		to_professional_name=swap.to_professional_name or _full_name(swap.to_professional),
		accepted=swap.status == "Accepted",
	)


def _swap_email(kind: str, swap, professional: str) -> None:
	recipient = frappe.db.get_value("SNP Professional", professional, "email")
	if not recipient:
		return
	subject, message = render_email(kind, _swap_context(swap))
	send_email([recipient], subject, message, "SNP Permanence Swap", swap.name)


def swap_requested(swap) -> None:
	"""A doctor asks a colleague to take his permanence: the colleague is told (not the request's reason)."""
	_swap_email("swap_requested", swap, swap.to_professional)


def swap_answered(swap) -> None:
	"""The colleague accepted or refused: the doctor who asked is told."""
	if swap.status in ("Accepted", "Refused") and swap.has_value_changed("status"):
		_swap_email("swap_answered", swap, swap.from_professional)


def slot_still_free(slot, hours: int, recipients) -> None:
	"""A slot of the cascade still free `hours` before it starts (cpts_snp.services.cascade): the doctor, the
	telesecretariat and the coordination are told."""
	subject, message = render_email(
		"slot_still_free",
		message_context(
			slot=slot.name,
			professional_name=slot.professional_name or "",
			when=_when(slot.starts_at),
			hours=hours,
		),
	)
	send_email(recipients, subject, message, "SNP Slot", slot.name)
