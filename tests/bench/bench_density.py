"""Hosting density: how many CPTS sites, each with the demo year, one 2-core machine serves under a mixed load.

One CPTS site with the demo data (`density-01.localhost`: created once by scripts/add_site.sh's steps, the time
the demo year takes is printed), cloned into `density-02.localhost` … by SQL copy (a database and a database
account of their own each, as `bench new-site` makes them; Frappe's own tables and the app's sequences). One
gunicorn (`frappe.app:application --preload`, 2 × CPUs + 1 sync workers, as `make production`) serves them all
by their host names (DNS multitenancy: the site from the Host header). For each N asked:

- Frappe's ping floor: 200 sequential `ping`s with a desk session, idle, p95;
- a mixed load for `--seconds`, open loop (Poisson arrivals), spread evenly over the N sites, each site asking per
  minute `--per-site-minute` requests in these shares: télésecrétaires' free-slot searches (desk session,
  `cpts_snp.api.telesecretariat.search_slots` on a demo sector) 30 %, their bookings (`cpts_snp.api.booking.book`
  on the bench's own free slots) 10 %, the SAS platform's FHIR searches (`/fhir/Slot`, 25 practitioners, 48 h,
  partner API token) 40 %, doctors' portal pages (`/snp`, `/snp/rendez-vous`, `/snp/creneaux`) 20 %;
- the p95 of the load's free-slot searches against 3 × the ping floor, the errors (an answer other than 200, and
  417 for a slot already taken; a connection error), and the memory: proportional set size of gunicorn's
  processes, resident size of MariaDB and the Redis cache, and Redis's own count.

    env/bin/python tests/bench/bench_density.py --sites 5,10,20,30
    env/bin/python tests/bench/bench_density.py --drop            # remove the density-* sites

Prints one line per N (and a JSON line `RESULT {...}`); the largest N that keeps the search p95 within 3 × the
floor with 0 errors is printed last.
"""

import argparse
import asyncio
import json
import os
import random
import secrets
import shutil
import statistics
import subprocess
import sys
import time
import urllib.parse
from datetime import datetime, timedelta
from hashlib import sha1
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[2]
SITES = ROOT / "sites"
sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_http import fhir_slot_search_url

PREFIX = "density-"
DOMAIN = ".localhost"
DEMO_PASSWORD = "demo-cpts-2026"
DEMO_DOCTOR, DEMO_DESK, DEMO_PARTNER = (
	"dr.martin@cpts-demo.fr",
	"telesecretariat@cpts-demo.fr",
	"sas44@cpts-demo.fr",
)
MIX = {"search": 0.30, "book": 0.10, "fhir": 0.40, "portal": 0.20}
PORTAL_PAGES = ("/snp", "/snp/rendez-vous", "/snp/creneaux")
BOOKABLE = 400  # bench slots per site, far in the future (a booking takes one)


def site_name(index: int) -> str:
	return f"{PREFIX}{index:02d}{DOMAIN}"


def shell(steps: str, **env) -> str:
	"""Runs steps after sourcing scripts/add_site.sh (lib.sh and production.sh with it); returns stdout."""
	done = subprocess.run(
		["bash", "-c", f"source scripts/add_site.sh && {steps}"],
		cwd=ROOT,
		env={**os.environ, **env},
		capture_output=True,
		text=True,
	)
	if done.returncode:
		raise SystemExit(f"{steps} failed:\n{done.stdout}\n{done.stderr}")
	return done.stdout


def db_admin():
	import pymysql

	state = ROOT / ".state"
	return pymysql.connect(
		host="127.0.0.1",
		port=3306,
		user=(state / "db_admin_user").read_text().strip(),
		password=(state / "db_admin_password").read_text().strip(),
		autocommit=True,
	)


def db_name(site: str) -> str:
	"""As scripts/lib.sh's site_db_name: the site and this checkout, so two checkouts never share a database."""
	return "_" + sha1(f"{ROOT}:{site}".encode()).hexdigest()[:15]


