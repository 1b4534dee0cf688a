"""HTTP benchmarks against gunicorn on loopback: free-slot search vs Frappe's ping floor and the generic
/api/resource listing, and booking throughput with 50 concurrent clients.

Data set (generated once, kept on the bench site): 200 doctors, 100,000 slots, 30 sectors, and the bookings of the
slots already consulted (a history for every doctor).

    make bench        (or: env/bin/python tests/bench/bench_http.py --site bench.localhost)
"""

import argparse
import asyncio
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import time
import urllib.parse
from datetime import date, datetime, timedelta
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[2]
DOCTORS, SLOTS, SECTORS = 200, 100_000, 30  # the data set; `--reduced` (the suite's smoke run) takes a tenth
REDUCED = {"doctors": 20, "slots": 2_000, "sectors": 3, "bookings": 100, "clients": 10, "requests": 30,
	"wrk_seconds": 1}


def connect(site):
	os.chdir(ROOT / "sites")
	import frappe

	frappe.init(site=site, sites_path=str(ROOT / "sites"))
	frappe.connect()
	return frappe


def ensure_data(frappe) -> None:
	if frappe.db.count("SNP Slot", {"name": ["like", "HB-%"]}) >= SLOTS:
		ensure_history(frappe)
		return
	rng = random.Random(1)
	now = datetime.now().replace(second=0, microsecond=0)
	meta = {"owner": "Administrator", "modified_by": "Administrator", "creation": now, "modified": now, "docstatus": 0}
	sectors = [f"Bench secteur {i:02d}" for i in range(SECTORS)]
	frappe.db.bulk_insert("SNP Sector", ["name", "sector_name", *meta], [(s, s, *meta.values()) for s in sectors],
		ignore_duplicates=True)
	pros = [(f"HB-PRO-{d:03d}", f"Bench{d}", "Médecin", f"Médecin Bench{d}", f"7{d:010d}", "Active", 1,
		sectors[d % SECTORS], *meta.values()) for d in range(DOCTORS)]
	frappe.db.bulk_insert("SNP Professional", ["name", "first_name", "last_name", "full_name", "rpps", "status", "active",
		"sector", *meta], pros, ignore_duplicates=True)
	rows, per_doctor = [], SLOTS // DOCTORS
	for d in range(DOCTORS):
		start = now - timedelta(hours=26 * per_doctor) + timedelta(days=3)  # the last ones in the coming 3 days
		for k in range(per_doctor):
			# one slot every ~26 hours per doctor, the last ones in the coming days
			when = start + timedelta(hours=26 * k + (d % 20))
			status = "Available" if when > now else rng.choice(["Honoured", "Honoured", "No-show", "Available", "Cancelled"])
			rows.append((f"HB-{d:03d}-{k:04d}", f"HB-PRO-{d:03d}", f"Médecin Bench{d}", sectors[d % SECTORS], when, 20,
				when + timedelta(minutes=20), status, "Office", *meta.values()))
	frappe.db.bulk_insert("SNP Slot", ["name", "professional", "professional_name", "sector", "starts_at", "duration",
		"ends_at", "status", "modality", *meta], rows, chunk_size=10_000, ignore_duplicates=True)
	frappe.db.commit()
	ensure_history(frappe)


BENCH_FINESS = "449999999"
PLACES = 10


def ensure_places(frappe) -> None:
	"""Places of practice for the bench doctors (the SAS guide publishes a slot with its place's address) and the
	CPTS's FINESS when the site has none (removed again by `--cleanup` if the bench set it)."""
	now = datetime.now().replace(second=0, microsecond=0)
	meta = {"owner": "Administrator", "modified_by": "Administrator", "creation": now, "modified": now, "docstatus": 0}
	frappe.db.bulk_insert("SNP Place", ["name", "place_name", "address_line", "postal_code", "city", "active", *meta],
		[(f"HB-LIEU-{i:02d}", f"Cabinet Bench {i}", f"{i + 1} rue du Banc", "44000", "Nantes", 1, *meta.values())
			for i in range(PLACES)], ignore_duplicates=True)
	frappe.db.sql(f"""UPDATE `tabSNP Professional` SET `place` = CONCAT('HB-LIEU-', LPAD(CAST(SUBSTRING(`name`, 8)
		AS UNSIGNED) % {PLACES}, 2, '0')) WHERE `name` LIKE 'HB-PRO-%%' AND `place` IS NULL""")
	if not frappe.db.get_single_value("SNP Settings", "cpts_finess"):
		frappe.db.set_single_value("SNP Settings", "cpts_finess", BENCH_FINESS)
	frappe.db.commit()


