"""The benchmarks of `make bench` (tests/bench/), run reduced: the scripts keep working and what they check holds
(no double booking nor server error under their concurrent clients; a payment run's SQL statement count that
does not grow with the number of doctors). No speed is asserted here: the figures are in docs/benchmarks.md.

`make test` runs them on a small data set on the test site (removed afterwards); `make bench` runs them at size."""

import ast
import os
import socket
import subprocess
import sys
from pathlib import Path

import frappe

ROOT = Path(__file__).resolve().parents[2]
SITE = os.environ.get("CPTS_TEST_SITE", "test.localhost")


def run(script: str, *args: str) -> subprocess.CompletedProcess:
	return subprocess.run(
		[sys.executable, str(ROOT / "tests" / "bench" / script), "--site", SITE, *args],
		capture_output=True,
		text=True,
		timeout=240,
		cwd=ROOT,
	)


def test_the_payment_run_benchmark_finds_a_statement_count_independent_of_the_number_of_doctors():
	done = run("bench_payment_run.py", "--doctors", "3,12")
	assert done.returncode == 0, done.stdout + done.stderr
	results = [ast.literal_eval(line) for line in done.stdout.splitlines() if line.startswith("{")]
	assert [r["doctors"] for r in results] == [3, 12]
	assert all(r["paid_items"] == r["items"] and r["payments"] == r["doctors"] for r in results), results
	assert "independent of the number of doctors: True" in done.stdout


def test_the_http_benchmark_measures_every_endpoint_and_books_each_slot_once():
	with socket.socket() as s:
		s.bind(("127.0.0.1", 0))
		port = s.getsockname()[1]
	done = run("bench_http.py", "--reduced", "--cleanup", "--port", str(port))
	assert done.returncode == 0, done.stdout + done.stderr
	figures = {line[:42].strip(): line[42:].split() for line in done.stdout.splitlines()}
	for endpoint in ("ping, desk session (floor)", "ping, API token (floor)", "free-slot search (sector, 48 h)",
		"generic /api/resource/SNP Slot", "FHIR /fhir/Slot (25 practitioners, 48 h)"):
		assert len(figures.get(endpoint, [])) == 3, done.stdout
	# the FHIR search the benchmark times is the guide's request, and it finds slots with their places
	(answer,) = [line for line in done.stdout.splitlines() if line.startswith("FHIR answer:")]
	assert int(answer.split()[2]) > 0, answer
	bookings = [ast.literal_eval(line.split(": ", 1)[1]) for line in done.stdout.splitlines() if line.startswith("booking")]
	assert len(bookings) == 2, done.stdout
	for result in bookings:
		assert (result["ok"], result["refused"], result["server_errors"], result["double_bookings"]) == (100, 25, 0, 0)
	# its data and users are gone from the test site
	frappe.db.rollback()
	assert not frappe.db.exists("SNP Professional", "HB-PRO-000")
	assert not frappe.db.exists("User", "bench-telesecretariat@cpts-bench.fr")
	assert not frappe.db.count("SNP Slot", {"name": ["like", "HB%"]})