def ensure_template() -> str:
	"""The first site, with the demo data; the seconds the demo loaders took (measured once, kept in its config)."""
	site = site_name(1)
	config = SITES / site / "site_config.json"
	if config.exists() and "bench_density_demo_seconds" in json.loads(config.read_text()):
		return site
	shell(f"hold_setup_lock && ensure_bench && ensure_site {site} admin && release_setup_lock")
	started = time.monotonic()
	shell(f"load_demo_data {site}")
	seconds = round(time.monotonic() - started)
	conf = json.loads(config.read_text())
	# the scheduler of a `make run` or `make production` on this bench leaves the benchmark's sites alone
	conf.update({"bench_density_demo_seconds": seconds, "pause_scheduler": 1})
	config.write_text(json.dumps(conf, indent=1, sort_keys=True))
	return site


def clone(source: str, target: str) -> float:
	"""target: a copy of source's database (every table, each sequence at its value) under a database account of
	its own, with source's encryption key (its encrypted fields stay readable). Seconds taken."""
	started = time.monotonic()
	conf = json.loads((SITES / source / "site_config.json").read_text())
	src, dst, password = conf["db_name"], db_name(target), secrets.token_urlsafe(16)
	connection = db_admin()
	with connection.cursor() as cursor:
		cursor.execute(f"DROP DATABASE IF EXISTS `{dst}`")
		cursor.execute(f"CREATE DATABASE `{dst}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci")
		cursor.execute(f"CREATE USER IF NOT EXISTS '{dst}'@'%' IDENTIFIED BY '{password}'")
		cursor.execute(f"ALTER USER '{dst}'@'%' IDENTIFIED BY '{password}'")
		cursor.execute(f"GRANT ALL PRIVILEGES ON `{dst}`.* TO '{dst}'@'%'")
		cursor.execute(f"SHOW FULL TABLES FROM `{src}`")
		tables = cursor.fetchall()
		cursor.execute("SET SESSION foreign_key_checks = 0, unique_checks = 0")
		for table, kind in tables:
			if kind == "SEQUENCE":
				cursor.execute(f"SHOW CREATE SEQUENCE `{src}`.`{table}`")
				create = cursor.fetchone()[1].replace(
					f"CREATE SEQUENCE `{table}`", f"CREATE SEQUENCE `{dst}`.`{table}`", 1
				)
				cursor.execute(create)
				cursor.execute(f"SELECT next_not_cached_value FROM `{src}`.`{table}`")
				cursor.execute(f"SELECT SETVAL(`{dst}`.`{table}`, {int(cursor.fetchone()[0])}, 0)")
			else:
				cursor.execute(f"CREATE TABLE `{dst}`.`{table}` LIKE `{src}`.`{table}`")
				cursor.execute(f"INSERT INTO `{dst}`.`{table}` SELECT * FROM `{src}`.`{table}`")
	connection.close()
	folder = SITES / target
	for sub in ("public/files", "private/files", "private/backups", "locks", "logs"):
		(folder / sub).mkdir(parents=True, exist_ok=True)
	own = {k: v for k, v in conf.items() if not k.startswith("bench_density")}
	own.update({"db_name": dst, "db_password": password, "host_name": f"http://{target}"})
	(folder / "site_config.json").write_text(json.dumps(own, indent=1, sort_keys=True))
	return time.monotonic() - started


def database_mib(site: str) -> int:
	conf = json.loads((SITES / site / "site_config.json").read_text())
	done = subprocess.run(["du", "-sm", f"/var/lib/mysql/{conf['db_name']}"], capture_output=True, text=True)
	return int(done.stdout.split()[0]) if done.returncode == 0 else -1


def drop_sites() -> None:
	connection = db_admin()
	for folder in sorted(SITES.glob(f"{PREFIX}*{DOMAIN}")):
		name = db_name(folder.name)
		with connection.cursor() as cursor:
			cursor.execute(f"DROP DATABASE IF EXISTS `{name}`")
			cursor.execute(f"DROP USER IF EXISTS '{name}'@'%'")
		shutil.rmtree(folder)
		print("dropped", folder.name)
	connection.close()


