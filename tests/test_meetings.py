"""Concertation meetings and working groups (issue 17 §4): the coordination confirms the attendance, the payment
runs pay each professional present duration × the scheme's rate per hour, once, and the doctors see their own
meetings in the portal, never the minutes.

Hand-computed payment (scheme of a year of its own, 40 € per hour of meeting, no cap):
  P: present at A (1.5 h, confirmed) and B (2 h, confirmed)  → 3.5 h = 140 €
  Q: absent at A                                             → nothing
  R: present at C (held, not confirmed)                      → nothing
  S: present at D (cancelled)                                → nothing
"""

import random
from datetime import date

import frappe
import pytest
from cpts_snp.exceptions import MeetingError
from cpts_snp.services import meetings
from cpts_snp.services.payment_run import compute_run, release_items
from cpts_snp.tests.factories import as_user, make_professional, make_user
from cpts_snp.tests.http import server_messages
from frappe.utils import add_days, today

IBANS = ["FR7630006000011234567890189", "FR1420041010050500013M02606"]
RATE = 40


def meeting(day, participants, status="Planned", duration=1.5, **values):
	return frappe.get_doc(
		{
			"doctype": "SNP Meeting",
			"meeting_type": "Complex case concertation",
			"title": "Concertation " + frappe.generate_hash(length=6),
			"meeting_date": day,
			"start_time": "18:00:00",
			"duration_hours": duration,
			"status": status,
			"participants": participants,
			**values,
		}
	).insert()


def present(professional, is_present=1):
	return {"kind": "Professional", "professional": professional, "present": is_present}


def coordinator():
	return make_user(["Coordinateur CPTS"], desk_user=True)


def confirmed(day, participants, **values):
	"""A held meeting whose attendance the coordination (here Administrator) confirmed."""
	doc = meeting(day, participants, status="Held", **values)
	meetings.confirm_attendance(doc.name)
	return frappe.get_doc("SNP Meeting", doc.name)


@pytest.fixture
def year():
	"""A year of its own (no other test pays in it), with a scheme paying 40 € per hour of meeting."""
	for _attempt in range(20):
		year = random.randint(1975, 2005)
		if not frappe.db.exists(
			"SNP Indemnity Scheme", {"valid_from": ["between", [f"{year - 1}-01-01", f"{year}-12-31"]]}
		):
			break
	frappe.get_doc(
		{
			"doctype": "SNP Indemnity Scheme",
			"scheme_name": f"Test barème réunions {year}",
			"valid_from": f"{year}-01-01",
			"meeting_rate_per_hour": RATE,
		}
	).insert()
	return year


def run_of(start, end):
	run = frappe.get_doc({"doctype": "SNP Payment Run", "period_start": start, "period_end": end}).insert()
	compute_run(run)
	return run


def meeting_lines(run, professional):
	return [
		(line.item_type, line.item_name, line.quantity, line.rate, line.amount)
		for line in frappe.get_all(
			"SNP Indemnity Payment Line",
			filters={"parent": f"{run.name}-{professional}", "item_type": meetings.ITEM_TYPE},
			fields=["item_type", "item_name", "quantity", "rate", "amount"],
			order_by="item_date, item_name",
		)
	]


# --- the meeting's own rules ---------------------------------------------------------------------------------
def test_the_duration_of_a_meeting_is_more_than_0_and_at_most_12_hours():
	professional = make_professional().name
	for hours in (0, -1, 12.5):
		with pytest.raises(MeetingError):
			meeting(today(), [present(professional)], duration=hours)
	assert meeting(today(), [present(professional)], duration=12).duration_hours == 12


def test_participants_are_a_professional_once_a_partners_person_with_a_partner_or_someone_named():
	professional = make_professional().name
	with pytest.raises(MeetingError):
		meeting(today(), [present(professional), present(professional, 0)])
	with pytest.raises(MeetingError):
		meeting(today(), [{"kind": "Professional"}])
	with pytest.raises(MeetingError):
		meeting(today(), [{"kind": "Partner staff", "person_name": "Dr Urgences"}])
	with pytest.raises(MeetingError):
		meeting(today(), [{"kind": "Other"}])
	with pytest.raises(MeetingError):  # a professional of the CPTS is listed as one (or he would not be paid)
		meeting(today(), [{"kind": "Other", "professional": professional, "person_name": "X"}])
	doc = meeting(today(), [present(professional), {"kind": "Other", "person_name": "Assistante sociale"}])
	assert doc.participants[0].person_name == frappe.db.get_value(
		"SNP Professional", professional, "full_name"
	)


