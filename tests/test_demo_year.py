"""The demo year: a CPTS year ending today whose key figures look real, loaded set-based with every derived
field following the app's rules. The year is loaded once, uncommitted, for the tests of `TestTheDemoYear` (each
rolls back to a savepoint taken after the load) and rolled back at the end of the class."""

import re
from collections import defaultdict
from datetime import date, datetime, time, timedelta

import frappe
import pytest
from cpts_snp.demo import loader, year
from cpts_snp.rules.identifiers import is_valid_insee_code, is_valid_postal_code, is_valid_rpps
from cpts_snp.rules.pdsa import is_pdsa
from cpts_snp.rules.slots import can_withdraw_without_coordinator, overlaps, slot_end
from cpts_snp.rules.snp import is_snp_booking, supplement_decision, week_bounds
from cpts_snp.services.booking import supplement_note
from cpts_snp.services.settings import booking_horizon_hours, pdsa_schedule, supplement_weekly_cap
from cpts_snp.services.telesecretariat import log_call
from cpts_snp.telesecretariat.doctype.snp_call.snp_call import BOOKED
from frappe.utils import get_time, now_datetime

FOUNDERS = [row[2] for row in loader.PROFESSIONALS]
DEMO_RPPS = FOUNDERS + [row[2] for row in year.DOCTORS]
# The small demo's week (loader.ensure_week_of_slots) is booked without a call (loader.book_some).
SMALL_DEMO_TIMES = tuple(t.strftime("%H:%M:%S") for t in loader.SLOT_TIMES)


@pytest.fixture(scope="class")
def demo_year():
	"""Load the year (uncommitted) and give the period it covers and the demo professionals."""
	frappe.db.rollback()
	frappe.set_user("Administrator")
	now = now_datetime()
	year.load_year(commit=False)
	professionals = frappe.get_all("SNP Professional", filters={"rpps": ["in", DEMO_RPPS]}, pluck="name")
	frappe.db.savepoint("demo_year")
	yield frappe._dict(
		start=datetime.combine(now.date() - timedelta(days=year.PERIOD_DAYS), time.min),
		now=now,
		professionals=tuple(professionals),
		founders=tuple(frappe.get_all("SNP Professional", filters={"rpps": ["in", FOUNDERS]}, pluck="name")),
	)
	frappe.db.rollback()


def small_demo(period, professional: str, start: datetime) -> bool:
	"""A slot or booking of the small demo's week (cpts_snp.demo.loader), not of the year."""
	return professional in period.founders and start.strftime("%H:%M:%S") in SMALL_DEMO_TIMES


def scalar(query: str, values: dict):
	return frappe.db.sql(query, values)[0][0]


def count_slots(period, condition: str) -> int:
	return scalar(
		f"""select count(*) from `tabSNP Slot` where professional in %(professionals)s
		and starts_at >= %(start)s and starts_at < %(now)s and {condition}""",
		period,
	)


def count_bookings(period, status: str) -> int:
	return scalar(
		"""select count(*) from `tabSNP Booking` where professional in %(professionals)s
		and slot_start >= %(start)s and slot_start < %(now)s and status = %(status)s""",
		{**period, "status": status},
	)