def prepare(site: str) -> dict:
	"""On one site: the SAS partner's API token, the bench's bookable
	slots (the previous run's removed), what the searches ask for."""
	import frappe

	frappe.init(site=site, sites_path=str(SITES))
	frappe.connect()
	try:
		# the demo's own télésecrétaire (desk session) and SAS partner (a fresh API key; no document saved: a
		# user's save takes seconds, times 30 sites)
		from frappe.utils.password import set_encrypted_password

		key, secret = frappe.generate_hash(length=15), frappe.generate_hash(length=15)
		frappe.db.set_value("User", DEMO_PARTNER, "api_key", key, update_modified=False)
		set_encrypted_password("User", DEMO_PARTNER, secret, "api_secret")
		frappe.db.set_value("SNP Partner", {"name": ["in", partners_of(frappe)]}, "rate_limit_per_minute", 0)
		token = f"{key}:{secret}"
		frappe.db.sql("DELETE FROM `tabSNP Booking` WHERE slot LIKE 'HBD-%%'")
		frappe.db.sql("DELETE FROM `tabSNP Slot` WHERE name LIKE 'HBD-%%'")
		doctor = frappe.db.get_value(
			"SNP Professional", {"status": "Active"}, ["name", "full_name", "sector"], as_dict=True
		)
		now = datetime.now().replace(second=0, microsecond=0)
		meta = {"owner": "Administrator", "modified_by": "Administrator", "creation": now, "modified": now}
		rows = [
			(
				f"HBD-{i:05d}",
				doctor.name,
				doctor.full_name,
				doctor.sector,
				now + timedelta(days=800, minutes=30 * i),
				20,
				now + timedelta(days=800, minutes=30 * i + 20),
				"Available",
				"Office",
				0,
				*meta.values(),
			)
			for i in range(BOOKABLE)
		]
		frappe.db.bulk_insert(
			"SNP Slot",
			[
				"name",
				"professional",
				"professional_name",
				"sector",
				"starts_at",
				"duration",
				"ends_at",
				"status",
				"modality",
				"docstatus",
				*meta,
			],
			rows,
		)
		sectors = frappe.get_all("SNP Sector", pluck="sector_name")
		rpps = frappe.get_all("SNP Professional", {"active": 1}, pluck="rpps", limit=25)
		frappe.db.commit()
		free = [row[0] for row in rows]
		random.Random(site).shuffle(free)
		return {
			"site": site,
			"token": token,
			"sectors": sectors,
			"rpps": rpps,
			"free": free,
		}
	finally:
		frappe.destroy()


def partners_of(frappe) -> list[str]:
	return frappe.get_all("SNP Partner User", {"user": DEMO_PARTNER}, pluck="parent") or [""]


def start_gunicorn(port: int, workers: int) -> subprocess.Popen:
	log = open(ROOT / "logs" / "bench-density-gunicorn.log", "w")
	process = subprocess.Popen(
		[str(ROOT / "env" / "bin" / "gunicorn"), "-b", f"127.0.0.1:{port}", "-w", str(workers), "-t", "120"]
		+ ["--preload", "frappe.app:application"],
		cwd=SITES,
		stdout=log,
		stderr=subprocess.STDOUT,
	)
	for _ in range(120):
		try:
			if requests.get(
				f"http://127.0.0.1:{port}/api/method/ping", headers={"Host": site_name(1)}, timeout=2
			).ok:
				return process
		except requests.ConnectionError:
			time.sleep(0.5)
	process.kill()
	raise SystemExit("gunicorn did not start (logs/bench-density-gunicorn.log)")


def login(base: str, site: str, user: str, password: str) -> str:
	response = requests.post(
		f"{base}/api/method/login", headers={"Host": site}, data={"usr": user, "pwd": password}
	)
	response.raise_for_status()
	return response.cookies["sid"]