# --- confirmation of the attendance --------------------------------------------------------------------------
def test_the_coordination_confirms_the_attendance_and_the_server_records_who_and_when():
	professional = make_professional().name
	doc = meeting(add_days(today(), -1), [present(professional)])
	user = coordinator()
	with as_user(user):
		meetings.confirm_attendance(doc.name)
	doc.reload()
	assert doc.status == meetings.CONFIRMED
	assert doc.confirmed_by == user and doc.confirmed_on
	with as_user(user), pytest.raises(MeetingError):
		meetings.confirm_attendance(doc.name)  # once


def test_the_status_confirmed_and_its_confirmer_are_never_set_by_hand():
	professional = make_professional().name
	doc = meeting(add_days(today(), -1), [present(professional)])
	with as_user(coordinator()):
		doc = frappe.get_doc("SNP Meeting", doc.name)
		doc.status = meetings.CONFIRMED
		with pytest.raises(MeetingError):
			doc.save()
		doc = frappe.get_doc("SNP Meeting", doc.name)
		doc.confirmed_by = "Administrator"
		with pytest.raises(frappe.PermissionError):
			doc.save()
	with pytest.raises(MeetingError):  # not even at creation
		meeting(add_days(today(), -1), [present(professional)], status=meetings.CONFIRMED)


def test_a_meeting_to_come_or_cancelled_has_no_attendance_to_confirm():
	professional = make_professional().name
	to_come = meeting(add_days(today(), 3), [present(professional)])
	cancelled = meeting(add_days(today(), -3), [present(professional)], status="Cancelled")
	with as_user(coordinator()):
		for doc in (to_come, cancelled):
			with pytest.raises(MeetingError):
				meetings.confirm_attendance(doc.name)


@pytest.fixture
def committed_meeting(committed):
	"""A past meeting of doctors A (present) and B (absent), with minutes, committed for HTTP."""
	user_a, pro_a = committed.doctor()
	user_b, pro_b = committed.doctor()
	doc = meeting(
		add_days(today(), -2),
		[
			present(pro_a),
			present(pro_b, 0),
			{"kind": "Other", "person_name": "Assistante sociale", "present": 1},
		],
		status="Held",
		minutes="<p>Situation de Mme Secretissime</p>",
		decisions="Orienter vers l'HAD",
	)
	frappe.db.commit()
	yield frappe._dict(name=doc.name, user_a=user_a, pro_a=pro_a, user_b=user_b, pro_b=pro_b)
	frappe.db.rollback()
	frappe.db.delete("SNP Meeting Participant", {"parent": doc.name})
	frappe.db.delete("SNP Meeting", doc.name)
	frappe.db.commit()


def confirm_over_http(session, server, name):
	return session.post(
		f"{server}/api/method/cpts_snp.api.meetings.confirm_attendance", data={"meeting": name}
	)


def test_only_the_coordination_confirms_the_attendance_and_a_refusal_writes_nothing(
	server, http_login, committed, committed_meeting
):
	refused = {
		"télésecrétaire": committed.user(["Télésecrétaire"]),
		"comptable": committed.user(["Comptable CPTS"]),
		"trésorier": committed.user(["Trésorier CPTS"]),
		"partenaire": committed.user(["Partenaire SNP"]),
		"médecin": committed_meeting.user_a,
	}
	user = committed.user(["Coordinateur CPTS"])
	frappe.db.commit()
	for who, refused_user in refused.items():
		response = confirm_over_http(http_login(refused_user), server, committed_meeting.name)
		assert response.status_code == 403, (who, response.status_code, response.text[:300])
		frappe.db.rollback()
		stored = frappe.db.get_value(
			"SNP Meeting", committed_meeting.name, ["status", "confirmed_by"], as_dict=True
		)
		assert (stored.status, stored.confirmed_by) == ("Held", None), who
	response = confirm_over_http(http_login(user), server, committed_meeting.name)
	assert response.ok, response.text[:500]
	frappe.db.rollback()
	stored = frappe.db.get_value(
		"SNP Meeting", committed_meeting.name, ["status", "confirmed_by"], as_dict=True
	)
	assert (stored.status, stored.confirmed_by) == (meetings.CONFIRMED, user)


