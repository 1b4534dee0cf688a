"""FHIR searches of the SAS platform as its guide writes them (ans.fhir.fr.sas 1.2.0), timed through gunicorn on
loopback on the HTTP benchmark's data set (tests/bench/bench_http.py: 200 doctors at 10 places of practice,
100,000 slots): INT_R04 (`/fhir`, four includes), INT_R01 (`/fhir/ps`, two includes, the doctors who share
individually), a `_count` page and the reads of what an answer returns. Target: every search under 1 s.

    env/bin/python tests/bench/bench_fhir.py --site bench.localhost [--requests 100]
"""

import argparse
import sys
import urllib.parse
from datetime import datetime

import bench_http
import requests


def main() -> int:
	parser = argparse.ArgumentParser()
	parser.add_argument("--site", default="bench.localhost")
	parser.add_argument("--port", type=int, default=8766)
	parser.add_argument("--requests", type=int, default=100)
	args = parser.parse_args()
	frappe = bench_http.connect(args.site)
	bench_http.ensure_data(frappe)
	bench_http.ensure_places(frappe)
	# one doctor in four shares his slots individually (INT_R01)
	frappe.db.sql(
		"""UPDATE `tabSNP Professional` SET `sas_individual_sharing` = 1
		WHERE `name` LIKE 'HB-PRO-%%' AND MOD(CAST(SUBSTRING(`name`, 8) AS UNSIGNED), 4) = 0"""
	)
	frappe.db.commit()
	partner = {
		"Host": args.site,
		"Authorization": f"token {bench_http.bench_partner_token(frappe)}",
		"Accept": "application/fhir+json",
	}
	server = bench_http.start_gunicorn(args.site, args.port)
	base = f"http://127.0.0.1:{args.port}"
	cpts = bench_http.fhir_slot_search_url(base, datetime.now())
	ps = cpts.replace("/fhir/Slot?", "/fhir/ps/Slot?")
	for include in ("Slot:service-type-reference", "HealthcareService:organization"):
		ps = ps.replace("&" + urllib.parse.urlencode({"_include": include}), "")
		ps = ps.replace("&" + urllib.parse.urlencode({"_include:iterate": include}), "")
	worst = 0.0
	try:
		answer = requests.get(cpts, headers=partner, timeout=60).json()
		slot = next(e["resource"]["id"] for e in answer["entry"] if e["resource"]["resourceType"] == "Slot")
		role = next(
			e["resource"]["id"]
			for e in answer["entry"]
			if e["resource"]["resourceType"] == "PractitionerRole"
		)
		runs = [
			(f"INT_R04 /fhir/Slot, 25 doctors, 48 h ({answer['total']} slots)", cpts),
			("INT_R01 /fhir/ps/Slot, same request", ps),
			("INT_R04 with _count=10 (first page)", cpts + "&_count=10"),
			("read Slot/<id>", f"{base}/fhir/Slot/{slot}"),
			("read PractitionerRole/<id>", f"{base}/fhir/PractitionerRole/{role}"),
			(
				"Schedule?actor=Practitioner/<id>",
				f"{base}/fhir/Schedule?actor=Practitioner/{role.split('.')[0]}",
			),
		]
		print(f"{'request':56} {'p50 ms':>8} {'p95 ms':>8} {'kB':>6}")
		for label, url in runs:
			size = len(requests.get(url, headers=partner, timeout=60).content) // 1024
			result = bench_http.latency(url, partner, args.requests)
			worst = max(worst, result["p95_ms"])
			print(f"{label:56} {result['p50_ms']:8} {result['p95_ms']:8} {size:6}", flush=True)
	finally:
		server.terminate()
		server.wait(10)
		frappe.destroy()
	print(f"slowest p95: {worst} ms (target: under 1,000 ms)")
	return 0 if worst < 1000 else 1


if __name__ == "__main__":
	sys.path.insert(0, str(bench_http.ROOT / "tests" / "bench"))
	sys.exit(main())
