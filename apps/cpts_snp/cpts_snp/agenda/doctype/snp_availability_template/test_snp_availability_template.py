from datetime import datetime, time, timedelta

import frappe
import pytest
from frappe.tests.utils import change_settings
from frappe.utils import get_datetime, getdate, now_datetime

from cpts_snp.services.generation import generate_all, generate_for_template
from cpts_snp.tests.factories import make_absence, make_professional, make_slot, make_template, next_weekday


@pytest.fixture
def professional():
	return make_professional().name


def slots_of(professional):
	return frappe.get_all(
		"SNP Slot",
		filters={"professional": professional},
		fields=["starts_at", "status", "template", "is_pdsa"],
		order_by="starts_at asc",
	)


def test_generation_creates_the_slots_of_the_next_weeks(professional):
	template = make_template(professional, monday=1, thursday=1, start_time="10:00:00", number_of_slots=2)
	with change_settings("SNP Settings", generation_weeks=3):
		created = generate_for_template(template)
	slots = slots_of(professional)
	assert len(created) == len(slots)
	assert 10 <= len(slots) <= 14  # 3 weeks × 2 days × 2 slots, depending on today's weekday
	assert all(s.template == template.name and s.status == "Available" for s in slots)
	assert all(get_datetime(s.starts_at) > now_datetime() for s in slots)
	assert {get_datetime(s.starts_at).weekday() for s in slots} == {0, 3}
	assert get_datetime(slots[-1].starts_at) <= now_datetime() + timedelta(weeks=3)


def test_generating_twice_creates_nothing_twice(professional):
	template = make_template(professional)
	first = generate_for_template(template)
	assert first
	assert generate_for_template(template) == []
	assert len(slots_of(professional)) == len(first)


def test_a_withdrawn_slot_is_not_offered_again(professional):
	template = make_template(professional)
	first = generate_for_template(template)
	withdrawn = frappe.get_doc("SNP Slot", first[0])
	withdrawn.status = "Cancelled"
	withdrawn.save()
	assert generate_for_template(template) == []


def test_generation_keeps_clear_of_slots_published_by_hand(professional):
	monday = next_weekday(0)
	make_slot(professional, datetime.combine(monday, time(10, 10)), duration=30)
	template = make_template(professional, monday=1, thursday=0, start_time="10:00:00", number_of_slots=3)
	generate_for_template(template)
	that_day = [
		get_datetime(s.starts_at).time() for s in slots_of(professional) if getdate(s.starts_at) == monday
	]
	assert that_day == [time(10, 10), time(10, 40)]  # 10:00 and 10:20 overlap the manual slot


def test_an_absence_blocks_generation(professional):
	monday = next_weekday(0)
	make_absence(professional, monday, monday + timedelta(days=3))
	template = make_template(professional)
	generate_for_template(template)
	days = {getdate(s.starts_at) for s in slots_of(professional)}
	assert monday not in days and monday + timedelta(days=3) not in days
	assert days  # the other weeks are generated


def test_a_suspended_professional_gets_no_slots():
	professional = make_professional(status="Charter signed").name
	assert generate_for_template(make_template(professional)) == []


def test_generated_slots_carry_the_pdsa_flag(professional):
	template = make_template(
		professional, monday=0, thursday=0, saturday=1, start_time="12:00:00", number_of_slots=1
	)
	generate_for_template(template)
	assert all(s.is_pdsa for s in slots_of(professional))


def test_the_daily_job_generates_every_enabled_template(professional):
	assert "cpts_snp.services.generation.generate_all" in frappe.get_hooks("scheduler_events")["daily"]
	template = make_template(professional)
	disabled = make_template(make_professional().name, enabled=0)
	frappe.db.commit = lambda: None  # the job commits per template; keep this test's transaction
	try:
		generate_all()
	finally:
		del frappe.db.commit
	assert slots_of(template.professional)
	assert not slots_of(disabled.professional)


@pytest.mark.parametrize(
	"values, message",
	[
		({"monday": 0, "thursday": 0}, "Cochez au moins un jour"),
		({"number_of_slots": 0}, "entre 1 et 12"),
		({"slot_duration": -20}, "entre 5 et 240 minutes"),
		({"start_time": "23:30:00", "number_of_slots": 3}, "se terminer le jour"),
		({"valid_from": "2026-12-10", "valid_to": "2026-12-01"}, "ne peut pas précéder son début"),
	],
)
def test_bad_templates_are_refused_in_french(professional, values, message):
	with pytest.raises(frappe.ValidationError, match=message):
		make_template(professional, **values)
	assert not frappe.db.exists("SNP Availability Template", {"professional": professional})