def ensure_history(frappe) -> None:
	"""The bookings behind the slots already consulted (honoured or no-show): every doctor has a history, as in
	a CPTS that has been running for a while."""
	if frappe.db.count("SNP Booking", {"name": ["like", "HB-RDV-%"]}):
		return
	now = datetime.now().replace(second=0, microsecond=0)
	slots = frappe.db.sql("""SELECT name, professional, professional_name, sector, starts_at, status FROM `tabSNP Slot`
		WHERE name LIKE 'HB-%%' AND status IN ('Honoured', 'No-show')""", as_dict=True)
	rng = random.Random(2)
	rows = [(f"HB-RDV-{slot.name[3:]}", "Administrator", now, now, "Administrator", 0, slot.name, slot.professional,
		slot.professional_name, slot.starts_at, slot.status, "Telesecretariat", "Administrator", "Patient", "Bench",
		"1980-01-01", slot.starts_at - timedelta(hours=20), slot.sector, 1, rng.random() < 0.7, slot.name)
		for slot in slots]
	frappe.db.bulk_insert("SNP Booking", ["name", "owner", "creation", "modified", "modified_by", "docstatus", "slot",
		"professional", "professional_name", "slot_start", "status", "channel", "booked_by", "patient_last_name",
		"patient_first_name", "patient_date_of_birth", "requested_at", "sector", "is_snp", "supplement_eligible",
		"active_slot"], rows, chunk_size=10_000, ignore_duplicates=True)
	frappe.db.commit()


BENCH_USER = "bench-telesecretariat@cpts-bench.fr"


def bench_user(frappe, sessions: int = 50) -> tuple[str, str, str]:
	"""The bench's télésecrétaire: a fresh API key and secret, and a fresh password for `sessions` desk sessions."""
	if not frappe.db.exists("User", BENCH_USER):
		user = frappe.get_doc({"doctype": "User", "email": BENCH_USER, "first_name": "Bench", "send_welcome_email": 0})
		user.insert()
		user.add_roles("Télésecrétaire")
	user = frappe.get_doc("User", BENCH_USER)
	key, secret, password = (frappe.generate_hash(length=15) for _ in range(3))
	user.api_key, user.api_secret, user.new_password = key, secret, password
	user.simultaneous_sessions = sessions
	user.flags.ignore_password_policy = True
	user.save()
	frappe.db.commit()
	return key, secret, password


def desk_sessions(base: str, site: str, password: str, count: int) -> list[dict]:
	"""`count` logged-in sessions of the bench télésecrétaire: the headers of each (its `sid` cookie), as a browser on
	the desk sends them."""
	sessions = []
	for _ in range(count):
		response = requests.post(f"{base}/api/method/login", headers={"Host": site},
			data={"usr": BENCH_USER, "pwd": password})
		response.raise_for_status()
		sessions.append({"Host": site, "Cookie": f"sid={response.cookies['sid']}"})
	return sessions


def bench_partner_token(frappe) -> str:
	"""`key:secret` of the SAS platform's user (a partner, as the FHIR clients are; no rate limit)."""
	email = "bench-sas@cpts-bench.fr"
	if not frappe.db.exists("User", email):
		user = frappe.get_doc({"doctype": "User", "email": email, "first_name": "Bench SAS", "send_welcome_email": 0}).insert()
		user.add_roles("Partenaire SNP")
	if not frappe.db.exists("SNP Partner", "Bench SAS"):
		frappe.get_doc({"doctype": "SNP Partner", "partner_name": "Bench SAS", "partner_type": "SAS / SAMU",
			"access_level": "Book", "finess": "440000289", "rate_limit_per_minute": 0,
			"users": [{"user": email}]}).insert()
	user = frappe.get_doc("User", email)
	user.api_key, user.api_secret = frappe.generate_hash(length=15), frappe.generate_hash(length=15)
	secret = user.api_secret
	user.save()
	frappe.db.commit()
	return f"{user.api_key}:{secret}"


