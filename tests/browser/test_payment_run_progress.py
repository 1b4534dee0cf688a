"""In the desk (issue 15 §7): an accountant computes a run too large to compute at once; the form shows the
background job's progress and, once a worker has done it, reaches 100 % and shows « Calculé » by itself (no
reload by hand); a run whose computation fails shows the failure by itself. The worker is a real RQ worker of
the bench (`bench worker --burst` on the long queue)."""

from datetime import datetime

import frappe
import pytest
from cpts_snp.services.payment_run import compute_in_background, release_items
from cpts_snp.tests.factories import TEST_PASSWORD, make_slot
from frappe.utils.background_jobs import get_queue

from .conftest import screenshot

RECORD_PROGRESS = """() => {
	window.__cpts_progress = [];
	const show = frappe.show_progress;
	frappe.show_progress = (title, count, total, description, hide) => {
		window.__cpts_progress.push(Math.round((count * 100) / (total || 100)));
		return show(title, count, total, description, hide);
	};
}"""


def run_worker(run: str, user: str) -> None:
	"""Do what the bench's RQ worker does with the run's job: take it off the long queue and run it (in this
	process, so that the test stack needs no worker of its own, which would also run the other tests' jobs)."""
	queue = get_queue("long")
	for job in queue.get_jobs():
		kwargs = (job.kwargs or {}).get("kwargs") or {}
		if kwargs.get("run_name") == run:
			assert job.kwargs["method"] == "cpts_snp.services.payment_run.compute_in_background"
			queue.remove(job)
			break
	else:
		raise AssertionError(f"no background job was queued for {run}")
	compute_in_background(run, user)
	frappe.set_user("Administrator")


@pytest.fixture
def run_world(committed):
	accountant = committed.user(["Comptable CPTS"])
	doctor = committed.professional()
	frappe.db.set_value("SNP Professional", doctor, "iban", "FR7630006000011234567890189")
	for day in (7, 8):
		make_slot(doctor, datetime(2005, 3, day, 10))
	scheme = frappe.get_doc(
		{
			"doctype": "SNP Indemnity Scheme",
			"scheme_name": f"Test barème navigateur {frappe.generate_hash(length=6)}",
			"valid_from": "2005-01-01",
			"rate_per_slot": 12,
		}
	).insert()
	runs = []

	def new_run(start, end):
		run = frappe.get_doc(
			{"doctype": "SNP Payment Run", "period_start": start, "period_end": end}
		).insert()
		runs.append(run.name)
		frappe.db.commit()
		return run.name

	# set directly (not through the Single's save: other tests save SNP Settings at the same time)
	threshold = frappe.db.get_single_value("SNP Settings", "background_threshold")
	frappe.db.set_single_value("SNP Settings", "background_threshold", 1)
	frappe.db.commit()
	try:
		yield frappe._dict(accountant=accountant, new_run=new_run, scheme=scheme.name)
	finally:
		frappe.db.rollback()
		frappe.db.set_single_value("SNP Settings", "background_threshold", threshold)
		frappe.db.commit()
	for name in runs:
		release_items(name)
		frappe.db.delete("SNP Indemnity Payment Line", {"parent": ["like", f"{name}-%"]})
		frappe.db.delete("SNP Indemnity Payment", {"run": name})
		frappe.db.delete("SNP Payment Run", name)
	frappe.db.delete("SNP Indemnity Scheme", scheme.name)
	frappe.db.commit()


def open_and_compute(page, server, user, run):
	page.goto(f"{server}/login")
	page.fill("#login_email", user)
	page.fill("#login_password", TEST_PASSWORD)
	page.click(".btn-login")
	page.wait_for_url("**/app**")
	page.goto(f"{server}/app/snp-payment-run/{run}")
	page.get_by_role("button", name="Calculer").wait_for()
	page.evaluate(RECORD_PROGRESS)
	page.get_by_role("button", name="Calculer").click()
	# the computation waits for a worker: the form says so in Frappe's progress dialog
	page.locator(".modal.show .modal-title", has_text=f"Calcul de {run}").wait_for()


def test_a_background_run_reaches_100_percent_and_shows_computed_by_itself(server, page, run_world):
	run = run_world.new_run("2005-03-01", "2005-03-31")
	open_and_compute(page, server, run_world.accountant, run)
	assert frappe.db.get_value("SNP Payment Run", run, "status") == "Computing"
	screenshot(page, "payment-run-waiting-for-worker")
	run_worker(run, run_world.accountant)
	page.locator(".page-head:visible .indicator-pill", has_text="Calculé").wait_for(timeout=30_000)
	assert 100 in page.evaluate("window.__cpts_progress")
	page.locator(".modal.show .modal-title", has_text=f"Calcul de {run}").wait_for(state="hidden")
	total = page.locator('.frappe-control[data-fieldname="total_amount"] .control-value:visible').first
	assert total.inner_text().replace("\u00a0", " ").replace("\u202f", " ").strip() == "24,00 €"
	screenshot(page, "payment-run-computed-by-itself")


def test_a_failing_background_run_shows_its_failure_by_itself(server, page, run_world):
	# the scheme disappears before the worker runs: the job cannot price the items and fails
	run = run_world.new_run("2005-03-01", "2005-03-31")
	open_and_compute(page, server, run_world.accountant, run)
	frappe.db.delete("SNP Indemnity Scheme", run_world.scheme)
	frappe.db.commit()
	run_worker(run, run_world.accountant)
	page.locator(".page-head:visible .indicator-pill", has_text="Échoué").wait_for(timeout=30_000)
	page.get_by_text("Le calcul a échoué : Aucun barème d'indemnisation ne couvre cette période").wait_for()
	page.locator(".modal.show .modal-title", has_text=f"Calcul de {run}").wait_for(state="hidden")
	screenshot(page, "payment-run-failure-shown")


def test_a_telesecretaire_lands_on_her_workspace_and_sees_only_it(server, page, committed):
	user = committed.user(["Télésecrétaire"])
	frappe.db.commit()
	page.goto(f"{server}/login")
	page.fill("#login_email", user)
	page.fill("#login_password", TEST_PASSWORD)
	page.click(".btn-login")
	page.wait_for_url("**/app/t%C3%A9l%C3%A9secr%C3%A9tariat")  # /app/télésecrétariat
	sidebar = page.locator(".desk-sidebar .sidebar-item-container .sidebar-item-label")
	sidebar.first.wait_for()
	assert sidebar.all_inner_texts() == ["Télésecrétariat"]
	page.get_by_text("Prendre un rendez-vous").first.wait_for()
	screenshot(page, "telesecretaire-workspace")
