"""Teleconsultation permanences: swaps between doctors through the app's workflow (accepting hands the
permanence over, refusing keeps it), the coverage of the coming weeks, who may change a permanence, the
demand report on a known call log, and the public page /permanences."""

from datetime import datetime, timedelta

import frappe
import pytest
import requests
from cpts_snp.interns.factories import make_permanence
from cpts_snp.permanences.report.couverture_des_permanences import (
	couverture_des_permanences as coverage_report,
)
from cpts_snp.permanences.report.demande_de_teleconsultation import (
	demande_de_teleconsultation as demand_report,
)
from cpts_snp.services import portal
from cpts_snp.tests.factories import as_user, future_start, make_doctor
from frappe.model.workflow import WorkflowTransitionError, apply_workflow

DAY = future_start(days=15, hour=0)


def at(hour, day=DAY):
	return day.replace(hour=hour)


@pytest.fixture(scope="module")
def doctors():
	"""Three doctors, committed once for the module (each new user makes Frappe clear its whole cache)."""
	frappe.db.rollback()
	frappe.set_user("Administrator")
	made = [make_doctor() for _ in range(3)]
	frappe.db.commit()
	yield made
	frappe.db.rollback()
	frappe.set_user("Administrator")
	for user, professional in made:
		for field in ("from_professional", "to_professional"):
			frappe.db.delete("SNP Permanence Swap", {field: professional})
		frappe.db.delete("SNP Permanence", {"professional": professional})
		frappe.db.delete("SNP Professional", professional)
		frappe.delete_doc("User", user, force=True, ignore_permissions=True)
	frappe.db.commit()


@pytest.fixture
def rota(doctors):
	(a_user, a), (b_user, b), (c_user, c) = doctors
	permanence = make_permanence(a, at(18), at(19)).name
	return frappe._dict(
		a=a,
		a_user=a_user,
		b=b,
		b_user=b_user,
		c=c,
		c_user=c_user,
		permanence=permanence,
	)


def request_swap(rota, to=None):
	"""Doctor A asks through the portal (doctors have no generic write right)."""
	with as_user(rota.a_user):
		return portal.request_swap(rota.a, rota.permanence, to or rota.b)


def answer(user, professional, swap, accept=True):
	with as_user(user):
		return portal.answer_swap(professional, swap.name, accept)


# --- swaps ------------------------------------------------------------------------------------------------------
def test_an_accepted_swap_hands_the_permanence_over_to_the_other_doctor(rota):
	swap = request_swap(rota)
	assert (swap.status, swap.from_professional) == ("Requested", rota.a)
	swap = answer(rota.b_user, rota.b, swap)
	assert swap.status == "Accepted" and swap.decided_by == rota.b_user
	assert frappe.db.get_value("SNP Permanence", rota.permanence, "professional") == rota.b


def test_a_refused_swap_keeps_the_permanence_with_its_doctor(rota):
	swap = request_swap(rota)
	swap = answer(rota.b_user, rota.b, swap, accept=False)
	assert swap.status == "Refused"
	assert frappe.db.get_value("SNP Permanence", rota.permanence, "professional") == rota.a


def test_only_the_doctor_asked_or_the_coordination_answers_a_swap(rota):
	swap = request_swap(rota)
	for user, professional in ((rota.a_user, rota.a), (rota.c_user, rota.c)):
		with pytest.raises(frappe.PermissionError):
			answer(user, professional, swap)
		# nor through Frappe's workflow or document API (no write right on swaps)
		with (
			as_user(user),
			pytest.raises((WorkflowTransitionError, frappe.PermissionError)),
		):
			apply_workflow(frappe.get_doc("SNP Permanence Swap", swap.name), "Accept")
	assert frappe.db.get_value("SNP Permanence", rota.permanence, "professional") == rota.a
	assert frappe.db.get_value("SNP Permanence Swap", swap.name, "status") == "Requested"


def test_the_parties_of_a_pending_swap_are_fixed(rota):
	swap = request_swap(rota)
	for user in (rota.a_user, rota.c_user):
		with as_user(user):
			doc = frappe.get_doc("SNP Permanence Swap", swap.name)
			doc.to_professional = rota.c
			with pytest.raises(frappe.PermissionError):
				doc.save()
	# not even the coordination redirects a pending request: it answers it or the doctor asks again
	doc = frappe.get_doc("SNP Permanence Swap", swap.name)
	doc.to_professional = rota.c
	with pytest.raises(frappe.PermissionError):
		doc.save()
	assert frappe.db.get_value("SNP Permanence Swap", swap.name, "to_professional") == rota.b


def test_a_swap_of_a_permanence_that_changed_hands_meanwhile_is_refused(rota):
	first = request_swap(rota)
	frappe.db.set_value("SNP Permanence Swap", first.name, "status", "Refused")
	second = request_swap(rota, to=rota.c)
	frappe.db.set_value("SNP Permanence", rota.permanence, "professional", rota.c)
	frappe.db.set_value("SNP Permanence Swap", second.name, "to_professional", rota.b)
	with pytest.raises(frappe.ValidationError, match="a changé de médecin"):
		answer(rota.b_user, rota.b, second)


def test_only_the_doctor_on_duty_asks_to_swap_his_permanence(rota):
	with as_user(rota.c_user), pytest.raises(frappe.PermissionError):
		portal.request_swap(rota.c, rota.permanence, rota.b)
	with as_user(rota.c_user), pytest.raises(frappe.PermissionError):
		frappe.get_doc(
			{
				"doctype": "SNP Permanence Swap",
				"permanence": rota.permanence,
				"to_professional": rota.c,
			}
		).insert()