def test_once_confirmed_the_attendance_cannot_change_by_any_path(
	server, http_login, committed, committed_meeting
):
	"""Even the coordination (the only one who writes meetings) changes neither the participants, their presence,
	the date nor the duration of a confirmed meeting: REST on the meeting and on a participant row,
	frappe.client.set_value, deletion; the minutes are still written."""
	user = committed.user(["Coordinateur CPTS"])
	frappe.db.commit()
	session = http_login(user)
	assert confirm_over_http(session, server, committed_meeting.name).ok
	frappe.db.rollback()
	rows = {
		row.professional or row.person_name: row.name
		for row in frappe.get_doc("SNP Meeting", committed_meeting.name).participants
	}
	absent_row, present_row = rows[committed_meeting.pro_b], rows[committed_meeting.pro_a]

	def stored():
		frappe.db.rollback()
		doc = frappe.get_doc("SNP Meeting", committed_meeting.name)
		return (
			str(doc.meeting_date),
			doc.duration_hours,
			sorted((r.professional or "", r.person_name, r.present) for r in doc.participants),
		)

	before = stored()
	api = f"{server}/api/resource"
	set_value = f"{server}/api/method/frappe.client.set_value"
	attempts = {
		"PUT row present": session.put(f"{api}/SNP Meeting Participant/{absent_row}", json={"present": 1}),
		"PUT meeting duration": session.put(
			f"{api}/SNP Meeting/{committed_meeting.name}", json={"duration_hours": 8}
		),
		"PUT meeting rows": session.put(
			f"{api}/SNP Meeting/{committed_meeting.name}",
			json={
				"participants": [
					{"kind": "Professional", "professional": committed_meeting.pro_b, "present": 1}
				]
			},
		),
		"set_value row": session.post(
			set_value,
			data={
				"doctype": "SNP Meeting Participant",
				"name": absent_row,
				"fieldname": "present",
				"value": 1,
			},
		),
		"set_value row professional": session.post(
			set_value,
			data={
				"doctype": "SNP Meeting Participant",
				"name": present_row,
				"fieldname": "professional",
				"value": committed_meeting.pro_b,
			},
		),
		"set_value date": session.post(
			set_value,
			data={
				"doctype": "SNP Meeting",
				"name": committed_meeting.name,
				"fieldname": "meeting_date",
				"value": str(add_days(today(), -20)),
			},
		),
		"set_value status": session.post(
			set_value,
			data={
				"doctype": "SNP Meeting",
				"name": committed_meeting.name,
				"fieldname": "status",
				"value": "Held",
			},
		),
		"insert row": session.post(
			f"{server}/api/method/frappe.client.insert",
			json={
				"doc": {
					"doctype": "SNP Meeting Participant",
					"parent": committed_meeting.name,
					"parenttype": "SNP Meeting",
					"parentfield": "participants",
					"kind": "Other",
					"person_name": "Intrus",
					"present": 1,
				}
			},
		),
		"DELETE row": session.delete(f"{api}/SNP Meeting Participant/{absent_row}"),
		"DELETE meeting": session.delete(f"{api}/SNP Meeting/{committed_meeting.name}"),
	}
	for what, response in attempts.items():
		assert 400 <= response.status_code < 500, (what, response.status_code, response.text[:300])
		assert stored() == before, what
	assert "ne peuvent plus changer" in server_messages(attempts["PUT row present"])
	response = session.put(
		f"{api}/SNP Meeting/{committed_meeting.name}", json={"decisions": "Revoir en janvier"}
	)
	assert response.ok, response.text[:300]
	assert stored() == before
	assert frappe.db.get_value("SNP Meeting", committed_meeting.name, "decisions") == "Revoir en janvier"