class TestTheDemoYear:
	"""The year loaded once for the class (see `demo_year`); each test rolls back to the savepoint after it."""

	@pytest.fixture(autouse=True)
	def _clean_transaction(self, demo_year):
		frappe.set_user("Administrator")
		frappe.local.lang = "fr"
		yield
		frappe.db.rollback(save_point="demo_year")
		frappe.set_user("Administrator")

	def test_the_year_has_the_key_figures_and_the_rhythm_of_a_real_cpts(self, demo_year):
		doctors = frappe.get_all(
			"SNP Professional", filters={"rpps": ["in", DEMO_RPPS]}, fields=["name", "status"]
		)
		assert len(doctors) == 25 and {d.status for d in doctors} == {"Active"}
		sectors = [row[0] for row in year.SECTORS]
		assert frappe.db.count("SNP Sector", {"name": ["in", sectors]}) == 30
		neighbours = frappe.get_all(
			"SNP Sector Neighbour",
			filters={"parenttype": "SNP Sector", "parent": ["in", sectors]},
			fields=["parent", "sector"],
		)
		pairs = {(n.parent, n.sector) for n in neighbours}
		assert {p for p, _s in pairs} == set(sectors)
		assert all((s, p) in pairs for p, s in pairs), "neighbours follow the borders both ways"
		for doctor in doctors:
			assert 1 <= frappe.db.count("SNP Availability Template", {"professional": doctor.name}) <= 2

		made = count_slots(demo_year, "status != 'Cancelled'")
		withdrawn = count_slots(demo_year, "status = 'Cancelled'")
		honoured = count_bookings(demo_year, "Honoured")
		no_shows = count_bookings(demo_year, "No-show")
		calls = scalar(
			"select count(*) from `tabSNP Call` where received_at >= %(since)s and received_at <= %(now)s",
			{"since": demo_year.start - timedelta(days=2), "now": demo_year.now},
		)
		assert 1900 <= made <= 2100
		assert 0 < withdrawn < made * 0.1
		assert 1150 <= honoured <= 1300
		assert 0.05 <= no_shows / (honoured + no_shows) <= 0.08
		assert count_bookings(demo_year, "Cancelled") > 0
		assert 3500 <= calls <= 3900

		# More slots in winter, fewer in August (the period always holds one January and one August).
		by_month = dict(
			frappe.db.sql(
				"""select month(starts_at), count(*) from `tabSNP Slot` where professional in %(professionals)s
				and starts_at >= %(start)s and starts_at < %(now)s and status != 'Cancelled' group by 1""",
				demo_year,
			)
		)
		assert by_month[1] > 1.5 * by_month[8]

		# Calls come in the morning and in the evening more than after lunch.
		by_hour = defaultdict(
			int, frappe.db.sql("select hour(received_at), count(*) from `tabSNP Call` group by 1")
		)
		after_lunch = (by_hour[13] + by_hour[14]) / 2
		assert (by_hour[8] + by_hour[9]) / 2 > 1.5 * after_lunch
		assert (by_hour[17] + by_hour[18]) / 2 > 1.5 * after_lunch

		# The coming weeks are generated from the templates.
		generated = frappe.get_all(
			"SNP Slot",
			filters={
				"professional": ["in", demo_year.professionals],
				"starts_at": [">", demo_year.now],
				"template": ["is", "set"],
			},
			pluck="professional",
		)
		assert len(set(generated)) >= 20

	def test_no_two_slots_of_a_doctor_overlap_and_each_booked_slot_has_one_active_booking(self, demo_year):
		overlapping = frappe.db.sql(
			"""select a.name, b.name from `tabSNP Slot` a join `tabSNP Slot` b
			on a.professional = b.professional and a.name < b.name
			and a.starts_at < b.ends_at and b.starts_at < a.ends_at
			where a.professional in %(professionals)s and a.status != 'Cancelled' and b.status != 'Cancelled'""",
			demo_year,
		)
		assert overlapping == ()

		wrong = frappe.db.sql(
			"""select s.name, s.status, count(b.name), max(b.status) from `tabSNP Slot` s
			left join `tabSNP Booking` b on b.slot = s.name and b.status != 'Cancelled'
			where s.professional in %(professionals)s and s.status in ('Booked', 'Honoured', 'No-show')
			group by s.name, s.status having count(b.name) != 1 or max(b.status) != s.status""",
			demo_year,
		)
		assert wrong == ()
		assert not frappe.db.sql(
			"""select b.name from `tabSNP Booking` b join `tabSNP Slot` s on s.name = b.slot
			where b.professional in %(professionals)s and b.status != 'Cancelled' and s.status != b.status""",
			demo_year,
		)
		# A slot whose bookings were all cancelled ahead of time is offered again.
		assert not frappe.db.sql(
			"""select s.name from `tabSNP Slot` s where s.professional in %(professionals)s and s.status != 'Available'
			and exists (select 1 from `tabSNP Booking` b where b.slot = s.name)
			and not exists (select 1 from `tabSNP Booking` b where b.slot = s.name and b.status != 'Cancelled')""",
			demo_year,
		)
		assert not frappe.db.sql(
			"""select name from `tabSNP Booking` where professional in %(professionals)s and not (
			(status = 'Cancelled' and active_slot is null) or (status != 'Cancelled' and active_slot = slot))""",
			demo_year,
		)

		# Every booking of the telesecretariat has its call, received within 48 hours before the consultation.
		bookings = frappe.db.sql(
			"""select b.name, b.slot_start, b.requested_at, b.booked_by, c.name as call_name, c.booking,
			c.outcome, c.received_at, c.handled_by
			from `tabSNP Booking` b left join `tabSNP Call` c on c.name = b.call
			where b.professional in %(professionals)s
			and not (b.professional in %(founders)s and time(b.slot_start) in %(small_demo)s)""",
			{**demo_year, "small_demo": SMALL_DEMO_TIMES},
			as_dict=True,
		)
		assert len(bookings) > 1300
		for booking in bookings:
			assert booking.call_name and booking.booking == booking.name and booking.outcome == BOOKED
			assert booking.received_at == booking.requested_at and booking.handled_by == booking.booked_by
			assert timedelta(0) < booking.slot_start - booking.received_at <= timedelta(hours=48)
		assert not frappe.db.sql(
			"""select name from `tabSNP Call` where (outcome = %(booked)s) != (booking is not null)""",
			{"booked": BOOKED},
		)

	def test_derived_fields_and_names_follow_the_rules_of_the_app(self, demo_year):
		schedule = pdsa_schedule()
		professionals = {
			p.name: p
			for p in frappe.get_all(
				"SNP Professional",
				filters={"name": ["in", demo_year.professionals]},
				fields=["name", "full_name", "sector"],
			)
		}
		slots = frappe.get_all(
			"SNP Slot",
			filters={"professional": ["in", demo_year.professionals]},
			fields=[
				"name",
				"creation",
				"professional",
				"professional_name",
				"sector",
				"starts_at",
				"duration",
				"ends_at",
				"is_pdsa",
			],
			order_by="starts_at asc",
		)
		slots = [slot for slot in slots if not small_demo(demo_year, slot.professional, slot.starts_at)]
		assert sum(slot.is_pdsa for slot in slots) > 0
		for slot in slots:
			assert slot.is_pdsa == int(is_pdsa(slot.starts_at, schedule))
			assert slot.ends_at == slot_end(slot.starts_at, slot.duration)
			assert slot.professional_name == professionals[slot.professional].full_name
			assert slot.sector == professionals[slot.professional].sector
			assert re.fullmatch(r"CR-(\d{4})-\d{5,}", slot.name).group(1) == str(slot.creation.year)
		slots = {slot.name: slot for slot in slots}

		horizon, cap = booking_horizon_hours(), supplement_weekly_cap()
		bookings = frappe.get_all(
			"SNP Booking",
			filters={"professional": ["in", demo_year.professionals]},
			fields=["*"],
			order_by="requested_at asc, creation asc",
		)
		eligible = defaultdict(
			list
		)  # the doctor's week -> (requested at, cancelled at) of its eligible bookings
		for booking in bookings:
			if small_demo(demo_year, booking.professional, booking.slot_start):
				continue
			slot = slots[booking.slot]
			assert re.fullmatch(r"RDV-(\d{4})-\d{5,}", booking.name).group(1) == str(booking.creation.year)
			assert (booking.professional, booking.professional_name) == (
				slot.professional,
				slot.professional_name,
			)
			assert (booking.slot_start, booking.sector, booking.is_pdsa) == (
				slot.starts_at,
				slot.sector,
				slot.is_pdsa,
			)
			assert booking.is_snp == int(is_snp_booking(booking.requested_at, booking.slot_start, horizon))
			week = (booking.professional, week_bounds(booking.slot_start.date())[0])
			already = sum(
				1
				for made, cancelled in eligible[week]
				if made <= booking.requested_at and (cancelled is None or cancelled > booking.requested_at)
			)
			decision = supplement_decision(
				requested_at=booking.requested_at,
				consultation_start=booking.slot_start,
				is_pdsa=bool(booking.is_pdsa),
				patient_of_doctor=bool(booking.patient_of_doctor),
				regulated=bool(booking.regulated),
				already_this_week=already,
				cap=cap,
			)
			assert booking.supplement_eligible == int(decision.eligible), booking.name
			assert booking.supplement_note == supplement_note(decision, already, cap), booking.name
			if decision.eligible:
				eligible[week].append(
					(booking.requested_at, booking.modified if booking.status == "Cancelled" else None)
				)
		assert any(booking.supplement_eligible for booking in bookings)

		# Doctors withdraw their own slots 24 hours ahead at the latest; later, the coordination does.
		for start, withdrawn_at, by in frappe.db.sql(
			"""select s.starts_at, s.modified, s.modified_by from `tabSNP Slot` s join `tabSNP Professional` p
			on p.name = s.professional and p.user = s.modified_by
			where s.professional in %(professionals)s and s.status = 'Cancelled'""",
			demo_year,
		):
			assert can_withdraw_without_coordinator(start, withdrawn_at), by

		assert not frappe.db.sql(
			"select name from `tabSNP Call` where has_gp = 0 and gp_available is not null"
		)
		for name, creation in frappe.db.sql("select name, creation from `tabSNP Call`"):
			assert re.fullmatch(r"APP-(\d{4})-\d{6,}", name).group(1) == str(creation.year)

		# New documents still get names of their own after the year.
		professional = demo_year.professionals[0]
		new_slot = frappe.get_doc(
			{
				"doctype": "SNP Slot",
				"professional": professional,
				"starts_at": datetime.combine(demo_year.now.date() + timedelta(days=120), time(22, 30)),
				"duration": 20,
			}
		).insert()
		new_call = log_call({"caller_type": "Patient", "commune": "Rezé"}, "Advice given")
		assert new_slot.name not in slots and new_call.name.startswith("APP-")

	def test_loading_the_year_twice_adds_nothing(self, demo_year):
		doctypes = (
			"SNP Sector",
			"SNP Sector Neighbour",
			"SNP Professional",
			"SNP Availability Template",
			"SNP Absence",
			"SNP Slot",
			"SNP Booking",
			"SNP Call",
			"Email Queue",
		)
		before = {doctype: frappe.db.count(doctype) for doctype in doctypes}
		year.load_year(commit=False)
		assert {doctype: frappe.db.count(doctype) for doctype in doctypes} == before

	def test_every_slot_and_template_of_the_demo_year_is_at_a_place(self, demo_year):
		"""The SAS guide publishes a slot with its place's address: the demo's are all at a place."""
		from cpts_snp.services.places import label_of

		demo = frappe.get_all("SNP Professional", filters={"email": ["like", "%@cpts-demo.fr"]}, pluck="name")
		assert demo and not frappe.get_all(
			"SNP Professional", filters={"name": ["in", demo], "place": ["is", "not set"]}
		)
		for doctype in ("SNP Slot", "SNP Availability Template"):
			assert frappe.db.count(doctype, {"professional": ["in", demo]})
			assert not frappe.db.count(doctype, {"professional": ["in", demo], "place": ["is", "not set"]}), (
				doctype
			)
		slots = frappe.get_all(
			"SNP Slot", filters={"professional": ["in", demo]}, fields=["place", "location"], limit=50
		)
		assert all(slot.location == label_of(slot.place) for slot in slots)
		assert frappe.db.count("SNP Professional", {"name": ["in", demo], "sas_individual_sharing": 1}) == 2


