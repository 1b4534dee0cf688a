"""The annual statement of a doctor: the SNP indemnities the CPTS paid him in one calendar year (a PDF).

Only what was paid counts: a payment (SNP Indemnity Payment, submitted) of a run whose status is « Paid » and whose
payment date falls in the year. The doctor downloads his own from the portal (cpts_snp.api.portal), the
coordination and the finance anyone's from his SNP Professional form (cpts_snp.api.annual_statement), and a daily
job sends each doctor the previous year's in January, once (a SNP Message Log row keyed by doctor and year).
"""

import frappe
from frappe import _
from frappe.email.doctype.email_account.email_account import EmailAccount
from frappe.query_builder.functions import Extract, Sum
from frappe.utils import cint, flt, fmt_money, format_date, getdate, today
from frappe.utils.pdf import get_pdf

from cpts_snp.services import notifications
from cpts_snp.services.settings import get_settings

TEMPLATE = "cpts_snp/indemnities/annual_statement_pdf.html"
MESSAGE_KIND = "statement_annual"
# the coordination and the finance read every doctor's statement
READERS = ("System Manager", "Coordinateur CPTS", "Comptable CPTS", "Trésorier CPTS")


def _paid(year: int):
	"""(Run, Payment, the query of the payments paid in `year`)."""
	Run = frappe.qb.DocType("SNP Payment Run")
	Payment = frappe.qb.DocType("SNP Indemnity Payment")
	query = (
		frappe.qb.from_(Payment)
		.join(Run)
		.on(Run.name == Payment.run)
		.where(Payment.docstatus == 1)
		.where(Run.status == "Paid")
		.where(Run.paid_on >= f"{year}-01-01")
		.where(Run.paid_on <= f"{year}-12-31")
	)
	return Run, Payment, query


def paid_runs(professional: str, year: int) -> list[dict]:
	"""The runs that paid `professional` in `year`: run, period, paid on, amount (by payment date)."""
	Run, Payment, query = _paid(year)
	return (
		query.select(Run.name.as_("run"), Run.period_start, Run.period_end, Run.paid_on, Payment.amount)
		.where(Payment.professional == professional)
		.orderby(Run.paid_on)
		.orderby(Run.name)
		.run(as_dict=True)
	)


def item_totals(professional: str, year: int) -> list[dict]:
	"""The year's lines of `professional` summed by item type (one query for all his runs)."""
	_run, Payment, query = _paid(year)
	Line = frappe.qb.DocType("SNP Indemnity Payment Line")
	return (
		query.join(Line)
		.on((Line.parent == Payment.name) & (Line.parenttype == "SNP Indemnity Payment"))
		.select(Line.item_type, Sum(Line.quantity).as_("quantity"), Sum(Line.amount).as_("amount"))
		.where(Payment.professional == professional)
		.groupby(Line.item_type)
		.orderby(Line.item_type)
		.run(as_dict=True)
	)


def years_paid(professional: str) -> list[int]:
	"""The calendar years in which `professional` was paid indemnities, latest first."""
	Run = frappe.qb.DocType("SNP Payment Run")
	Payment = frappe.qb.DocType("SNP Indemnity Payment")
	year = Extract("year", Run.paid_on)
	rows = (
		frappe.qb.from_(Payment)
		.join(Run)
		.on(Run.name == Payment.run)
		.select(year.as_("year"))
		.distinct()
		.where(Payment.docstatus == 1)
		.where(Run.status == "Paid")
		.where(Run.paid_on.isnotnull())
		.where(Payment.professional == professional)
		.orderby(year, order=frappe.qb.desc)
		.run()
	)
	return [cint(row[0]) for row in rows]


def professionals_paid(year: int) -> list[str]:
	"""Every professional paid indemnities in `year` (one query)."""
	_run, Payment, query = _paid(year)
	return [row[0] for row in query.select(Payment.professional).distinct().run()]


