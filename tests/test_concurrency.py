"""Simultaneous requests cannot double-book a slot nor publish overlapping slots: the slot (or the
professional) row is locked for the length of the transaction, the second request waits and is refused."""

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import frappe
import pytest
from cpts_snp.exceptions import SlotOverlapError, SlotUnavailableError
from cpts_snp.services.booking import book_slot
from cpts_snp.tests.factories import PATIENT, future_start, make_slot


def race(actions, user="Administrator"):
	site, sites_path = frappe.local.site, frappe.local.sites_path
	barrier = threading.Barrier(len(actions))

	def worker(action):
		frappe.init(site=site, sites_path=sites_path)
		try:
			frappe.connect()
			frappe.set_user(user)
			frappe.local.lang = "fr"
			barrier.wait(timeout=30)
			try:
				result = action()
				time.sleep(0.4)  # keep the transaction (and its locks) open while the others try
				frappe.db.commit()
				return ("ok", result)
			except Exception as e:
				frappe.db.rollback()
				return ("refused", e)
		finally:
			frappe.destroy()

	with ThreadPoolExecutor(len(actions)) as pool:
		return list(pool.map(worker, actions))


def test_two_connections_booking_one_slot_at_the_same_moment_exactly_one_succeeds(committed):
	slot = make_slot(committed.professional(), future_start(hour=10)).name
	frappe.db.commit()

	outcomes = race(
		[
			lambda: book_slot(slot, {**PATIENT, "patient_last_name": "Premier"}).name,
			lambda: book_slot(slot, {**PATIENT, "patient_last_name": "Second"}).name,
		]
	)

	assert sorted(kind for kind, _ in outcomes) == ["ok", "refused"]
	refusal = next(value for kind, value in outcomes if kind == "refused")
	assert isinstance(refusal, SlotUnavailableError)
	assert "n'est plus disponible" in str(refusal)
	assert frappe.db.count("SNP Booking", {"slot": slot}) == 1
	assert frappe.db.get_value("SNP Slot", slot, "status") == "Booked"


def test_two_connections_publishing_overlapping_slots_exactly_one_succeeds(committed):
	professional = committed.professional()
	frappe.db.commit()

	outcomes = race(
		[
			lambda: make_slot(professional, future_start(hour=14), duration=30).name,
			lambda: make_slot(professional, future_start(hour=14, minute=10), duration=30).name,
		]
	)

	assert sorted(kind for kind, _ in outcomes) == ["ok", "refused"]
	assert isinstance(next(v for k, v in outcomes if k == "refused"), SlotOverlapError)
	assert frappe.db.count("SNP Slot", {"professional": professional}) == 1


def test_two_generations_of_one_template_at_the_same_moment_create_each_slot_once(committed):
	from cpts_snp.services.generation import generate_for_template
	from cpts_snp.tests.factories import make_template

	professional = committed.professional()
	template = make_template(professional).name
	frappe.db.commit()

	def generate():
		return generate_for_template(frappe.get_doc("SNP Availability Template", template))

	outcomes = race([generate, generate])

	assert [kind for kind, _ in outcomes] == ["ok", "ok"]
	created = [name for _, names in outcomes for name in names]
	assert created and len(set(created)) == len(created)
	slots = frappe.get_all("SNP Slot", filters={"professional": professional}, pluck="starts_at")
	assert len(slots) == len(set(slots)) == len(created)
	frappe.db.delete("SNP Availability Template", template)
	frappe.db.commit()


def test_two_runs_computed_at_the_same_moment_over_overlapping_periods_never_share_an_item(committed):
	from datetime import datetime

	from cpts_snp.services.payment_run import compute_run, release_items

	frappe.get_doc({"doctype": "SNP Indemnity Scheme", "scheme_name": "Test barème 2016", "valid_from": "2016-01-01",
		"rate_per_slot": 10}).insert()
	professional = committed.professional()
	frappe.db.set_value("SNP Professional", professional, "iban", "FR7630006000011234567890189")
	slots = [make_slot(professional, datetime(2016, 5, day, 10)).name for day in range(10, 25)]
	runs = [
		frappe.get_doc({"doctype": "SNP Payment Run", "period_start": start, "period_end": end}).insert().name
		for start, end in (("2016-05-01", "2016-05-20"), ("2016-05-15", "2016-05-31"))
	]
	frappe.db.commit()
	try:
		outcomes = race([lambda run=run: compute_run(frappe.get_doc("SNP Payment Run", run)) for run in runs])
		assert [kind for kind, _ in outcomes] == ["ok", "ok"], outcomes
		claimed = frappe.get_all("SNP Paid Item", filters={"run": ["in", runs]}, fields=["item_name", "run"])
		assert sorted(c.item_name for c in claimed) == sorted(slots)  # every slot once, none twice
		totals = [frappe.db.get_value("SNP Payment Run", run, "total_amount") for run in runs]
		assert sum(totals) == 10 * len(slots)
	finally:
		for run in runs:
			release_items(run)
			frappe.db.delete("SNP Payment Run", run)
		frappe.db.delete("SNP Indemnity Scheme", {"scheme_name": "Test barème 2016"})
		frappe.db.commit()


def test_parallel_http_bookings_of_one_slot_exactly_one_succeeds(server, http_login, committed):
	telesecretaries = [committed.user(["Télésecrétaire"]) for _ in range(6)]
	slot = make_slot(committed.professional(), future_start(hour=10)).name
	frappe.db.commit()
	sessions = [http_login(user) for user in telesecretaries]
	barrier = threading.Barrier(len(sessions))

	def post(session):
		barrier.wait(timeout=30)
		return session.post(
			f"{server}/api/method/cpts_snp.api.booking.book",
			data={**PATIENT, "slot": slot, "reason": "Fièvre"},
			timeout=60,
		)

	with ThreadPoolExecutor(len(sessions)) as pool:
		responses = list(pool.map(post, sessions))

	codes = sorted(r.status_code for r in responses)
	assert codes == [200] + [417] * (len(sessions) - 1), [r.text[:300] for r in responses]
	for refused in (r for r in responses if r.status_code == 417):
		assert "SlotUnavailableError" in refused.json()["exc_type"]
		assert "n'est plus disponible" in refused.json()["_server_messages"]
	assert frappe.db.count("SNP Booking", {"slot": slot}) == 1
