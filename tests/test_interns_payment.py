"""Supervision half-days and permanence hours are paid in a run, at the rates of the scheme (hand-computed):

Scheme from 2018-01-01: supervision half-day 100 €, permanence hour 40 € (other rates 0).
Supervisor S: 2018-03-05 09:00-12:00 (morning) and 11:00-14:00 (morning again + afternoon), 2018-03-06
              14:00-18:00 (afternoon)                                   → 3 half-days = 300 €.
Doctor D:     permanences 2018-03-05 18:00-19:00 (1 h) and 2018-03-07 18:00-20:30 (2.5 h = 100 €), one
              cancelled (not paid)                                       → 3.5 h = 140 €.
"""

from datetime import datetime

import frappe
from cpts_snp.interns.factories import make_permanence, make_shift, make_supervisor
from cpts_snp.services.payment_run import compute_run
from cpts_snp.tests.factories import make_professional

IBANS = ["FR7630006000011234567890189", "FR1420041010050500013M02606"]


def test_a_run_pays_supervision_half_days_and_permanence_hours_at_their_rates():
	frappe.get_doc({"doctype": "SNP Indemnity Scheme", "scheme_name": "Test barème supervision", "valid_from": "2018-01-01",
		"rate_per_supervision_half_day": 100, "rate_per_permanence_hour": 40}).insert()
	supervisor = make_supervisor(iban=IBANS[0])
	doctor = make_professional(iban=IBANS[1]).name
	make_shift(supervisor, datetime(2018, 3, 5, 9), datetime(2018, 3, 5, 12))
	make_shift(supervisor, datetime(2018, 3, 5, 11), datetime(2018, 3, 5, 14))
	make_shift(supervisor, datetime(2018, 3, 6, 14), datetime(2018, 3, 6, 18))
	make_permanence(doctor, datetime(2018, 3, 5, 18), datetime(2018, 3, 5, 19))
	make_permanence(doctor, datetime(2018, 3, 7, 18), datetime(2018, 3, 7, 20, 30))
	make_permanence(doctor, datetime(2018, 3, 8, 18), datetime(2018, 3, 8, 19), status="Cancelled")

	run = frappe.get_doc({"doctype": "SNP Payment Run", "period_start": "2018-03-01", "period_end": "2018-03-31"}).insert()
	compute_run(run)
	amounts = dict(frappe.get_all("SNP Indemnity Payment", filters={"run": run.name}, fields=["professional", "amount"], as_list=True))
	assert amounts == {supervisor: 300, doctor: 140}
	assert run.total_amount == 440
	lines = frappe.get_all(
		"SNP Indemnity Payment Line",
		filters={"parent": f"{run.name}-{doctor}"},
		fields=["item_type", "quantity", "rate", "amount"],
		order_by="item_date",
	)
	assert [(l.item_type, l.quantity, l.rate, l.amount) for l in lines] == [
		("Permanence hour", 1, 40, 40),
		("Permanence hour", 2.5, 40, 100),
	]
	supervision = frappe.get_all("SNP Paid Item", filters={"run": run.name, "professional": supervisor}, pluck="name")
	assert sorted(supervision) == sorted(
		f"supervision:{supervisor}/{day}/{half}" for day, half in (("2018-03-05", "AM"), ("2018-03-05", "PM"), ("2018-03-06", "PM"))
	)

	# computed again: the same items, nothing paid twice
	compute_run(run)
	assert run.total_amount == 440
