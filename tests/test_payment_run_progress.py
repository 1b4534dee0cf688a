"""The payment run's background computation tells the run's form how far it is and when it ended (issue 15 §7):
« progress » events and a final « doc_update » to the run's own room (the one its open forms join), the same
progress kept for a form that polls, and a failure stored on the run and told the same way."""

import json
from datetime import datetime

import frappe
import pytest
from cpts_snp.indemnities.doctype.snp_payment_run.snp_payment_run import progress
from cpts_snp.services.payment_run import compute_in_background, release_items, start_computation
from cpts_snp.tests.factories import make_slot
from frappe.realtime import get_doc_room
from frappe.utils.background_jobs import get_redis_connection_without_auth


@pytest.fixture
def run_world(committed):
	"""A doctor with an IBAN and two slots in June 2004, a scheme from 2004, a Draft run of that month
	(committed: the job commits), and an accountant."""
	accountant = committed.user(["Comptable CPTS"])
	doctor = committed.professional()
	frappe.db.set_value("SNP Professional", doctor, "iban", "FR7630006000011234567890189")
	for day in (8, 9):
		make_slot(doctor, datetime(2004, 6, day, 10))
	scheme = frappe.get_doc(
		{
			"doctype": "SNP Indemnity Scheme",
			"scheme_name": f"Test barème progression {frappe.generate_hash(length=6)}",
			"valid_from": "2004-01-01",
			"rate_per_slot": 12,
		}
	).insert()
	run = frappe.get_doc(
		{"doctype": "SNP Payment Run", "period_start": "2004-06-01", "period_end": "2004-06-30"}
	).insert()
	frappe.db.commit()
	yield frappe._dict(run=run.name, scheme=scheme.name, accountant=accountant)
	frappe.db.rollback()
	frappe.set_user("Administrator")
	release_items(run.name)
	frappe.db.delete("SNP Indemnity Payment Line", {"parent": ["like", f"{run.name}-%"]})
	frappe.db.delete("SNP Indemnity Payment", {"run": run.name})
	frappe.db.delete("SNP Payment Run", run.name)
	frappe.db.delete("SNP Indemnity Scheme", scheme.name)
	frappe.db.commit()


def listen():
	pubsub = get_redis_connection_without_auth().pubsub()
	pubsub.subscribe("events")
	pubsub.get_message(timeout=1)  # the subscription's confirmation
	return pubsub


def events_of(pubsub, room: str) -> list[dict]:
	events = []
	while message := pubsub.get_message(timeout=0.5):
		if message["type"] != "message":
			continue
		event = json.loads(message["data"])
		if event["namespace"] == frappe.local.site and event["room"] == room:
			events.append(event)
	pubsub.close()
	return events


def start_in_background(run_name: str, user: str) -> str:
	"""« Calculer » with a background threshold of 1 item (set and restored directly, both committed: the
	computation commits, and other tests save SNP Settings at the same time)."""
	threshold = frappe.db.get_single_value("SNP Settings", "background_threshold")
	frappe.db.set_single_value("SNP Settings", "background_threshold", 1)
	try:
		frappe.set_user(user)
		status = start_computation(frappe.get_doc("SNP Payment Run", run_name))
		frappe.db.commit()
	finally:
		frappe.db.set_single_value("SNP Settings", "background_threshold", threshold)
		frappe.db.commit()
	return status


def test_a_large_run_waits_for_its_worker_with_its_progress_readable_by_the_form(run_world):
	assert start_in_background(run_world.run, run_world.accountant) == "Computing"
	state = progress(run_world.run)
	assert state["status"] == "Computing" and state["percent"] == 0
	assert state["description"] == "En attente d'un processus de calcul"


def test_the_background_computation_tells_the_runs_room_each_step_then_its_end(run_world):
	start_in_background(run_world.run, run_world.accountant)
	pubsub = listen()
	compute_in_background(run_world.run, run_world.accountant)
	events = events_of(pubsub, get_doc_room("SNP Payment Run", run_world.run))

	steps = [event["message"] for event in events if event["event"] == "progress"]
	percents = [step["percent"] for step in steps]
	assert percents == sorted(percents) and percents[-1] == 100 and len(percents) >= 5
	# items processed out of the period's total, in the dialog's words
	assert steps[-1]["total"] == 2 and steps[-1]["processed"] == 2
	assert steps[-1]["description"] == "Terminé : 2 éléments sur 2"
	# the last event, sent once the computation is committed, makes the open forms reload
	assert events[-1]["event"] == "doc_update" and events[-1]["message"]["name"] == run_world.run
	frappe.set_user("Administrator")
	state = progress(run_world.run)
	assert state["status"] == "Computed" and state["percent"] == 100
	assert frappe.db.get_value("SNP Payment Run", run_world.run, "total_amount") == 24


def test_a_failed_background_computation_is_stored_on_the_run_and_told_to_its_room(run_world):
	start_in_background(run_world.run, run_world.accountant)
	# the scheme disappears before the worker runs: the computation cannot price the items
	frappe.db.delete("SNP Indemnity Scheme", run_world.scheme)
	frappe.db.commit()
	pubsub = listen()
	compute_in_background(run_world.run, run_world.accountant)
	events = events_of(pubsub, get_doc_room("SNP Payment Run", run_world.run))

	assert events and events[-1]["event"] == "doc_update"
	frappe.set_user("Administrator")
	state = progress(run_world.run)
	assert state["status"] == "Failed"
	assert "barème" in state["error_message"]


def test_only_those_who_read_the_run_read_its_progress(run_world, committed):
	doctor_user, _professional = committed.doctor()
	frappe.set_user(doctor_user)
	with pytest.raises(frappe.PermissionError):
		progress(run_world.run)
