"""A doctor's bank details: a new IBAN is paid only once the finance team confirms it.

- A change of IBAN/BIC by anyone without a finance role (the doctor on the portal, the coordination in the desk,
  a system manager) is kept aside as pending (`pending_iban`, `pending_bic`, `iban_changed_on`); the confirmed
  `iban`/`bic` stay as they were and the accountants get a ToDo (no patient data in it).
- An accountant or the treasurer confirms it on the SNP Professional form (`confirm`): the pending details become
  the IBAN/BIC, with who and when (`iban_confirmed_by`, `iban_confirmed_on`). A user with a finance role who
  edits the IBAN himself (or Administrator: scripts, imports) confirms it at once.
- Removing the IBAN takes effect at once (nothing is paid to an account nobody confirmed).
- Payment runs read only the confirmed `iban`/`bic`, and list the doctors whose IBAN changed since the previous
  approved run or awaits confirmation (services.payment_run).
"""

import frappe
from frappe import _
from frappe.utils import now_datetime
from frappe.utils.user import get_users_with_role

from cpts_snp.exceptions import InvalidBankDetailsError

FINANCE_ROLES = frozenset({"Comptable CPTS", "Trésorier CPTS"})
# Set by this module only (restored from the stored record otherwise, whatever the path).
SERVER_FIELDS = ("pending_iban", "pending_bic", "iban_changed_on", "iban_confirmed_by", "iban_confirmed_on")
NOTIFIED_ROLE = "Comptable CPTS"


def is_finance(user: str | None = None) -> bool:
	user = user or frappe.session.user
	return user == "Administrator" or bool(FINANCE_ROLES.intersection(frappe.get_roles(user)))


def route(doc) -> None:
	"""In SNP Professional.validate, after the IBAN/BIC are normalised: confirm or set aside a change."""
	before = None if doc.is_new() else doc.get_doc_before_save()
	if not doc.flags.bank_details_confirmed:
		for field in SERVER_FIELDS:
			doc.set(field, before.get(field) if before else None)
	old = (before.get("iban"), before.get("bic")) if before else (None, None)
	new = (doc.iban or None, doc.bic or None)
	if new == old or doc.flags.bank_details_confirmed:
		return
	if not new[0] or is_finance():
		doc.iban_confirmed_by, doc.iban_confirmed_on = frappe.session.user, now_datetime()
		doc.pending_iban = doc.pending_bic = doc.iban_changed_on = None
		return
	doc.pending_iban, doc.pending_bic = new
	doc.iban_changed_on = now_datetime()
	doc.iban, doc.bic = old
	doc.flags.bank_details_pending = True


def notify_finance(doc) -> None:
	"""In SNP Professional.on_update: a ToDo for each accountant about new bank details to confirm."""
	if not doc.flags.pop("bank_details_pending", None):
		return
	users = _finance_users()
	_close_todos(doc.name)
	for user in users:
		frappe.get_doc(
			{
				"doctype": "ToDo",
				"allocated_to": user,
				"reference_type": doc.doctype,
				"reference_name": doc.name,
				"priority": "High",
				"description": _(
					"New bank details of {0} to confirm before the next payment run (SNP Professional {1})"
				).format(frappe.utils.escape_html(doc.full_name or doc.name), doc.name),
			}
		).insert(ignore_permissions=True)


def _finance_users() -> list[str]:
	return get_users_with_role(NOTIFIED_ROLE)


def _close_todos(professional: str) -> None:
	for name in frappe.get_all(
		"ToDo",
		filters={"reference_type": "SNP Professional", "reference_name": professional, "status": "Open"},
		pluck="name",
	):
		todo = frappe.get_doc("ToDo", name)
		todo.status = "Closed"
		todo.save(ignore_permissions=True)


def confirm(professional: str):
	"""The finance team confirms a doctor's pending bank details: they become the IBAN/BIC the runs pay."""
	if not is_finance():
		frappe.throw(
			_("Only the accountant or the treasurer confirms new bank details"), frappe.PermissionError
		)
	doc = frappe.get_doc("SNP Professional", professional)
	doc.check_permission("read")
	if doc.user and doc.user == frappe.session.user:
		frappe.throw(_("Your own new bank details are confirmed by someone else"), frappe.PermissionError)
	if not doc.pending_iban:
		frappe.throw(_("There are no new bank details to confirm"), InvalidBankDetailsError)
	doc.iban, doc.bic = doc.pending_iban, doc.pending_bic
	doc.pending_iban = doc.pending_bic = doc.iban_changed_on = None
	doc.iban_confirmed_by, doc.iban_confirmed_on = frappe.session.user, now_datetime()
	doc.flags.bank_details_confirmed = True
	doc.flags.ignore_permissions = True  # the finance team holds no write right on the rest of the record
	_server_write(doc)
	doc.save()
	_close_todos(doc.name)
	doc.add_comment(
		"Info", _("New bank details confirmed by {0}").format(frappe.utils.get_fullname(frappe.session.user))
	)
	return doc


def reject(professional: str, reason: str):
	"""The finance team refuses a doctor's pending bank details (a mistyped or doubtful IBAN): the confirmed
	IBAN stays, the pending one is dropped, the refusal and its reason go to the record's timeline."""
	if not is_finance():
		frappe.throw(
			_("Only the accountant or the treasurer refuses new bank details"), frappe.PermissionError
		)
	if not (reason or "").strip():
		frappe.throw(_("Please give the reason for refusing the new bank details"), InvalidBankDetailsError)
	doc = frappe.get_doc("SNP Professional", professional)
	doc.check_permission("read")
	if not doc.pending_iban:
		frappe.throw(_("There are no new bank details to confirm"), InvalidBankDetailsError)
	doc.pending_iban = doc.pending_bic = doc.iban_changed_on = None
	doc.flags.bank_details_confirmed = True  # the pending fields are changed here, by the server
	doc.flags.ignore_permissions = True
	_server_write(doc)
	doc.save()
	_close_todos(doc.name)
	doc.add_comment(
		"Info",
		_("New bank details refused by {0}: {1}").format(
			frappe.utils.get_fullname(frappe.session.user), reason.strip()
		),
	)
	return doc


def _server_write(doc) -> None:
	try:
		from cpts_snp.permissions import server_write
	except ImportError:
		doc.flags.cpts_server_write = True
	else:
		server_write(doc)
