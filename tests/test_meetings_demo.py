"""The demo meetings load on the demo doctors and partners (working groups, a training, concertations, one to
come), their attendance confirmed once held, the demo scheme pays an hour of meeting; loading again adds nothing."""

import frappe
from cpts_snp.demo import loader, meetings, partners
from frappe.utils import today


def test_the_meetings_demo_loads_confirmed_and_paid_by_the_scheme_and_is_idempotent():
	loader.load()
	loader.load_finance(commit=False)
	partners.load(commit=False)
	meetings.load(commit=False)
	titles = [m[0] for m in meetings.MEETINGS]
	loaded = frappe.get_all(
		"SNP Meeting", {"title": ["in", titles]}, ["name", "status", "meeting_date", "confirmed_by"]
	)
	assert len(loaded) == len(titles)
	for meeting in loaded:
		if str(meeting.meeting_date) < today():
			assert meeting.status == "Attendance confirmed" and meeting.confirmed_by
		else:
			assert meeting.status == "Planned"
	# the SAS 44 regulator sits in a concertation as the partner's staff
	assert frappe.db.exists(
		"SNP Meeting Participant", {"kind": "Partner staff", "partner": ["like", "SAS 44%"]}
	)
	scheme = frappe.db.get_value(
		"SNP Indemnity Scheme", {"valid_from": ["<=", today()]}, "name", order_by="valid_from desc"
	)
	assert frappe.db.get_value("SNP Indemnity Scheme", scheme, "meeting_rate_per_hour") > 0
	counts = (frappe.db.count("SNP Meeting"), frappe.db.count("SNP Meeting Participant"))
	meetings.load(commit=False)
	assert (frappe.db.count("SNP Meeting"), frappe.db.count("SNP Meeting Participant")) == counts
