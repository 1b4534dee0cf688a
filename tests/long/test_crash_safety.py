"""Crashes: a process killed (kill -9) in the middle of a payment run or of a booking leaves nothing
half-written, and the retried run pays every item exactly once."""

import os
import signal
import subprocess
import sys
import textwrap
import time
from datetime import datetime
from pathlib import Path

import frappe
from cpts_snp.services.payment_run import compute_run, release_items
from cpts_snp.tests.factories import PATIENT, future_start, make_slot

ROOT = Path(__file__).resolve().parents[2]


def start_python(code: str) -> subprocess.Popen:
	"""A separate Frappe process on the test site running `code`; it prints READY when it reaches the point
	where the test kills it."""
	script = textwrap.dedent(
		f"""
		import frappe, sys, time
		frappe.init(site={frappe.local.site!r}, sites_path={str(ROOT / "sites")!r})
		frappe.connect()
		frappe.set_user("Administrator")
		print("CONNECTION", frappe.db.sql("SELECT CONNECTION_ID()")[0][0], flush=True)
		"""
	) + textwrap.dedent(code)
	return subprocess.Popen([str(ROOT / "env" / "bin" / "python"), "-c", script], cwd=ROOT / "sites",
		stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def wait_for(process: subprocess.Popen, marker: str, timeout: float = 60) -> str:
	deadline, seen = time.monotonic() + timeout, []
	while time.monotonic() < deadline:
		line = process.stdout.readline()
		seen.append(line)
		if marker in line:
			return line
		if process.poll() is not None:
			raise AssertionError(f"the process ended before {marker}: {''.join(seen)}{process.stdout.read()}")
	raise AssertionError(f"no {marker} within {timeout} s")


def kill(process: subprocess.Popen, connection: str, release_locks=None) -> None:
	"""kill -9, then wait until MariaDB has dropped the connection (and rolled back its transaction)."""
	os.kill(process.pid, signal.SIGKILL)
	process.wait(10)
	if release_locks:
		release_locks()  # a statement waiting on our lock ends, then MariaDB finds its client gone
	connection_id = int(connection.split()[-1])
	for _ in range(100):
		if not frappe.db.sql("SELECT 1 FROM information_schema.PROCESSLIST WHERE ID = %s", connection_id):
			return
		time.sleep(0.1)
	raise AssertionError("MariaDB kept the killed connection")


def test_a_payment_run_killed_half_way_is_retried_without_paying_anything_twice(committed):
	frappe.get_doc({"doctype": "SNP Indemnity Scheme", "scheme_name": "Test barème 2014", "valid_from": "2014-01-01",
		"rate_per_slot": 10}).insert()
	doctors = [committed.professional() for _ in range(3)]
	for doctor in doctors:
		frappe.db.set_value("SNP Professional", doctor, "iban", "FR7630006000011234567890189")
		for day in (3, 4, 5):
			make_slot(doctor, datetime(2014, 2, day, 10))
	run = frappe.get_doc({"doctype": "SNP Payment Run", "period_start": "2014-02-01", "period_end": "2014-02-28"}).insert()
	frappe.db.commit()
	try:
		# Hold one doctor's row: the run stops right after claiming its items (when it sets aside the doctors
		# without IBAN, which reads the doctors' rows with a lock).
		frappe.db.sql("SELECT name FROM `tabSNP Professional` WHERE name = %s FOR UPDATE", doctors[0])
		worker = start_python(
			f"""
			from cpts_snp.services.payment_run import compute_run
			run = frappe.get_doc("SNP Payment Run", {run.name!r})
			import cpts_snp.services.payment_run as service
			original = service.frappe.db.sql
			def traced(query, *args, **kwargs):
				if "IFNULL(p.iban" in str(query):
					print("READY", flush=True)
				return original(query, *args, **kwargs)
			service.frappe.db.sql = traced
			compute_run(run)
			frappe.db.commit()
			print("FINISHED", flush=True)
			"""
		)
		connection = wait_for(worker, "CONNECTION")
		wait_for(worker, "READY")
		time.sleep(0.5)  # the worker now waits on our lock, its items claimed but not committed
		kill(worker, connection, release_locks=frappe.db.rollback)
		assert not frappe.db.count("SNP Paid Item", {"run": run.name}), "a killed run left claims behind"
		assert not frappe.db.count("SNP Indemnity Payment", {"run": run.name})

		retried = frappe.get_doc("SNP Payment Run", run.name)
		compute_run(retried)
		frappe.db.commit()
		claimed = frappe.get_all("SNP Paid Item", filters={"run": run.name}, pluck="item_name")
		assert len(claimed) == len(set(claimed)) == 9
		assert retried.total_amount == 90 and retried.payment_count == 3
	finally:
		frappe.db.rollback()
		release_items(run.name)
		frappe.db.delete("SNP Payment Run", run.name)
		frappe.db.delete("SNP Indemnity Scheme", {"scheme_name": "Test barème 2014"})
		frappe.db.commit()


def test_a_booking_killed_between_its_writes_leaves_no_half_booked_slot(committed):
	slot = make_slot(committed.professional(), future_start(days=45, hour=10)).name
	frappe.db.commit()
	worker = start_python(
		f"""
		import cpts_snp.agenda.doctype.snp_booking.snp_booking as controller
		def crash_window(booking):
			print("READY", flush=True)  # the booking row is written, the slot not yet
			time.sleep(60)
		controller.sync_slot_status = crash_window
		from cpts_snp.services.booking import book_slot
		book_slot({slot!r}, {PATIENT!r})
		frappe.db.commit()
		"""
	)
	connection = wait_for(worker, "CONNECTION")
	wait_for(worker, "READY")
	kill(worker, connection)
	frappe.db.rollback()
	assert frappe.db.get_value("SNP Slot", slot, "status") == "Available"
	assert not frappe.db.exists("SNP Booking", {"slot": slot})
	# and the slot can be booked normally afterwards
	from cpts_snp.services.booking import book_slot

	assert book_slot(slot, PATIENT).status == "Booked"
