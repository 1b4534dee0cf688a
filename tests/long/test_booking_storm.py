"""Many simultaneous booking attempts over a few free slots: exactly one booking per slot, every other attempt
refused with the clear « no longer available » message (never a server error), and a consistent database.

Reduced size in `make test`; full size (1,000 attempts over 20 slots) with `make test-long` (CPTS_LONG=1)."""

import json
import os
import random
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import frappe
import requests
from cpts_snp.tests.factories import PATIENT, future_start, make_slot

LONG = os.environ.get("CPTS_LONG") == "1"
ATTEMPTS, SLOTS, CLIENTS = (1000, 20, 50) if LONG else (120, 6, 12)


def test_a_storm_of_booking_attempts_books_each_slot_exactly_once(server, committed):
	telesecretary = committed.user(["Télésecrétaire"])
	key, secret = frappe.generate_hash(length=15), frappe.generate_hash(length=15)
	user = frappe.get_doc("User", telesecretary)
	user.api_key, user.api_secret = key, secret
	user.save()
	professional = committed.professional()
	start = future_start(days=60, hour=8)
	slots = [make_slot(professional, start + timedelta(minutes=20 * i)).name for i in range(SLOTS)]
	frappe.db.commit()
	# Token authentication (as a partner system would call): no session per client.
	sessions = []
	for _ in range(CLIENTS):
		session = requests.Session()
		session.headers["Authorization"] = f"token {key}:{secret}"
		sessions.append(session)
	draw = random.Random(7)
	plan = [(sessions[i % CLIENTS], draw.choice(slots)) for i in range(ATTEMPTS)]

	def attempt(job):
		session, slot = job
		response = session.post(
			f"{server}/api/method/cpts_snp.api.booking.book",
			data={**PATIENT, "slot": slot},
			timeout=120,
		)
		return slot, response.status_code, response.text

	with ThreadPoolExecutor(CLIENTS) as pool:
		results = list(pool.map(attempt, plan))

	codes = {}
	for _slot, code, _text in results:
		codes[code] = codes.get(code, 0) + 1
	assert set(codes) <= {200, 417}, codes  # never a 500
	winners = [slot for slot, code, _ in results if code == 200]
	assert sorted(winners) == sorted(set(winners)), "a slot was booked twice"
	assert set(winners) == {slot for slot in slots if slot in {s for s, _c, _t in results}}
	for _slot, code, text in results:
		if code == 417:
			assert "n'est plus disponible" in json.loads(json.loads(json.loads(text)["_server_messages"])[0])["message"]

	frappe.db.rollback()
	booked = frappe.get_all("SNP Booking", filters={"slot": ["in", slots]}, fields=["slot", "status"])
	assert len(booked) == len(set(winners)) == len({b.slot for b in booked})
	statuses = dict(frappe.get_all("SNP Slot", filters={"name": ["in", slots]}, fields=["name", "status"], as_list=True))
	assert all(statuses[b.slot] == "Booked" for b in booked)
	assert all(status == "Available" for name, status in statuses.items() if name not in set(winners))