def test_the_founders_templates_leave_the_small_demo_times_free():
	"""The small demo's loader publishes its week at fixed times: a template slot there would refuse them."""
	for rpps, templates in year.FOUNDER_TEMPLATES.items():
		for _weekdays, start, number, duration, _modality in templates:
			first = datetime.combine(date(2026, 1, 5), get_time(start))
			for i in range(number):
				begin = first + timedelta(minutes=i * duration)
				for small_demo in loader.SLOT_TIMES:
					other = datetime.combine(first.date(), small_demo)
					assert not overlaps(begin, slot_end(begin, duration), other, slot_end(other, 20)), rpps


def test_the_demo_territory_and_doctors_have_valid_unique_identifiers():
	insee = [row[1] for row in year.SECTORS]
	assert len(set(insee)) == len(insee) == 30
	assert all(is_valid_insee_code(code) and code.startswith("44") for code in insee)
	assert all(is_valid_postal_code(row[2]) and row[2].startswith("44") for row in year.SECTORS)
	names = {row[0] for row in year.SECTORS}
	assert {row[0] for row in loader.SECTORS} <= names
	assert set(year.BORDERS) | {n for others in year.BORDERS.values() for n in others} == names
	assert {row[3] for row in year.DOCTORS} <= names
	assert len(set(DEMO_RPPS)) == len(DEMO_RPPS) == 25 and all(is_valid_rpps(rpps) for rpps in DEMO_RPPS)


def test_the_whole_demo_loads_in_the_order_of_the_run_command():
	"""`make run` loads the small demo, the year, the finance, the partners and the interns one after the other:
	their doctors and identifiers must not collide."""
	from cpts_snp.demo import interns, partners

	loader.load()
	year.load_year(commit=False)
	loader.load_finance(commit=False)
	partners.load(commit=False)
	interns.load(commit=False)
	rpps = frappe.get_all("SNP Professional", pluck="rpps")
	assert len(rpps) == len(set(rpps))
	assert frappe.db.count("SNP Intern") >= 2
