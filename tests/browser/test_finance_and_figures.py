"""End to end in the desk: the accountant computes a run, the treasurer approves it and downloads the SEPA file;
the coordinator opens the key-figures report."""

from datetime import datetime

import frappe
from cpts_snp.services.payment_run import release_items
from cpts_snp.tests.factories import TEST_PASSWORD, make_slot
from frappe.tests.utils import change_settings

from .conftest import screenshot

CPTS_BANK = {"legal_name": "CPTS Sud-Loire", "cpts_iban": "FR7630004000031234567890143", "cpts_bic": "BNPAFRPP"}


def set_date(page, fieldname, iso):
	field = page.locator(f'.frappe-control[data-fieldname="{fieldname}"] input')
	field.fill(page.evaluate(f"frappe.datetime.str_to_user('{iso}')"))
	field.press("Escape")


def test_a_run_is_computed_approved_and_its_sepa_file_downloaded(server, browser, committed):
	accountant = committed.user(["Comptable CPTS"])
	treasurer = committed.user(["Trésorier CPTS"])
	doctor = committed.professional()
	frappe.db.set_value("SNP Professional", doctor, "iban", "FR7630006000011234567890189")
	for day in (8, 9):
		make_slot(doctor, datetime(2013, 4, day, 10))
	frappe.get_doc({"doctype": "SNP Indemnity Scheme", "scheme_name": "Test barème 2013", "valid_from": "2013-01-01",
		"rate_per_slot": 12}).insert()
	frappe.db.commit()
	run_name = None
	try:
		with change_settings("SNP Settings", CPTS_BANK, commit=True):
			# the accountant prepares and computes the run
			context = browser.new_context(locale="fr-FR", viewport={"width": 1280, "height": 900})
			page = context.new_page()
			page.set_default_timeout(30_000)
			login(page, server, accountant)
			page.goto(f"{server}/app/snp-payment-run/new")
			set_date(page, "period_start", "2013-04-01")
			set_date(page, "period_end", "2013-04-30")
			page.keyboard.press("Control+s")
			page.wait_for_url("**/app/snp-payment-run/VIR-*")
			run_name = page.url.rsplit("/", 1)[-1]
			page.get_by_role("button", name="Calculer").click()
			page.locator(".page-head:visible .indicator-pill", has_text="Calculé").wait_for()
			screenshot(page, "finance-run-computed")
			# amounts read the French way
			total = page.locator('.frappe-control[data-fieldname="total_amount"] .control-value:visible').first
			assert total.inner_text().replace("\u00a0", " ").replace("\u202f", " ").strip() == "24,00 €"
			context.close()
			assert frappe.db.get_value("SNP Payment Run", run_name, "total_amount") == 24

			# the treasurer approves it and downloads the transfer file
			context = browser.new_context(locale="fr-FR", viewport={"width": 1280, "height": 900})
			page = context.new_page()
			page.set_default_timeout(30_000)
			login(page, server, treasurer)
			page.goto(f"{server}/app/snp-payment-run/{run_name}")
			page.get_by_role("button", name="Actions").click()
			page.get_by_role("link", name="Approuver").click()
			confirm = page.locator(".modal.show .btn-primary")
			if confirm.count():
				confirm.first.click()
			page.locator(".page-head:visible .indicator-pill", has_text="Approuvé").wait_for()
			screenshot(page, "finance-run-approved")
			sepa = page.request.get(f"{server}/api/method/cpts_snp.api.indemnities.download_sepa?run={run_name}")
			assert sepa.ok and b"pain.001.001.03" in sepa.body() and b"<InstdAmt Ccy=\"EUR\">24.00</InstdAmt>" in sepa.body()
			context.close()
	finally:
		frappe.db.rollback()
		if run_name:
			frappe.db.sql("UPDATE `tabSNP Payment Run` SET docstatus = 0 WHERE name = %s", run_name)
			release_items(run_name)
			frappe.db.delete("SNP Payment Run", run_name)
		frappe.db.delete("SNP Indemnity Scheme", {"scheme_name": "Test barème 2013"})
		frappe.db.commit()


def test_the_coordinator_opens_the_key_figures(server, browser, committed):
	coordinator = committed.user(["Coordinateur CPTS"])
	frappe.db.commit()
	context = browser.new_context(locale="fr-FR", viewport={"width": 1280, "height": 900})
	page = context.new_page()
	page.set_default_timeout(30_000)
	login(page, server, coordinator)
	page.goto(f"{server}/app/query-report/Chiffres cles SNP")
	page.locator(".dt-scrollable .dt-row").first.wait_for()
	assert "Chiffres clés SNP" in page.locator(".page-title").inner_text()
	assert page.locator(".dt-scrollable").get_by_text("Janvier").count()
	screenshot(page, "coordinator-key-figures")
	context.close()


def login(page, server, user):
	page.goto(f"{server}/login")
	page.fill("#login_email", user)
	page.fill("#login_password", TEST_PASSWORD)
	page.click(".btn-login")
	page.wait_for_url("**/app**")
