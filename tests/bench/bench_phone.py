"""Phone benchmark: the doctors' portal (/snp, /snp/creneaux, /snp/rendez-vous, as the demo doctor) and the public
page /permanences in Chromium on an emulated Fast-3G phone (150 ms round trip, 1.6 Mbit/s down, 750 kbit/s up,
Chromium's own network throttling through the DevTools protocol), through the production stack (nginx with TLS
and gzip, gunicorn: scripts/production.sh's functions, on free loopback ports, in a temporary directory, stopped
afterwards), or Frappe's dev server when nginx or supervisor are missing (said in the output).

Per page: a first visit (a new browser profile: empty cache) and a later visit (the same page again: the app's CSS
and JS come from the cache), each the median of --runs; load time = the page's `load` event after its navigation
started; bytes = what crossed the network (headers included, compressed as sent). Targets: later visit ≤ 1 s,
first visit ≤ 3 s, ≤ 60 KB of HTML before compression, ≤ 150 KB transferred on a first visit.

    make bench        (or: env/bin/python tests/bench/bench_phone.py --site cpts.localhost [--write])

--write puts the figures into docs/benchmarks.md (between its bench_phone markers). Needs the demo data
(`make setup`): the demo doctor and his year of consultations.
"""

import argparse
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[2]
PAGES = ["/snp/connexion", "/snp", "/snp/creneaux", "/snp/rendez-vous", "/permanences"]
# pages opened without a session: the doctors' login page (the first page of a doctor's day), the public page
GUEST_PAGES = {"/snp/connexion", "/permanences", "/login"}
# Frappe's own login page (its web base, icon sprite included), shown for comparison: not one of the app's pages
FRAPPES = ["/login"]
FAST_3G = {
	"offline": False,
	"latency": 150,
	"downloadThroughput": 1_600_000 / 8,
	"uploadThroughput": 750_000 / 8,
}
PHONE = {"width": 390, "height": 844}
TARGETS = {"first": 3.0, "later": 1.0, "html": 60_000, "first_bytes": 150_000}
CHROMIUM_ARGS = [
	"--no-sandbox",
	"--disable-gpu",
	"--disable-quic",
	"--disable-background-networking",
	"--disable-component-update",
	"--disable-sync",
	"--no-first-run",
]
DOCS = ROOT / "docs" / "benchmarks.md"
MARKERS = ("<!-- bench_phone:start -->", "<!-- bench_phone:end -->")


def free_port() -> int:
	with socket.socket() as s:
		s.bind(("127.0.0.1", 0))
		return s.getsockname()[1]


class ProductionStack:
	"""scripts/production.sh's render and start functions for `site`, on free loopback ports."""

	kind = "production stack (nginx TLS + gzip → gunicorn, scripts/production.sh)"

	def __init__(self, site):
		self.folder = Path(tempfile.mkdtemp(prefix="cpts-bench-phone-"))
		self.folder.chmod(0o755)  # nginx's workers (an unprivileged user) read their temporary files
		port = free_port()
		self.env = {
			**os.environ,
			"PROD_SITE": site,
			"PROD_HOST": "127.0.0.1",
			"PROD_BIND": "127.0.0.1",
			"PROD_HTTPS_PORT": str(port),
			"PROD_HTTP_PORT": str(free_port()),
			"PROD_WEB_PORT": str(free_port()),
			"PROD_SOCKETIO_PORT": str(free_port()),
			"PROD_GUNICORN_WORKERS": "2",
			"PROD_WORKERS": "1",
			"PROD_CONFIG_DIR": str(self.folder / "config"),
			"PROD_LOG_DIR": str(self.folder / "logs"),
		}
		for name in ("TLS_CERT", "TLS_KEY", "SAS_MTLS_CERT"):
			self.env.pop(name, None)
		self.base = f"https://127.0.0.1:{port}"

	def script(self, *steps, check=True):
		command = "source scripts/production.sh && production_settings && " + " && ".join(steps)
		done = subprocess.run(
			["bash", "-c", command],
			cwd=ROOT,
			env=self.env,
			capture_output=True,
			text=True,
			timeout=240,
			check=False,
		)
		if check and done.returncode:
			raise RuntimeError(done.stdout + done.stderr)

	def __enter__(self):
		self.script(
			"ensure_tls_certificate",
			"render_production_nginx",
			"render_production_supervisor",
			"start_production",
			"wait_for_production 120",
		)
		# the scheduler would enqueue the jobs of every site of the bench while we measure
		subprocess.run(
			[
				"supervisorctl",
				"-c",
				str(self.folder / "config/supervisor/supervisord.conf"),
				"stop",
				"cpts-workers:cpts-frappe-schedule",
			],
			capture_output=True,
			timeout=60,
			check=False,
		)
		return self

	def __exit__(self, *exc):
		self.script("stop_production", check=False)
		shutil.rmtree(self.folder, ignore_errors=True)


