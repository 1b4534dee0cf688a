import frappe
from frappe import _
from frappe.model.document import Document
from frappe.utils import cint, cstr, flt, get_datetime, getdate, today

from cpts_snp.api import endpoint
from cpts_snp.exceptions import PaymentRunError
from cpts_snp.services import payment_run as service
from cpts_snp.services.naming import set_name

# What the run's own code sets (the computation, the approval, « Mark as paid »), never a caller, whatever the
# path (form, REST PUT, frappe.client.set_value/save/submit, Data Import): a change is refused unless the app's
# code marked the document (`service.server_write`).
SERVER_FIELDS = (
	"computed_by",
	"computed_at",
	"approved_by",
	"self_approved",
	"paid_on",
	"was_paid",
	"total_amount",
	"payment_count",
	"item_count",
	"error_message",
	"exclusions",
	"iban_changes",
)


class SNPPaymentRun(Document):
	def autoname(self):
		set_name(self)

	# Payments and claims follow the run (set in on_cancel); they do not block its cancellation.
	ignore_linked_doctypes = ("SNP Indemnity Payment", "SNP Paid Item")

	def validate(self):
		self.guard_server_fields()
		if self.is_new() or self.has_value_changed("period_start") or self.has_value_changed("period_end"):
			service.validate_period(self)
			if not self.is_new() and self.get_doc_before_save().status == "Computing":
				frappe.throw(
					_("This run is being computed: wait for the computation to end"), PaymentRunError
				)
			if not self.is_new() and self.status in ("Computed", "Failed"):
				self.reset()
		if not self.is_new() and self.has_value_changed("status") and self.status == "Draft":
			self.reset()

	def guard_server_fields(self):
		"""Refuse a change of a field the run's own code sets (see SERVER_FIELDS)."""
		if self.flags.cpts_server_write:
			return
		before = None if self.is_new() else self.get_doc_before_save()
		changed = [
			field
			for field in SERVER_FIELDS
			if _comparable(self, field) != (_comparable(before, field) if before else _empty(self, field))
		]
		if changed:
			frappe.throw(
				_("{0} of a payment run are set by the application only").format(
					", ".join(f"« {_(self.meta.get_label(field))} »" for field in changed)
				),
				PaymentRunError,
			)

	def reset(self):
		"""Back to Draft: what the run computed is forgotten and its items become payable again."""
		service.server_write(self)
		service.release_items(self.name)
		self.status = "Draft"
		self.total_amount = self.payment_count = self.item_count = 0
		self.set("exclusions", [])
		self.set("iban_changes", [])

	def before_submit(self):
		if self.status != "Approved":
			frappe.throw(_("A payment run is submitted by its approval"), PaymentRunError)
		if not self.payment_count:
			frappe.throw(_("This run pays nothing: compute it first"), PaymentRunError)
		computed_by = frappe.db.get_value("SNP Payment Run", self.name, "computed_by")
		self_approved = computed_by == frappe.session.user
		if self_approved and not cint(frappe.db.get_single_value("SNP Settings", "allow_self_approval")):
			frappe.throw(
				_("You computed this run: another person must approve it (see SNP Settings)"),
				frappe.PermissionError,
			)
		service.server_write(self)
		self.approved_by = frappe.session.user
		self.self_approved = int(self_approved)

	def on_submit(self):
		service.set_payments_status(self.name, "Approved", 1)
		if self.self_approved:
			self.add_comment(
				"Info",
				_("Approved by {0}, who computed it: SNP Settings allow it").format(
					frappe.utils.get_fullname(self.approved_by)
				),
			)

	def before_update_after_submit(self):
		"""Once approved, only « Mark as paid » changes a run (its status, from Approved to Paid)."""
		self.guard_server_fields()
		before = self.get_doc_before_save()
		if self.status != before.status and (before.status, self.status) != ("Approved", "Paid"):
			frappe.throw(
				_("Run {0} is {1}: it cannot become {2}").format(self.name, _(before.status), _(self.status)),
				PaymentRunError,
			)

	def on_update_after_submit(self):
		if self.has_value_changed("status") and self.status == "Paid":
			# Set once, by the server: the run is then never cancelled (before_cancel).
			self.db_set({"paid_on": today(), "was_paid": 1})
			service.set_payments_status(self.name, "Paid", 1, self.paid_on)
			frappe.enqueue(
				"cpts_snp.services.statements.send_statements",
				run_name=self.name,
				enqueue_after_commit=True,
			)

	def before_cancel(self):
		"""A paid run is never cancelled, by any path (judged on the stored run and its payments)."""
		stored = frappe.db.get_value(
			"SNP Payment Run", self.name, ["status", "paid_on", "was_paid"], as_dict=True, for_update=True
		)
		paid_payments = frappe.db.count(
			"SNP Indemnity Payment", {"run": self.name, "status": "Paid"}
		) or frappe.db.exists("SNP Indemnity Payment", {"run": self.name, "paid_on": ["is", "set"]})
		if stored.status == "Paid" or stored.paid_on or cint(stored.was_paid) or paid_payments:
			frappe.throw(_("A paid run cannot be cancelled"), PaymentRunError)

	def on_cancel(self):
		self.db_set("status", "Cancelled")
		service.set_payments_status(self.name, "Cancelled", 2)
		frappe.db.delete("SNP Paid Item", {"run": self.name})

	def on_trash(self):
		service.release_items(self.name)


def _empty(doc, field):
	return [] if doc.meta.get_field(field).fieldtype == "Table" else None


def _comparable(doc, field):
	"""`field` of `doc` in a form that does not depend on how it came (form strings or database values)."""
	value = doc.get(field)
	df = doc.meta.get_field(field)
	if df.fieldtype == "Table":
		child = frappe.get_meta(df.options)
		return [
			tuple(
				_normalise(child.get_field(f.fieldname).fieldtype, row.get(f.fieldname)) for f in child.fields
			)
			for row in value or []
		]
	return _normalise(df.fieldtype, value)


def _normalise(fieldtype: str, value):
	if value in (None, ""):
		return None
	if fieldtype in ("Int", "Check"):
		return cint(value) or None
	if fieldtype in ("Currency", "Float"):
		return flt(value, 2) or None
	if fieldtype == "Datetime":
		return get_datetime(value)
	if fieldtype == "Date":
		return getdate(value)
	return cstr(value)


@frappe.whitelist(methods=["POST"])
@endpoint
def compute(run: str) -> str:
	"""« Calculer »: compute now, or in the background for a large run."""
	doc = frappe.get_doc("SNP Payment Run", run)
	doc.check_permission("write")
	if not frappe.has_permission("SNP Payment Run", "create"):
		raise frappe.PermissionError(_("Only the accountants compute payment runs"))
	return service.start_computation(doc)


@frappe.whitelist(methods=["GET"])
@endpoint
def progress(run: str) -> dict:
	"""The run's status and its background computation's last progress (the form's fallback to real time)."""
	frappe.get_doc("SNP Payment Run", run).check_permission("read")
	return service.progress_of(run)