def test_the_minutes_are_the_coordinations_the_finance_reads_the_rest_the_others_nothing(
	server, http_login, committed, committed_meeting
):
	coordination = committed.user(["Coordinateur CPTS"])
	accountant = committed.user(["Comptable CPTS"])
	telesecretary = committed.user(["Télésecrétaire"])
	frappe.db.commit()
	url = f"{server}/api/resource/SNP Meeting/{committed_meeting.name}"
	full = http_login(coordination).get(url).json()["data"]
	assert "Secretissime" in full["minutes"] and full["decisions"]
	finance = http_login(accountant).get(url)
	assert finance.ok and finance.json()["data"]["duration_hours"] == 1.5
	assert "Secretissime" not in finance.text and "HAD" not in finance.text
	listed = http_login(accountant).get(
		f"{server}/api/resource/SNP Meeting",
		params={"fields": '["name", "minutes", "decisions"]', "limit_page_length": 0},
	)
	assert "Secretissime" not in listed.text and "HAD" not in listed.text
	for user in (telesecretary, committed_meeting.user_a):
		session = http_login(user)
		assert session.get(url).status_code == 403
		rows = session.get(f"{server}/api/resource/SNP Meeting", params={"limit_page_length": 0})
		assert committed_meeting.name not in rows.text and "Secretissime" not in rows.text


# --- payment ---------------------------------------------------------------------------------------------------
def test_a_run_pays_the_confirmed_present_professionals_duration_times_the_rate_per_hour(year):
	p, q, r, s = (make_professional(iban=IBANS[i % 2]).name for i in range(4))
	a = confirmed(
		date(year, 3, 5),
		[present(p), present(q, 0), {"kind": "Other", "person_name": "Infirmière", "present": 1}],
	)
	b = confirmed(date(year, 3, 19), [present(p)], duration=2)
	meeting(date(year, 3, 12), [present(r)], status="Held")
	meeting(date(year, 3, 13), [present(s)], status="Cancelled")
	confirmed(date(year, 4, 2), [present(p)])  # after the period

	run = run_of(f"{year}-03-01", f"{year}-03-31")
	amounts = dict(
		frappe.get_all(
			"SNP Indemnity Payment",
			filters={"run": run.name, "professional": ["in", [p, q, r, s]]},
			fields=["professional", "amount"],
			as_list=True,
		)
	)
	assert amounts == {p: 140}
	assert meeting_lines(run, p) == [
		(meetings.ITEM_TYPE, f"{a.name}/{p}", 1.5, RATE, 60),
		(meetings.ITEM_TYPE, f"{b.name}/{p}", 2, RATE, 80),
	]
	assert sorted(
		frappe.get_all("SNP Paid Item", {"run": run.name, "professional": p}, pluck="name")
	) == sorted([meetings.item_key(a.name, p), meetings.item_key(b.name, p)])
	frappe.local.lang = "fr"
	assert frappe._(meetings.ITEM_TYPE) == "Réunion"


def test_an_attendance_is_paid_once_across_overlapping_runs_and_recomputes(year):
	p = make_professional(iban=IBANS[0]).name
	a = confirmed(date(year, 3, 5), [present(p)], duration=2)
	first = run_of(f"{year}-03-01", f"{year}-03-31")
	assert meeting_lines(first, p) == [(meetings.ITEM_TYPE, f"{a.name}/{p}", 2, RATE, 80)]

	compute_run(first)  # computed again: the same attendance, once
	assert meeting_lines(first, p) == [(meetings.ITEM_TYPE, f"{a.name}/{p}", 2, RATE, 80)]
	assert frappe.db.count("SNP Paid Item", {"name": meetings.item_key(a.name, p)}) == 1

	second = run_of(f"{year}-02-15", f"{year}-03-15")  # overlaps the first
	assert meeting_lines(second, p) == []
	assert not frappe.db.exists("SNP Indemnity Payment", {"run": second.name, "professional": p})

	# a run released (cancelled) gives its items back: the next computation pays them, still once
	release_items(first.name)
	compute_run(second)
	assert meeting_lines(second, p) == [(meetings.ITEM_TYPE, f"{a.name}/{p}", 2, RATE, 80)]


