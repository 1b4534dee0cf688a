"""An intern (role Interne SNP, a website user like the doctors) reaches the doctors' portal on his own
SNP Professional, and only his own data through the REST API; his supervisor reads his intern's record."""

from datetime import timedelta

import frappe
from cpts_snp.interns.factories import INTERN_ROLES, make_intern, make_shift, make_supervisor
from cpts_snp.tests.factories import future_start, make_slot


def test_an_intern_uses_the_portal_and_the_api_on_his_own_data_only(server, http_login, committed):
	supervisor_user = committed.user(["Médecin SNP"], desk_user=False)
	supervisor = make_supervisor(user=supervisor_user)
	committed.professionals.append(supervisor)
	other_supervisor = committed.professional()
	frappe.db.set_value("SNP Professional", other_supervisor, "is_supervisor", 1)
	interns = []
	for chosen in (supervisor, other_supervisor):
		user = committed.user(list(INTERN_ROLES), desk_user=False)
		intern = make_intern([chosen], user=user)
		committed.professionals.append(intern.professional)
		interns.append(frappe._dict(user=user, name=intern.name, professional=intern.professional))
	start = future_start(days=10, hour=10)
	shifts = [make_shift(s, start - timedelta(hours=1), start + timedelta(hours=2)).name for s in (supervisor, other_supervisor)]
	slots = [make_slot(i.professional, start, 20).name for i in interns]
	frappe.db.commit()
	try:
		session = http_login(interns[0].user)
		page = session.get(server + "/snp/creneaux", params={"week": str(start.date())})
		assert page.status_code == 200 and "Mes créneaux" in page.text
		listed = session.get(f"{server}/api/resource/SNP Slot", params={"limit_page_length": 100}).json()["data"]
		assert [s["name"] for s in listed] == [slots[0]]
		assert session.get(f"{server}/api/resource/SNP Intern/{interns[1].name}").status_code == 403
		assert session.get(f"{server}/api/resource/SNP Intern/{interns[0].name}").ok

		boss = http_login(supervisor_user)
		mine = boss.get(f"{server}/api/resource/SNP Intern").json()["data"]
		assert [i["name"] for i in mine] == [interns[0].name]
		assert boss.get(f"{server}/api/resource/SNP Intern/{interns[1].name}").status_code == 403
	finally:
		frappe.db.rollback()
		frappe.db.delete("SNP Supervision Shift", {"name": ["in", shifts]})
		for intern in interns:
			frappe.db.delete("SNP Intern Supervisor", {"parent": intern.name})
			frappe.db.delete("SNP Intern", intern.name)
		frappe.db.commit()