def statement(professional: str, year: int) -> dict:
	"""What the statement shows: the CPTS, the doctor, the year's paid runs, the totals by item type, the total."""
	settings = get_settings()
	doctor = frappe.db.get_value("SNP Professional", professional, ["full_name", "rpps"], as_dict=True) or {}
	runs = paid_runs(professional, year)
	total = sum((run.amount or 0) for run in runs)
	return {
		"year": year,
		"legal_name": settings.legal_name or settings.cpts_name or "CPTS",
		"siret": settings.siret or "",
		"professional": professional,
		"professional_name": doctor.get("full_name") or professional,
		"rpps": doctor.get("rpps") or "",
		"runs": runs,
		"items": item_totals(professional, year),
		"total": total,
	}


def money(amount) -> str:
	return fmt_money(amount or 0, currency="EUR")


def render_html(professional: str, year: int) -> str:
	data = statement(professional, year)
	return frappe.render_template(
		TEMPLATE,
		{
			**data,
			"title": _("Annual statement of SNP indemnities {0}").format(year),
			"runs": [
				{
					"run": run.run,
					"period": "{} – {}".format(
						format_date(run.period_start, "dd/MM/yyyy"), format_date(run.period_end, "dd/MM/yyyy")
					),
					"paid_on": format_date(run.paid_on, "dd/MM/yyyy"),
					"amount": money(run.amount),
				}
				for run in data["runs"]
			],
			"items": [
				{
					"label": _(item.item_type),
					"quantity": f"{flt(item.quantity, 2):g}".replace(".", ","),
					"amount": money(item.amount),
				}
				for item in data["items"]
			],
			"total": money(data["total"]),
			"printed_on": _("Printed on {0}").format(format_date(today(), "dd/MM/yyyy")),
		},
	)


def pdf(professional: str, year: int) -> bytes:
	return get_pdf(render_html(professional, year))


def filename(professional: str, year: int) -> str:
	return f"releve-annuel-snp-{year}-{frappe.scrub(professional)}.pdf"


def check_year(year) -> int:
	year = cint(year)
	if not 2000 <= year <= 2100:
		frappe.throw(_("Invalid value: {0}").format(year), frappe.ValidationError)
	return year


def may_read_any(user: str | None = None) -> bool:
	return bool(set(frappe.get_roles(user)) & set(READERS))


def send_to(professional: str, year: int) -> bool:
	"""E-mail `professional` his statement of `year`, once: False when already sent or when he has no e-mail."""
	email = frappe.db.get_value("SNP Professional", professional, "email")
	if not email or not EmailAccount.find_outgoing():
		return False  # not marked as sent: a later day of January sends it
	data = statement(professional, year)
	subject, message = notifications.render_email(
		MESSAGE_KIND,
		notifications.message_context(
			professional_name=data["professional_name"], year=year, amount=money(data["total"])
		),
	)
	from cpts_snp.services import sms

	frappe.db.savepoint("annual_statement")
	try:
		sms.log_message(
			"Email",
			email,
			subject,
			None,
			MESSAGE_KIND,
			unique_key=f"{MESSAGE_KIND}:{professional}:{year}",
			status="Sent",
		)
	except frappe.DuplicateEntryError:
		frappe.db.rollback(save_point="annual_statement")
		return False
	return notifications.send_email(
		[email],
		subject,
		message,
		"SNP Professional",
		professional,
		attachments=[{"fname": filename(professional, year), "fcontent": pdf(professional, year)}],
	)


def send_january_statements(on_date=None) -> int:
	"""Daily job: in January, each doctor paid indemnities in the previous year gets its statement, once (the
	job may run every day of the month, or twice a day: the message log's unique key). Returns how many sent."""
	on_date = getdate(on_date or today())
	if on_date.month != 1:
		return 0
	year = on_date.year - 1
	sent = 0
	for professional in professionals_paid(year):
		if frappe.db.exists("SNP Message Log", {"unique_key": f"{MESSAGE_KIND}:{professional}:{year}"}):
			continue
		sent += bool(send_to(professional, year))
	return sent