class Client:
	"""What one site's callers send: the requests of each kind, as (method, path, headers, body)."""

	def __init__(self, base: str, info: dict, now: datetime):
		self.site = info["site"]
		self.desk = {
			"Host": self.site,
			"Cookie": f"sid={login(base, self.site, DEMO_DESK, DEMO_PASSWORD)}",
		}
		self.doctor = {
			"Host": self.site,
			"Cookie": f"sid={login(base, self.site, DEMO_DOCTOR, DEMO_PASSWORD)}",
		}
		self.partner = {
			"Host": self.site,
			"Authorization": f"token {info['token']}",
			"Accept": "application/fhir+json",
		}
		self.sectors = info["sectors"]
		self.fhir = fhir_fhir_path(info["rpps"], now)
		self.free = info["free"]  # shared by the runs: a slot booked stays booked

	def request(self, kind: str, draw: random.Random) -> tuple:
		if kind == "search":
			query = urllib.parse.quote(draw.choice(self.sectors))
			return (
				"GET",
				f"/api/method/cpts_snp.api.telesecretariat.search_slots?query={query}",
				self.desk,
				b"",
			)
		if kind == "fhir":
			return "GET", self.fhir, self.partner, b""
		if kind == "portal":
			return "GET", draw.choice(PORTAL_PAGES), self.doctor, b""
		slot = self.free.pop() if self.free else "HBD-00000"  # a slot taken: refused (417), as in real life
		body = urllib.parse.urlencode(
			{
				"slot": slot,
				"patient_last_name": "Densite",
				"patient_first_name": "Patient",
				"patient_date_of_birth": "1980-01-01",
			}
		).encode()
		return "POST", "/api/method/cpts_snp.api.booking.book", self.desk, body


def fhir_fhir_path(rpps: list[str], now: datetime) -> str:
	"""bench_http's SAS search (its practitioners replaced by the site's own)."""
	from cpts_snp.exports.fhir import PRACTITIONER_PARAM, RPPS_SYSTEM

	url = urllib.parse.urlsplit(fhir_slot_search_url("http://x", now))
	params = [(k, v) for k, v in urllib.parse.parse_qsl(url.query) if k != PRACTITIONER_PARAM]
	params.append((PRACTITIONER_PARAM, ",".join(f"{RPPS_SYSTEM}|8{number}" for number in rpps)))
	return f"{url.path}?{urllib.parse.urlencode(params)}"


async def send(port: int, method: str, path: str, headers: dict, body: bytes) -> tuple[int, float]:
	"""One request on a connection of its own (gunicorn's sync workers close them); (status, ms). Status 0: the
	connection failed."""
	started = time.perf_counter()
	try:
		reader, writer = await asyncio.open_connection("127.0.0.1", port)
		head = "".join(f"{name}: {value}\r\n" for name, value in headers.items())
		extra = ""
		if method == "POST":
			extra = f"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {len(body)}\r\n"
		writer.write(f"{method} {path} HTTP/1.1\r\n{head}{extra}Connection: close\r\n\r\n".encode() + body)
		response = await reader.read()
		writer.close()
		status = int(response.split(b" ", 2)[1])
	except (OSError, ValueError, IndexError):
		status = 0
	return status, (time.perf_counter() - started) * 1000


async def warm_up(port: int, clients: list, workers: int) -> None:
	"""Each kind of request on each site, `workers` at once, twice: every worker meets every site."""
	draw = random.Random(1)
	for _ in range(2):
		for client in clients:
			for kind in ("search", "fhir", "portal", "book"):
				await asyncio.gather(*(send(port, *client.request(kind, draw)) for _ in range(workers)))


async def mixed_load(port: int, clients: list[Client], per_site_minute: float, seconds: float) -> list[tuple]:
	"""Open loop: Poisson arrivals at N × per_site_minute a minute, each on a site and of a kind drawn at random;
	(kind, status, ms) of each."""
	draw = random.Random(7)
	rate = len(clients) * per_site_minute / 60
	kinds, weights = list(MIX), list(MIX.values())
	results, tasks = [], []

	async def one(at: float, kind: str, request: tuple):
		await asyncio.sleep(max(0.0, at - (time.perf_counter() - begun)))
		status, ms = await send(port, *request)
		results.append((kind, status, ms))

	begun, at = time.perf_counter(), 0.0
	while True:
		at += draw.expovariate(rate)
		if at > seconds:
			break
		kind = draw.choices(kinds, weights)[0]
		tasks.append(asyncio.create_task(one(at, kind, draw.choice(clients).request(kind, draw))))
	await asyncio.gather(*tasks)
	return results


def p95(values: list[float]) -> float:
	values = sorted(values)
	return round(values[max(0, int(0.95 * len(values)) - 1)], 1) if values else float("nan")