def test_a_paid_attendance_cannot_be_reopened_nor_its_meeting_deleted(year):
	p = make_professional(iban=IBANS[0]).name
	a = confirmed(date(year, 3, 5), [present(p)])
	run = run_of(f"{year}-03-01", f"{year}-03-31")
	user = coordinator()
	with as_user(user):
		with pytest.raises(MeetingError, match=run.name):
			meetings.reopen_attendance(a.name)
		with pytest.raises(MeetingError):
			frappe.delete_doc("SNP Meeting", a.name)
		doc = frappe.get_doc("SNP Meeting", a.name)
		doc.participants[0].present = 0
		with pytest.raises(MeetingError):
			doc.save()
	assert frappe.db.get_value("SNP Meeting", a.name, "status") == meetings.CONFIRMED

	# not yet in a run: the coordination reopens it, corrects it and confirms it again
	release_items(run.name)
	with as_user(user):
		meetings.reopen_attendance(a.name)
		doc = frappe.get_doc("SNP Meeting", a.name)
		assert (doc.status, doc.confirmed_by) == (meetings.HELD, None)
		doc.duration_hours = 3
		doc.save()
		meetings.confirm_attendance(a.name)
	compute_run(run)
	assert meeting_lines(run, p) == [(meetings.ITEM_TYPE, f"{a.name}/{p}", 3, RATE, 120)]


# --- the doctors' portal -------------------------------------------------------------------------------------------
def test_the_portal_shows_the_run_paying_an_attendance(year):
	p = make_professional(iban=IBANS[0]).name
	a = confirmed(date(year, 3, 5), [present(p)])
	b = confirmed(date(year, 3, 6), [present(p, 0)])
	run = run_of(f"{year}-03-01", f"{year}-03-31")
	rows = {row.name: row for row in meetings.my_meetings(p, since=date(year, 1, 1))}
	assert rows[a.name].attendance == "Présent" and rows[a.name].run == run.name
	assert rows[a.name].payment == f"Dans le versement {run.name} (Calculé)"
	assert rows[b.name].attendance == "Absent" and not rows[b.name].payment


def test_the_portal_lists_the_doctors_own_meetings_and_never_the_minutes(server, http_login, committed):
	user_a, pro_a = committed.doctor()
	user_b, pro_b = committed.doctor()
	title_markup = "Groupe <b>soins</b> non programmés"
	past = confirmed(
		add_days(today(), -5),
		[present(pro_a), present(pro_b, 0)],
		title=title_markup,
		minutes="<p>Cas de M. Confidentialissime</p>",
	)
	to_come = meeting(
		add_days(today(), 10),
		[present(pro_a, 0)],
		meeting_type="Working group",
		title="Groupe de travail à venir",
	)
	others = meeting(
		add_days(today(), 4), [present(pro_b)], meeting_type="Training", title="Formation du docteur B"
	)
	frappe.db.commit()
	try:
		page_a = http_login(user_a).get(f"{server}/snp/reunions")
		assert page_a.status_code == 200
		text = page_a.text
		assert "Mes réunions" in text and "Réunions à venir" in text
		assert "Groupe de travail à venir" in text and "Groupe de travail" in text
		assert "Groupe &lt;b&gt;soins&lt;/b&gt; non programmés" in text and "<b>soins</b>" not in text
		assert "Concertation sur cas complexes" in text and "Présent" in text and "1,5 h" in text
		assert "Formation du docteur B" not in text and others.name not in text
		assert "Confidentialissime" not in text
		page_b = http_login(user_b).get(f"{server}/snp/reunions").text
		assert "Formation du docteur B" in page_b and "Groupe de travail à venir" not in page_b
		assert "Absent" in page_b and "Confidentialissime" not in page_b
		assert 'href="/snp/reunions"' in http_login(user_a).get(f"{server}/snp").text
	finally:
		frappe.db.rollback()
		names = [past.name, to_come.name, others.name]
		frappe.db.delete("SNP Meeting Participant", {"parent": ["in", names]})
		frappe.db.delete("SNP Meeting", {"name": ["in", names]})
		frappe.db.commit()


# --- desk ----------------------------------------------------------------------------------------------------------
def test_the_coordinations_and_the_finances_workspaces_link_the_meetings():
	for workspace in ("Soins non programmés", "Comptabilité SNP"):
		links = {link.link_to for link in frappe.get_doc("Workspace", workspace).links if link.type == "Link"}
		assert "SNP Meeting" in links, workspace
	readers = {p.role for p in frappe.get_meta("SNP Meeting").permissions if p.read and not p.permlevel}
	assert readers == {"System Manager", "Coordinateur CPTS", "Comptable CPTS", "Trésorier CPTS"}
	minutes = {p.role for p in frappe.get_meta("SNP Meeting").permissions if p.read and p.permlevel == 1}
	assert minutes == {"System Manager", "Coordinateur CPTS"}
