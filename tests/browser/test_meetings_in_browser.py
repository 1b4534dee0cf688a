"""In the desk: the coordinator opens a meeting that was held, confirms its attendance with « Confirmer les
présences » (its status and colour change, « Rouvrir les présences » appears), and the list shows the status."""

import frappe
from cpts_snp.tests.factories import TEST_PASSWORD
from frappe.utils import add_days, today

from .conftest import screenshot


def test_the_coordinator_confirms_the_attendance_of_a_held_meeting_in_the_desk(server, desk_login, committed):
	coordinator = committed.user(["Coordinateur CPTS"])
	present, absent = committed.professional(), committed.professional()
	meeting = frappe.get_doc(
		{
			"doctype": "SNP Meeting",
			"meeting_type": "Working group",
			"title": "Groupe de travail parcours diabète",
			"meeting_date": add_days(today(), -1),
			"start_time": "19:00:00",
			"duration_hours": 2,
			"status": "Held",
			"participants": [
				{"kind": "Professional", "professional": present, "present": 1},
				{"kind": "Professional", "professional": absent, "present": 0},
			],
		}
	).insert()
	frappe.db.commit()
	try:
		page = desk_login(coordinator, TEST_PASSWORD)
		page.goto(f"{server}/app/snp-meeting/{meeting.name}")
		page.locator(".page-head:visible .indicator-pill", has_text="Tenue").wait_for()
		page.get_by_role("button", name="Confirmer les présences").click()
		page.locator(".modal.show", has_text="1 participants présents").wait_for()
		page.locator(".modal.show .btn-primary").click()
		page.locator(".page-head:visible .indicator-pill", has_text="Présences confirmées").wait_for()
		page.get_by_role("button", name="Rouvrir les présences").wait_for()
		screenshot(page, "meeting-attendance-confirmed")
		frappe.db.rollback()
		stored = frappe.db.get_value("SNP Meeting", meeting.name, ["status", "confirmed_by"], as_dict=True)
		assert (stored.status, stored.confirmed_by) == ("Attendance confirmed", coordinator)

		page.goto(f"{server}/app/snp-meeting")
		page.locator(".list-row-container", has_text="Groupe de travail parcours diabète").locator(
			".indicator-pill", has_text="Présences confirmées"
		).first.wait_for()
	finally:
		frappe.db.rollback()
		frappe.db.delete("SNP Meeting Participant", {"parent": meeting.name})
		frappe.db.delete("SNP Meeting", meeting.name)
		frappe.db.commit()