# --- who changes a permanence -----------------------------------------------------------------------------------------
def test_a_doctor_cannot_edit_another_doctors_permanence(rota):
	with as_user(rota.b_user):
		doc = frappe.get_doc("SNP Permanence", rota.permanence)  # the rota is shared: he reads it
		doc.teleconsultation_link = "https://visio.example.org/pirate"
		with pytest.raises(frappe.PermissionError):
			doc.save()


def test_a_doctor_changes_his_link_through_the_portal_but_hands_his_permanence_over_only_through_a_swap(
	rota,
):
	with as_user(rota.a_user):
		portal.set_teleconsultation_link(rota.a, rota.permanence, "https://visio.example.org/dr-a")
		with pytest.raises(frappe.ValidationError):
			portal.set_teleconsultation_link(rota.a, rota.permanence, "javascript:alert(1)")
		with pytest.raises(frappe.PermissionError):
			portal.set_teleconsultation_link(rota.b, rota.permanence, "https://visio.example.org/b")
		doc = frappe.get_doc("SNP Permanence", rota.permanence)
		doc.professional = rota.b
		with pytest.raises(frappe.PermissionError):
			doc.save()
	assert frappe.db.get_value(
		"SNP Permanence", rota.permanence, ["professional", "teleconsultation_link"]
	) == (
		rota.a,
		"https://visio.example.org/dr-a",
	)


# --- coverage -----------------------------------------------------------------------------------------------------------
def test_the_coverage_report_lists_the_blocks_no_permanence_covers():
	day = datetime(2031, 3, 3)
	_user, doctor = make_doctor()
	make_permanence(doctor, day.replace(hour=8), day.replace(hour=9))
	make_permanence(
		doctor, day.replace(hour=18, minute=30), day.replace(hour=20)
	)  # 18-19 h only half covered
	make_permanence(
		None,
		(day + timedelta(days=1)).replace(hour=8),
		(day + timedelta(days=1)).replace(hour=9),
	)
	_columns, data, *_ = coverage_report.execute({"from_date": "2031-03-03", "weeks": 1, "hours": "8, 18-20"})
	blocks = [(str(r["day"]), r["starts"], r["ends"]) for r in data]
	assert blocks[:3] == [
		("2031-03-03", "18:00", "19:00"),
		("2031-03-04", "08:00", "09:00"),
		("2031-03-04", "18:00", "20:00"),
	]
	assert len(blocks) == 1 + 6 * 2  # the first day: only 18-19 h; then 8-9 h and 18-20 h each day


# --- demand -------------------------------------------------------------------------------------------------------------
def test_the_demand_report_ranks_the_uncovered_hours_with_the_most_calls_left_without_a_slot():
	"""Crafted log (2015): Monday 8 h 4 calls of 5 without a slot, Tuesday 10 h 2 of 2, Tuesday 11 h none of 6."""
	log = [(datetime(2015, 3, 2, 8, i), "No slot available" if i < 4 else "Advice given") for i in range(5)]
	log += [(datetime(2015, 3, 3, 10, i), "No slot available") for i in range(2)]
	log += [(datetime(2015, 3, 3, 11, i), "Advice given") for i in range(6)]
	for received_at, outcome in log:
		frappe.get_doc(
			{
				"doctype": "SNP Call",
				"received_at": received_at,
				"caller_type": "Patient",
				"outcome": outcome,
			}
		).insert()
	_columns, data, _message, chart, summary = demand_report.execute(
		{"from_date": "2015-03-02", "to_date": "2015-03-08"}
	)
	rows = {(r["weekday"], r["hour"]): r for r in data}
	assert [(r["calls"], r["unmet"], r["unmet_share"], r["recommended"]) for r in data] == [
		(5, 4, 80.0, 1),
		(2, 2, 100.0, 2),
		(6, 0, 0.0, None),
	]
	assert len(rows) == 3 and summary[1]["value"] == 46.2
	assert chart["data"]["datasets"][1]["values"] == [4, 2, 0]


# --- the public page ------------------------------------------------------------------------------------------------------
def test_the_public_page_shows_the_coming_week_and_the_phone_number_without_login(server, committed):
	_user, doctor = committed.doctor()
	tomorrow = future_start(days=1, hour=18)
	permanence = make_permanence(doctor, tomorrow, tomorrow + timedelta(hours=1))
	later = make_permanence(doctor, future_start(days=9, hour=8), future_start(days=9, hour=9))
	phone = frappe.db.get_single_value("SNP Settings", "cpts_phone")
	frappe.db.set_single_value("SNP Settings", "cpts_phone", "02 40 99 88 77")
	frappe.db.commit()
	frappe.clear_document_cache("SNP Settings", "SNP Settings")
	try:
		response = requests.get(server + "/permanences", timeout=30)
		assert response.status_code == 200
		page = response.text
		assert "Permanences de téléconsultation" in page and "02 40 99 88 77" in page
		assert frappe.db.get_value("SNP Professional", doctor, "full_name") in page
		assert "18:00 – 19:00" in page
		assert permanence.teleconsultation_link not in page and later.teleconsultation_link not in page
		assert "08:00 – 09:00" not in page  # beyond the coming week
	finally:
		frappe.db.rollback()
		frappe.db.delete("SNP Permanence", {"professional": doctor})
		frappe.db.set_single_value("SNP Settings", "cpts_phone", phone)
		frappe.db.commit()
		frappe.clear_document_cache("SNP Settings", "SNP Settings")