def ping_floor(base: str, headers: dict, count: int = 200) -> float:
	session = requests.Session()
	session.headers.update(headers)
	for _ in range(20):
		session.get(f"{base}/api/method/ping")
	timings = []
	for _ in range(count):
		started = time.perf_counter()
		session.get(f"{base}/api/method/ping").raise_for_status()
		timings.append((time.perf_counter() - started) * 1000)
	return p95(timings)


def tree(pid: int) -> list[int]:
	children = {}
	for status in Path("/proc").glob("[0-9]*/stat"):
		try:
			fields = status.read_text().rsplit(")", 1)[1].split()
		except OSError:
			continue
		children.setdefault(int(fields[1]), []).append(int(status.parent.name))
	found, todo = [], [pid]
	while todo:
		current = todo.pop()
		found.append(current)
		todo.extend(children.get(current, []))
	return found


def memory_kib(pid: int, field: str) -> int:
	"""Pss (smaps_rollup) or VmRSS (status) of a process, in KiB."""
	try:
		if field == "Pss":
			text = Path(f"/proc/{pid}/smaps_rollup").read_text()
		else:
			text = Path(f"/proc/{pid}/status").read_text()
	except OSError:
		return 0
	line = next((line for line in text.splitlines() if line.startswith(field + ":")), "")
	return int(line.split()[1]) if line else 0


def pids_of(name: str) -> list[int]:
	found = []
	for comm in Path("/proc").glob("[0-9]*/comm"):
		try:
			if comm.read_text().strip() == name:
				found.append(int(comm.parent.name))
		except OSError:
			continue
	return found


def memory(gunicorn: subprocess.Popen) -> dict:
	import redis

	mib = 1024
	cache = redis.Redis(port=13000)
	return {
		"gunicorn_pss_mib": round(sum(memory_kib(p, "Pss") for p in tree(gunicorn.pid)) / mib),
		"mariadb_rss_mib": round(
			sum(memory_kib(p, "VmRSS") for p in pids_of("mariadbd") + pids_of("mysqld")) / mib
		),
		"redis_cache_rss_mib": round(
			sum(memory_kib(p, "VmRSS") for p in pids_of("redis-server") if "13000" in cmdline(p)) / mib
		),
		"redis_cache_used_mib": round(cache.info("memory")["used_memory"] / mib / mib),
	}


def total_mib(figure: dict) -> int:
	return figure["gunicorn_pss_mib"] + figure["mariadb_rss_mib"] + figure["redis_cache_rss_mib"]


def cmdline(pid: int) -> str:
	try:
		return Path(f"/proc/{pid}/cmdline").read_text()
	except OSError:
		return ""


def cpu_seconds() -> float:
	fields = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
	idle = int(fields[3]) + int(fields[4])
	return (sum(map(int, fields)) - idle) / os.sysconf("SC_CLK_TCK")


def run_n(n: int, infos: list[dict], args) -> dict:
	gunicorn = start_gunicorn(args.port, args.workers)
	base = f"http://127.0.0.1:{args.port}"
	try:
		now = datetime.now()
		clients = [Client(base, info, now) for info in infos[:n]]
		# warm-up: every worker meets every site and kind (Frappe loads a site's metadata once per process)
		asyncio.run(warm_up(args.port, clients, args.workers))
		floor = ping_floor(base, clients[0].desk)
		load_before = os.getloadavg()[0]
		cpu_before, wall = cpu_seconds(), time.monotonic()
		results = asyncio.run(mixed_load(args.port, clients, args.per_site_minute, args.seconds))
		cpu = (cpu_seconds() - cpu_before) / (time.monotonic() - wall) / os.cpu_count()
		used = memory(gunicorn)
	finally:
		gunicorn.terminate()
		gunicorn.wait(20)
	by_kind = {kind: [r for r in results if r[0] == kind] for kind in MIX}
	expected = {"book": {200, 417}}
	errors = [r for r in results if r[1] not in expected.get(r[0], {200})]
	search = p95([ms for _k, status, ms in by_kind["search"] if status == 200])
	figure = {
		"sites": n,
		"requests": len(results),
		"requests_per_s": round(len(results) / args.seconds, 1),
		"errors": len(errors),
		"error_kinds": sorted({(k, s) for k, s, _ms in errors}),
		"ping_floor_p95_ms": floor,
		"search_p95_ms": search,
		"search_vs_floor": round(search / floor, 2),
		"fhir_p95_ms": p95([ms for _k, _s, ms in by_kind["fhir"]]),
		"portal_p95_ms": p95([ms for _k, _s, ms in by_kind["portal"]]),
		"book_p95_ms": p95([ms for _k, _s, ms in by_kind["book"]]),
		"booked": sum(1 for _k, s, _ms in by_kind["book"] if s == 200),
		"cpu_busy": round(cpu, 2),
		"load_average_before": round(load_before, 2),
		**used,
	}
	figure["ok"] = figure["errors"] == 0 and search <= 3 * floor
	return figure