class DevServer:
	"""Frappe's dev server (`bench serve`): no compression, assets without a long cache."""

	kind = "Frappe's dev server (bench serve: no gzip) — nginx or supervisor missing"

	def __init__(self, site):
		self.site, self.port = site, free_port()
		self.base = f"http://127.0.0.1:{self.port}"

	def __enter__(self):
		self.proc = subprocess.Popen(
			[
				str(ROOT / "env/bin/python"),
				"-m",
				"frappe.utils.bench_helper",
				"frappe",
				"--site",
				self.site,
				"serve",
				"--port",
				str(self.port),
				"--noreload",
			],
			cwd=ROOT / "sites",
			stdout=subprocess.DEVNULL,
			stderr=subprocess.DEVNULL,
		)
		deadline = time.monotonic() + 60
		while time.monotonic() < deadline:
			try:
				if requests.get(f"{self.base}/api/method/ping", timeout=2).ok:
					return self
			except requests.ConnectionError:
				time.sleep(0.3)
		raise RuntimeError("the dev server did not start")

	def __exit__(self, *exc):
		self.proc.terminate()
		self.proc.wait(10)


class Given:
	kind = "the server given with --url"

	def __init__(self, url):
		self.base = url.rstrip("/")

	def __enter__(self):
		return self

	def __exit__(self, *exc):
		pass


def visit(page, url, counter) -> dict:
	counter.clear()
	response = page.goto(url, wait_until="load")
	if not response.ok or response.url != url:
		raise RuntimeError(f"{url}: {response.status} at {response.url} (is the demo data loaded?)")
	load_ms = page.evaluate("performance.getEntriesByType('navigation')[0].loadEventEnd")
	page.wait_for_timeout(200)  # the favicon and the last network events after `load`
	return {
		"seconds": load_ms / 1000,
		"bytes": sum(counter.values()),
		"html": len(response.body()),
		"requests": len(counter),
	}


def measure(browser, base, path, user, password) -> tuple[dict, dict]:
	context = browser.new_context(
		ignore_https_errors=True, locale="fr-FR", timezone_id="Europe/Paris", viewport=PHONE, is_mobile=True
	)
	try:
		if path not in GUEST_PAGES:
			login = context.request.post(f"{base}/api/method/login", form={"usr": user, "pwd": password})
			if not login.ok:
				raise RuntimeError(f"login of {user} refused: {login.status} (is the demo data loaded?)")
		page = context.new_page()
		cdp = context.new_cdp_session(page)
		cdp.send("Network.enable")
		cdp.send("Network.emulateNetworkConditions", FAST_3G)
		counter, urls = {}, {}
		cdp.on("Network.requestWillBeSent", lambda e: urls.__setitem__(e["requestId"], e["request"]["url"]))

		def finished(event):
			# what came over the network: not Chromium's own data: images (date inputs), not the cache's answers
			if not urls.get(event["requestId"], "").startswith("data:") and event["encodedDataLength"]:
				counter[event["requestId"]] = event["encodedDataLength"]

		cdp.on("Network.loadingFinished", finished)
		first = visit(page, base + path, counter)
		later = visit(page, base + path, counter)
		return first, later
	finally:
		context.close()


def median(runs, key):
	return statistics.median(run[key] for run in runs)


