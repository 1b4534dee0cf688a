"""Benchmark: computing an indemnity payment run over a year of activity.

500 doctors × 12 months (≈ 60,000 payable items: 6 slots a month each, half of them honoured, one no-show)
and the same for 50 doctors, to show that the number of SQL statements does not depend on the size. The
data is inserted in one transaction on the test site and rolled back at the end: nothing stays.

    make bench            (or: env/bin/python tests/bench/bench_payment_run.py [--site test.localhost])
"""

import argparse
import os
import random
import sys
import time
from datetime import date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def questions(frappe) -> int:
	return int(frappe.db.sql("SHOW SESSION STATUS LIKE 'Questions'")[0][1])


def make_activity(frappe, doctors: int, year: int, tag: str) -> int:
	"""Bulk-insert `doctors` doctors with a year of slots and bookings; return the number of payable items."""
	rng = random.Random(42)
	now = datetime.now()
	common = {"owner": "Administrator", "modified_by": "Administrator", "creation": now, "modified": now, "docstatus": 0}
	professionals, slots, bookings = [], [], []
	for d in range(doctors):
		pro = f"BENCH-{tag}-{d:04d}"
		professionals.append((pro, f"Médecin {d}", "Bench", f"Médecin {d} Bench", f"8{int(tag):03d}{d:07d}",
			"Active", 1, "FR7630006000011234567890189", "AGRIFRPP", *common.values()))
		for month in range(1, 13):
			for k in range(6):
				day = 1 + k * 4 + rng.randrange(0, 3)
				start = datetime(year, month, min(day, 28), 8 + (d % 10), 0)
				name = f"BS-{tag}-{d:04d}-{month:02d}-{k}"
				status = "Honoured" if k < 3 else ("No-show" if k == 3 else "Available")
				# offered a week ahead (a slot created after its start earns nothing)
				offered = {**common, "creation": start - timedelta(days=7)}
				slots.append((name, pro, f"Médecin {d} Bench", start, 20, start + timedelta(minutes=20), status, *offered.values()))
				if status != "Available":
					bookings.append((f"BB-{tag}-{d:04d}-{month:02d}-{k}", name, pro, f"Médecin {d} Bench", start, status,
						"Patient", "Bench", date(1980, 1, 1), "Telesecretariat", *common.values()))
	meta = list(common)
	frappe.db.bulk_insert("SNP Professional", ["name", "first_name", "last_name", "full_name", "rpps", "status", "active",
		"iban", "bic", *meta], professionals, chunk_size=5000)
	frappe.db.bulk_insert("SNP Slot", ["name", "professional", "professional_name", "starts_at", "duration", "ends_at",
		"status", *meta], slots, chunk_size=5000)
	frappe.db.bulk_insert("SNP Booking", ["name", "slot", "professional", "professional_name", "slot_start", "status",
		"patient_last_name", "patient_first_name", "patient_date_of_birth", "channel", *meta], bookings, chunk_size=5000)
	return len(slots) + len(bookings)


def measure(frappe, doctors: int, year: int) -> dict:
	from cpts_snp.services.payment_run import compute_run

	items = make_activity(frappe, doctors, year, tag=f"{doctors}")
	if not frappe.db.exists("SNP Indemnity Scheme", {"valid_from": ["<=", f"{year}-01-01"]}):
		frappe.get_doc({"doctype": "SNP Indemnity Scheme", "scheme_name": f"Bench {year}", "valid_from": f"{year}-01-01",
			"rate_per_slot": 12, "rate_per_consultation": 20, "rate_per_no_show": 6, "monthly_cap": 150}).insert()
	run = frappe.get_doc({"doctype": "SNP Payment Run", "period_start": f"{year}-01-01", "period_end": f"{year}-12-31"}).insert()
	compute_run(run)  # a first time: warms Frappe's metadata caches (their queries are not the run's)
	before_queries, started = questions(frappe), time.perf_counter()
	compute_run(run)  # measured: a recomputation does all the work again (releases, claims, payments, lines)
	elapsed = time.perf_counter() - started
	queries = questions(frappe) - before_queries - 1  # the measuring statement itself
	return {"doctors": doctors, "items": items, "paid_items": run.item_count, "payments": run.payment_count,
		"total": run.total_amount, "seconds": round(elapsed, 2), "queries": queries}


def main():
	parser = argparse.ArgumentParser()
	parser.add_argument("--site", default=os.environ.get("CPTS_TEST_SITE", "test.localhost"))
	parser.add_argument("--doctors", default="50,500", help="the two sizes compared (the suite's smoke run: 3,12)")
	args = parser.parse_args()
	small, large = (int(n) for n in args.doctors.split(","))
	os.chdir(ROOT / "sites")
	sys.path.insert(0, str(ROOT / "apps" / "frappe"))
	import frappe

	frappe.init(site=args.site, sites_path=str(ROOT / "sites"))
	frappe.connect()
	frappe.flags.in_test = True
	results = []
	try:
		for doctors, year in ((small, 2010), (large, 2011)):
			results.append(measure(frappe, doctors, year))
			print(results[-1], flush=True)
	finally:
		frappe.db.rollback()
		frappe.destroy()
	same = results[0]["queries"] == results[1]["queries"]
	print(f"query count independent of the number of doctors: {same}")
	return 0 if same else 1


if __name__ == "__main__":
	sys.exit(main())