def main():
	parser = argparse.ArgumentParser()
	parser.add_argument(
		"--sites", default="5,10,20,30", help="the numbers of sites to measure, comma-separated"
	)
	parser.add_argument("--seconds", type=float, default=60, help="length of each mixed load")
	parser.add_argument("--per-site-minute", type=float, default=30, help="requests per site and minute")
	parser.add_argument("--workers", type=int, default=os.cpu_count() * 2 + 1, help="gunicorn workers")
	parser.add_argument("--port", type=int, default=8766)
	parser.add_argument("--drop", action="store_true", help="remove every density-* site and stop")
	parser.add_argument("--setup-only", action="store_true", help="create the sites, measure nothing")
	args = parser.parse_args()
	os.chdir(SITES)
	if args.drop:
		drop_sites()
		return 0
	counts = sorted({int(n) for n in args.sites.split(",")})
	print(f"disk before: {shutil.disk_usage(ROOT).free // 2**30} GiB free", flush=True)
	template = ensure_template()
	conf = json.loads((SITES / template / "site_config.json").read_text())
	print(
		f"one demo year (scripts/add_site.sh load_demo_data): {conf['bench_density_demo_seconds']} s",
		flush=True,
	)
	clone_times = []
	for index in range(2, max(counts) + 1):
		if not (SITES / site_name(index) / "site_config.json").exists():
			clone_times.append(clone(template, site_name(index)))
	if clone_times:
		print(f"{len(clone_times)} clones by SQL copy: {statistics.mean(clone_times):.1f} s each", flush=True)
	print(f"disk after: {shutil.disk_usage(ROOT).free // 2**30} GiB free", flush=True)
	if args.setup_only:
		return 0
	started = time.monotonic()
	infos = [prepare(site_name(index)) for index in range(1, max(counts) + 1)]
	print(f"sites prepared in {time.monotonic() - started:.0f} s", flush=True)
	best, figures = 0, []
	for n in counts:
		figure = run_n(n, infos, args)
		figures.append(figure)
		print("RESULT " + json.dumps(figure), flush=True)
		print(
			f"N={n:3}  {figure['requests_per_s']:5} req/s  errors {figure['errors']}  ping floor p95 "
			f"{figure['ping_floor_p95_ms']} ms  search p95 {figure['search_p95_ms']} ms "
			f"({figure['search_vs_floor']}×)  FHIR p95 {figure['fhir_p95_ms']} ms  portal p95 "
			f"{figure['portal_p95_ms']} ms  booking p95 {figure['book_p95_ms']} ms  CPU {figure['cpu_busy']:.0%}  "
			f"gunicorn {figure['gunicorn_pss_mib']} MiB  MariaDB {figure['mariadb_rss_mib']} MiB  Redis "
			f"{figure['redis_cache_used_mib']} MiB  load before {figure['load_average_before']}  "
			f"{'ok' if figure['ok'] else 'OVER'}",
			flush=True,
		)
		if figure["ok"]:
			best = n
	if len(figures) > 1:
		first, last = figures[0], figures[-1]
		slope = (total_mib(last) - total_mib(first)) / (last["sites"] - first["sites"])
		print(
			f"memory per added site (gunicorn PSS + MariaDB + Redis, N={first['sites']} → {last['sites']}): {slope:.1f} MiB"
		)
	print(f"disk per site (MariaDB files of {template}): {database_mib(template)} MiB")
	print(f"largest N within 3 × the ping floor with 0 errors: {best}")
	return 0


if __name__ == "__main__":
	sys.exit(main())