def run(server, args) -> list[dict]:
	from playwright.sync_api import sync_playwright

	executable = shutil.which("chromium") or shutil.which("chromium-browser")
	if not executable:
		sys.exit("chromium is not installed (make setup installs it)")
	rows = []
	with sync_playwright() as playwright:
		browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
		for path in PAGES + FRAPPES:
			measure(
				browser, server.base, path, args.user, args.password
			)  # warm the server's caches, not timed
			results = [
				measure(browser, server.base, path, args.user, args.password) for _ in range(args.runs)
			]
			firsts, laters = [r[0] for r in results], [r[1] for r in results]
			rows.append(
				{
					"path": path,
					"html": median(firsts, "html"),
					"first_s": median(firsts, "seconds"),
					"first_bytes": median(firsts, "bytes"),
					"first_requests": median(firsts, "requests"),
					"later_s": median(laters, "seconds"),
					"later_bytes": median(laters, "bytes"),
					"later_requests": median(laters, "requests"),
				}
			)
			print(f"{path}: first {rows[-1]['first_s']:.2f} s, later {rows[-1]['later_s']:.2f} s", flush=True)
		browser.close()
	return rows


def kb(n) -> str:
	return f"{n / 1000:.1f} KB"


def report(rows, server, args) -> str:
	when = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
	lines = [
		f"Measured on {when}, site `{args.site}`, through the {server.kind}; median of {args.runs} runs:",
		"",
		"| Page | HTML (before compression) | First visit | transferred (requests) | Later visit | transferred (requests over the network) |",
		"| --- | --- | --- | --- | --- | --- |",
	]
	ok = True
	for r in rows:
		frappes = r["path"] in FRAPPES
		if not frappes:
			ok &= r["first_s"] <= TARGETS["first"] and r["later_s"] <= TARGETS["later"]
			ok &= r["html"] <= TARGETS["html"] and r["first_bytes"] <= TARGETS["first_bytes"]
		lines.append(
			f"| `{r['path']}`{' (Frappe’s page, for comparison)' if frappes else ''} | {kb(r['html'])} | {r['first_s']:.2f} s | {kb(r['first_bytes'])} "
			f"({r['first_requests']:g}) | {r['later_s']:.2f} s | {kb(r['later_bytes'])} ({r['later_requests']:g}) |"
		)
	lines += [
		"",
		"Targets (first visit ≤ 3 s and ≤ 150 KB, later visit ≤ 1 s, HTML ≤ 60 KB): "
		+ ("**all met**." if ok else "**not all met**."),
	]
	return "\n".join(lines)


def write_docs(text):
	docs = DOCS.read_text()
	block = f"{MARKERS[0]}\n{text}\n{MARKERS[1]}"
	pattern = re.compile(re.escape(MARKERS[0]) + ".*?" + re.escape(MARKERS[1]), re.DOTALL)
	if not pattern.search(docs):
		sys.exit(f"{DOCS} has no {MARKERS[0]} … {MARKERS[1]} block")
	DOCS.write_text(pattern.sub(lambda _m: block, docs))


def main():
	parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
	parser.add_argument("--site", default=os.environ.get("DEMO_SITE", "cpts.localhost"))
	parser.add_argument(
		"--url", help="measure this server instead of starting one (e.g. https://cpts.example.fr)"
	)
	parser.add_argument("--user", default="dr.martin@cpts-demo.fr")
	parser.add_argument("--password", default="demo-cpts-2026")
	parser.add_argument("--runs", type=int, default=3)
	parser.add_argument(
		"--dev-server", action="store_true", help="Frappe's dev server even if nginx is there"
	)
	parser.add_argument("--write", action="store_true", help="put the figures into docs/benchmarks.md")
	args = parser.parse_args()
	if args.url:
		server = Given(args.url)
	elif shutil.which("nginx") and shutil.which("supervisord") and not args.dev_server:
		server = ProductionStack(args.site)
	else:
		server = DevServer(args.site)
	print(f"Fast 3G phone against {server.kind}", flush=True)
	with server:
		rows = run(server, args)
	text = report(rows, server, args)
	print(text)
	if args.write:
		write_docs(text)


if __name__ == "__main__":
	main()
