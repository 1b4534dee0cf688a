"""Demo of issue 6: two SASPAS interns with their maîtres de stage, supervision shifts, two written protocols, a
few intern slots, and a month of teleconsultation permanences (one hour every evening, 18-19 h; Sundays left
uncovered so the coverage report has something to show). Idempotent: running it again only adds what is missing.

    bench --site cpts.localhost execute cpts_snp.demo.interns.load
"""

from datetime import datetime, time, timedelta

import frappe
from frappe.utils import add_days, getdate, now_datetime, today

from cpts_snp.demo.loader import DEMO_LATE_REASON, ensure_professional, ensure_user

# supervisors (by RPPS of the demo doctors): Dr Martin, Dr Bernard, Dr Dubois
SUPERVISORS = ["10003456781", "10003456782", "10003456783"]

# email, first name, last name, RPPS, sector, faculty, supervisors (indexes in SUPERVISORS)
INTERNS = [
	(
		"interne.lambert@cpts-demo.fr",
		"Inès",
		"Lambert",
		"10003456901",
		"Rezé",
		"Université de Nantes",
		(0, 1),
	),
	("interne.girard@cpts-demo.fr", "Hugo", "Girard", "10003456902", "Vertou", "Université de Nantes", (2,)),
]

PROTOCOLS = [
	(
		"Fièvre de l'adulte sans signe de gravité",
		"<p>Rechercher les signes de gravité (purpura, raideur de nuque, confusion, SpO2 &lt; 94 %). En leur "
		"présence : appeler le maître de stage puis le 15. Sinon : examen clinique orienté, paracétamol, "
		"réévaluation à 48 h, débriefing avec le maître de stage dans la journée.</p>",
	),
	(
		"Infection urinaire basse de la femme",
		"<p>Bandelette urinaire ; cystite simple : fosfomycine-trométamol dose unique. Cystite à risque de "
		"complication, homme, grossesse ou fièvre : avis du maître de stage avant toute prescription.</p>",
	),
]

SHIFTS = [(time(8, 30), time(12, 30)), (time(13, 30), time(19, 0))]
PERMANENCE = (time(18), time(19))


def load(commit: bool = True, on=None):
	"""Load the demo around the day `on` (today by default: the demo's weeks roll with the calendar)."""
	frappe.flags.mute_emails = True
	on = getdate(on or today())
	supervisors = []
	for rpps in SUPERVISORS:
		name = frappe.db.get_value("SNP Professional", {"rpps": rpps})
		if name:
			frappe.db.set_value("SNP Professional", name, "is_supervisor", 1, update_modified=False)
			supervisors.append(name)
	if len(supervisors) < len(SUPERVISORS):
		return  # the demo doctors come from cpts_snp.demo.loader.load
	protocols = [ensure_protocol(title, body) for title, body in PROTOCOLS]
	first_day = getdate(add_days(on, -28))
	for email, first, last, rpps, sector, faculty, chosen in INTERNS:
		ensure_user(email, first, last, ["Interne SNP", "Médecin SNP"], False)
		professional = ensure_professional(last, first, rpps, "SASPAS intern", sector, email)
		mine = [supervisors[i] for i in chosen]
		ensure_intern(professional, first, last, email, faculty, mine, on)
		ensure_shifts(mine, first_day, 56)
		ensure_intern_slots(professional, protocols, on)
	ensure_permanences(supervisors + active_doctors(), 31, on)
	if commit:
		frappe.db.commit()


def ensure_protocol(title, body):
	name = frappe.db.get_value("SNP Protocol", {"title": title, "version": 1})
	if name:
		return name
	return (
		frappe.get_doc(
			{
				"doctype": "SNP Protocol",
				"title": title,
				"version": 1,
				"valid_from": "2026-01-01",
				"body": body,
			}
		)
		.insert()
		.name
	)


def ensure_intern(professional, first, last, email, faculty, supervisors, on):
	if frappe.db.exists("SNP Intern", {"professional": professional}):
		return
	semester_start = on.replace(day=1) - timedelta(days=60)
	frappe.get_doc(
		{
			"doctype": "SNP Intern",
			"first_name": first,
			"last_name": last,
			"email": email,
			"professional": professional,
			"faculty": faculty,
			"semester_start": semester_start,
			"semester_end": semester_start + timedelta(days=182),
			"supervisors": [{"supervisor": s} for s in supervisors],
		}
	).insert()


def ensure_shifts(supervisors, first_day, days):
	"""Each supervisor reachable on weekdays, the first one mornings and afternoons, the others afternoons."""
	for index, supervisor in enumerate(supervisors):
		for offset in range(days):
			day = first_day + timedelta(days=offset)
			if day.weekday() >= 5:
				continue
			for start, end in SHIFTS if index == 0 else SHIFTS[1:]:
				starts_at = datetime.combine(day, start)
				if frappe.db.exists(
					"SNP Supervision Shift", {"supervisor": supervisor, "starts_at": starts_at}
				):
					continue
				frappe.get_doc(
					{
						"doctype": "SNP Supervision Shift",
						"supervisor": supervisor,
						"starts_at": starts_at,
						"ends_at": datetime.combine(day, end),
						# the past weeks of the demo are declared by the coordination, after the fact
						"late_declaration_reason": DEMO_LATE_REASON if starts_at <= now_datetime() else None,
					}
				).insert()


def ensure_intern_slots(professional, protocols, on):
	"""Two afternoon slots a day on the coming weekdays (within the supervisors' shifts)."""
	for offset in range(1, 8):
		day = getdate(add_days(on, offset))
		if day.weekday() >= 5:
			continue
		for start in (time(14, 0), time(16, 0)):
			starts_at = datetime.combine(day, start)
			if frappe.db.exists("SNP Slot", {"professional": professional, "starts_at": starts_at}):
				continue
			frappe.get_doc(
				{"doctype": "SNP Slot", "professional": professional, "starts_at": starts_at, "duration": 30}
			).insert()


def active_doctors():
	return frappe.get_all(
		"SNP Professional",
		filters={"active": 1, "profession": "General practitioner", "is_supervisor": 0},
		pluck="name",
		order_by="name",
		limit=4,
	)


def ensure_permanences(doctors, days, on):
	"""One hour of teleconsultation every evening of the coming month but Sundays, doctors taking turns."""
	first_day = on
	for offset in range(days):
		day = first_day + timedelta(days=offset)
		if day.weekday() == 6:
			continue
		starts_at = datetime.combine(day, PERMANENCE[0])
		if frappe.db.exists("SNP Permanence", {"starts_at": starts_at}):
			continue
		frappe.get_doc(
			{
				"doctype": "SNP Permanence",
				"organisation_type": "CPTS",
				"organisation_name": "CPTS Sud-Loire",
				"starts_at": starts_at,
				"ends_at": datetime.combine(day, PERMANENCE[1]),
				"professional": doctors[offset % len(doctors)],
				"teleconsultation_link": "https://teleconsultation.cpts-demo.fr/permanence",
			}
		).insert()
