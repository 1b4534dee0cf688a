import frappe
from frappe import _
from frappe.model.document import Document
from frappe.utils import cint, today

from cpts_snp.api import endpoint
from cpts_snp.exceptions import PaymentRunError
from cpts_snp.services import payment_run as service
from cpts_snp.services.naming import set_name


class SNPPaymentRun(Document):
	def autoname(self):
		set_name(self)

	# Payments and claims follow the run (set in on_cancel); they do not block its cancellation.
	ignore_linked_doctypes = ("SNP Indemnity Payment", "SNP Paid Item")

	def validate(self):
		if self.is_new() or self.has_value_changed("period_start") or self.has_value_changed("period_end"):
			service.validate_period(self)
			if not self.is_new() and self.status in ("Computed", "Failed"):
				self.reset()
		if not self.is_new() and self.has_value_changed("status") and self.status == "Draft":
			self.reset()

	def reset(self):
		"""Back to Draft: what the run computed is forgotten and its items become payable again."""
		service.release_items(self.name)
		self.status = "Draft"
		self.total_amount = self.payment_count = self.item_count = 0
		self.set("exclusions", [])

	def before_submit(self):
		if self.status != "Approved":
			frappe.throw(_("A payment run is submitted by its approval"), PaymentRunError)
		if not self.payment_count:
			frappe.throw(_("This run pays nothing: compute it first"), PaymentRunError)
		if self.computed_by == frappe.session.user and not cint(
			frappe.db.get_single_value("SNP Settings", "allow_self_approval")
		):
			frappe.throw(
				_("You computed this run: another person must approve it (see SNP Settings)"),
				frappe.PermissionError,
			)
		self.approved_by = frappe.session.user

	def on_submit(self):
		service.set_payments_status(self.name, "Approved", 1)

	def on_update_after_submit(self):
		if self.has_value_changed("status") and self.status == "Paid":
			if not self.paid_on:
				self.db_set("paid_on", today())
			service.set_payments_status(self.name, "Paid", 1, self.paid_on)
			frappe.enqueue(
				"cpts_snp.services.statements.send_statements",
				run_name=self.name,
				enqueue_after_commit=True,
			)

	def on_cancel(self):
		if self.paid_on:
			frappe.throw(_("A paid run cannot be cancelled"), PaymentRunError)
		self.db_set("status", "Cancelled")
		service.set_payments_status(self.name, "Cancelled", 2)
		frappe.db.delete("SNP Paid Item", {"run": self.name})

	def on_trash(self):
		service.release_items(self.name)


@frappe.whitelist(methods=["POST"])
@endpoint
def compute(run: str) -> str:
	"""« Calculer »: compute now, or in the background for a large run."""
	doc = frappe.get_doc("SNP Payment Run", run)
	doc.check_permission("write")
	if not frappe.has_permission("SNP Payment Run", "create"):
		raise frappe.PermissionError(_("Only the accountants compute payment runs"))
	return service.start_computation(doc)