def fhir_slot_search_url(base: str, now: datetime) -> str:
	"""The SAS platform's search as the guide writes it (INT_R04): free slots of 25 practitioners (by RPPS) over
	the next 48 hours, with the schedules, practitioners and roles, the CPTS's service and organisation included."""
	from zoneinfo import ZoneInfo

	from cpts_snp.exports.fhir import PRACTITIONER_PARAM, RPPS_SYSTEM

	zone = ZoneInfo("Europe/Paris")
	start = now.astimezone(zone).isoformat(timespec="milliseconds")
	end = (now + timedelta(hours=48)).astimezone(zone).isoformat(timespec="milliseconds")
	practitioners = ",".join(f"{RPPS_SYSTEM}|87{d:010d}" for d in range(0, DOCTORS, max(1, DOCTORS // 25)))
	params = [("_include", "Slot:schedule"), ("_include:iterate", "Schedule:actor"),
		("_include", "Slot:service-type-reference"), ("_include:iterate", "HealthcareService:organization"),
		("start", f"ge{start}"), ("start", f"le{end}"), (PRACTITIONER_PARAM, practitioners), ("status", "free")]
	return f"{base}/fhir/Slot?" + urllib.parse.urlencode(params)


def remove_data(frappe) -> None:
	"""Everything the benchmark wrote (for a run on a site that is not the bench's own: `--cleanup`)."""
	for doctype, field, pattern in (("SNP Booking", "slot", "HB%"), ("SNP Slot", "name", "HB%"),
			("SNP Professional", "name", "HB-PRO-%"), ("SNP Sector", "name", "Bench secteur %"),
			("SNP Place", "name", "HB-LIEU-%"),
			("SNP Partner Access Log", "user", "bench-%@cpts-bench.fr")):
		frappe.db.delete(doctype, {field: ["like", pattern]})
	if frappe.db.get_single_value("SNP Settings", "cpts_finess") == BENCH_FINESS:
		frappe.db.set_single_value("SNP Settings", "cpts_finess", None)
	frappe.db.commit()
	if frappe.db.exists("SNP Partner", "Bench SAS"):
		frappe.delete_doc("SNP Partner", "Bench SAS", force=True, ignore_permissions=True)
	for user in (BENCH_USER, "bench-sas@cpts-bench.fr"):
		if frappe.db.exists("User", user):
			frappe.delete_doc("User", user, force=True, ignore_permissions=True)
	frappe.db.commit()


def start_gunicorn(site: str, port: int) -> subprocess.Popen:
	log = open(ROOT / "logs" / "bench-gunicorn.log", "w")
	process = subprocess.Popen([str(ROOT / "env" / "bin" / "gunicorn"), "-b", f"127.0.0.1:{port}", "-w", "4", "-t", "120",
		"--preload", "frappe.app:application"], cwd=ROOT / "sites", stdout=log, stderr=subprocess.STDOUT)
	for _ in range(120):
		try:
			if requests.get(f"http://127.0.0.1:{port}/api/method/ping", headers={"Host": site}, timeout=2).ok:
				return process
		except requests.ConnectionError:
			time.sleep(0.5)
	process.kill()
	raise SystemExit("gunicorn did not start (logs/bench-gunicorn.log)")


def latency(url: str, headers: dict, count: int = 300) -> dict:
	session = requests.Session()
	session.headers.update(headers)
	for _ in range(20):  # warm-up
		session.get(url)
	timings = []
	for _ in range(count):
		started = time.perf_counter()
		response = session.get(url)
		timings.append((time.perf_counter() - started) * 1000)
		assert response.ok, response.text[:300]
	timings.sort()
	return {"p50_ms": round(statistics.median(timings), 1), "p95_ms": round(timings[int(0.95 * len(timings)) - 1], 1)}


def throughput(url: str, headers: dict) -> float:
	if not shutil.which("wrk"):
		return float("nan")
	args = ["wrk", "-t2", "-c16", f"-d{WRK_SECONDS}s", "--latency"]
	for name, value in headers.items():
		args += ["-H", f"{name}: {value}"]
	out = subprocess.run(args + [url], capture_output=True, text=True).stdout
	line = next(line for line in out.splitlines() if line.startswith("Requests/sec"))
	return float(line.split()[1])


async def post_all(base: str, path: str, client_headers: list[dict], bodies: list[str]) -> list[int]:
	"""POST every body from one concurrent connection per entry of `client_headers` (each client its own
	headers); the HTTP status of each, in order. A plain asyncio client (one connection per request, as gunicorn's
	sync workers close them): it takes a few percent of a core, where 50 threads of `requests` took 15 % of the
	two cores the server runs on."""
	host, port = urllib.parse.urlsplit(base).hostname, urllib.parse.urlsplit(base).port
	codes = [0] * len(bodies)
	queue = asyncio.Queue()
	for item in enumerate(bodies):
		queue.put_nowait(item)

	async def client(headers: dict):
		head = "".join(f"{name}: {value}\r\n" for name, value in headers.items())
		while not queue.empty():
			index, body = queue.get_nowait()
			reader, writer = await asyncio.open_connection(host, port)
			payload = body.encode()
			writer.write((f"POST {path} HTTP/1.1\r\n{head}Content-Type: application/x-www-form-urlencoded\r\n"
				f"Content-Length: {len(payload)}\r\nConnection: close\r\n\r\n").encode() + payload)
			response = await reader.read()
			codes[index] = int(response.split(b" ", 2)[1])
			writer.close()

	await asyncio.gather(*(client(headers) for headers in client_headers))
	return codes


def booking_throughput(frappe, base: str, client_headers: list[dict], bookings: int, warmup: int) -> dict:
	"""Bookings from one concurrent client per entry of `client_headers`: every one of `bookings` new free slots
	booked once, and a quarter as many attempts on a slot already taken. `warmup` other slots are booked first, not
	timed (as the latency figures come after warm-up requests: each worker loads its metadata once)."""
	# the slots of an earlier run go first (same times, same doctors)
	frappe.db.sql("DELETE FROM `tabSNP Booking` WHERE slot LIKE 'HBB-%%'")
	frappe.db.sql("DELETE FROM `tabSNP Slot` WHERE name LIKE 'HBB-%%'")
	frappe.db.commit()
	now = datetime.now().replace(second=0, microsecond=0)
	meta = {"owner": "Administrator", "modified_by": "Administrator", "creation": now, "modified": now, "docstatus": 0}
	tag = now.strftime("%H%M%S")
	slots = [(f"HBB-{tag}-{i:05d}", f"HB-PRO-{i % DOCTORS:03d}", "Médecin Bench", "Bench secteur 00",
		now + timedelta(days=900 + i // DOCTORS, minutes=0), 20, now + timedelta(days=900 + i // DOCTORS, minutes=20),
		"Available", "Office", *meta.values()) for i in range(bookings + warmup)]
	frappe.db.bulk_insert("SNP Slot", ["name", "professional", "professional_name", "sector", "starts_at", "duration",
		"ends_at", "status", "modality", *meta], slots)
	frappe.db.commit()
	names = [s[0] for s in slots[:bookings]]
	attempts = names + random.Random(3).sample(names, bookings // 4)  # a quarter try a slot already taken

	def body(slot: str) -> str:
		return urllib.parse.urlencode({"slot": slot, "patient_last_name": "Bench", "patient_first_name": "Patient",
			"patient_date_of_birth": "1980-01-01"})

	path = "/api/method/cpts_snp.api.booking.book"
	warm = asyncio.run(post_all(base, path, client_headers, [body(s[0]) for s in slots[bookings:]]))
	assert set(warm) <= {200}, f"warm-up bookings refused: {set(warm)}"

	def deadlocks() -> int:
		return int(frappe.db.sql("SHOW GLOBAL STATUS LIKE 'Innodb_deadlocks'")[0][1])

	deadlocks_before = deadlocks()
	started = time.perf_counter()
	codes = asyncio.run(post_all(base, path, client_headers, [body(slot) for slot in attempts]))
	elapsed = time.perf_counter() - started
	frappe.db.rollback()
	booked = frappe.db.sql("SELECT slot, COUNT(*) FROM `tabSNP Booking` WHERE slot LIKE %s GROUP BY slot HAVING COUNT(*) > 1",
		f"HBB-{tag}-%")
	return {"attempts": len(attempts), "ok": codes.count(200), "refused": codes.count(417), "server_errors": sum(c >= 500 for c in codes),
		"seconds": round(elapsed, 1), "bookings_per_s": round(codes.count(200) / elapsed, 1),
		"attempts_per_s": round(len(attempts) / elapsed, 1), "double_bookings": len(booked),
		"deadlocks": deadlocks() - deadlocks_before}


def main():
	global DOCTORS, SLOTS, SECTORS, WRK_SECONDS
	parser = argparse.ArgumentParser()
	parser.add_argument("--site", default="bench.localhost")
	parser.add_argument("--port", type=int, default=8765)
	parser.add_argument("--clients", type=int, default=50)
	parser.add_argument("--bookings", type=int, default=1000)
	parser.add_argument("--requests", type=int, default=300, help="sequential requests per latency figure")
	parser.add_argument("--reduced", action="store_true", help="a small data set and short runs (the suite's smoke run)")
	parser.add_argument("--cleanup", action="store_true", help="remove the benchmark's data and users afterwards")
	args = parser.parse_args()
	WRK_SECONDS = 8
	if args.reduced:
		DOCTORS, SLOTS, SECTORS = REDUCED["doctors"], REDUCED["slots"], REDUCED["sectors"]
		args.bookings, args.clients, args.requests = REDUCED["bookings"], REDUCED["clients"], REDUCED["requests"]
		WRK_SECONDS = REDUCED["wrk_seconds"]
	frappe = connect(args.site)
	ensure_data(frappe)
	ensure_places(frappe)
	key, secret, password = bench_user(frappe, sessions=args.clients)
	token = {"Host": args.site, "Authorization": f"token {key}:{secret}"}
	partner = {"Host": args.site, "Authorization": f"token {bench_partner_token(frappe)}",
		"Accept": "application/fhir+json"}
	server = start_gunicorn(args.site, args.port)
	base = f"http://127.0.0.1:{args.port}"
	now = datetime.now()
	filters = json.dumps([["status", "=", "Available"], ["sector", "=", "Bench secteur 01"],
		["starts_at", ">", str(now)], ["starts_at", "<=", str(now + timedelta(hours=48))]])
	failures = []
	try:
		# the télésecrétaires work in the desk: a session cookie each (API tokens are the partners' and scripts' way)
		desk = desk_sessions(base, args.site, password, args.clients)
		runs = [
			("ping, desk session (floor)", f"{base}/api/method/ping", desk[0]),
			("ping, API token (floor)", f"{base}/api/method/ping", token),
			("free-slot search (sector, 48 h)",
				f"{base}/api/method/cpts_snp.api.telesecretariat.search_slots?query=Bench%20secteur%2001", desk[0]),
			("generic /api/resource/SNP Slot", f"{base}/api/resource/SNP%20Slot?filters={urllib.parse.quote(filters)}"
				"&fields=" + urllib.parse.quote('["name","starts_at","professional_name","sector"]') + "&limit_page_length=40",
				desk[0]),
			("FHIR /fhir/Slot (25 practitioners, 48 h)", fhir_slot_search_url(base, now), partner),
		]
		fhir_answer = requests.get(runs[-1][1], headers=partner, timeout=60).json()
		kinds = [entry["resource"]["resourceType"] for entry in fhir_answer.get("entry", [])]
		print(f"FHIR answer: {kinds.count('Slot')} slots, {len(kinds)} resources, {len(json.dumps(fhir_answer)) // 1024} kB")
		if not kinds.count("Slot"):
			failures.append("FHIR search found no slot")
		print(f"{'endpoint':42} {'p50 ms':>8} {'p95 ms':>8} {'req/s':>8}")
		for label, url, headers in runs:
			result = latency(url, headers, args.requests)
			print(f"{label:42} {result['p50_ms']:8} {result['p95_ms']:8} {throughput(url, headers):8.0f}", flush=True)
		for label, clients in ((f"{args.clients} desk sessions", desk), (f"{args.clients} clients with an API token",
				[token] * args.clients)):
			result = booking_throughput(frappe, base, clients, args.bookings, warmup=args.bookings // 5)
			print(f"booking, {label}:", result, flush=True)
			if result["double_bookings"] or result["server_errors"] or result["ok"] != args.bookings:
				failures.append(label)
	finally:
		server.terminate()
		server.wait(10)
		if args.cleanup:
			remove_data(frappe)
		frappe.destroy()
	if failures:
		print("bookings not as expected (double booking, server error or a free slot refused):", failures)
	return 1 if failures else 0


if __name__ == "__main__":
	sys.exit(main())
