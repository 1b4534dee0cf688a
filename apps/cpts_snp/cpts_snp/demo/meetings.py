"""Demo of issue 17 §4: the meetings of a CPTS year — the two working groups that wrote the SNP charter, a
training on the telesecretariat's protocols, concertations on complex cases with the territory's partners (one to
come) — and the demo scheme's rate per hour of meeting, so the next payment run pays the confirmed attendances.
Idempotent (a meeting is known by its title): running it again adds nothing.

    bench --site cpts.localhost execute cpts_snp.demo.meetings.load
"""

import frappe
from frappe.utils import add_days, getdate, today

from cpts_snp.services import meetings

RATE_PER_HOUR = 40
# RPPS of the demo doctors (cpts_snp.demo.loader.PROFESSIONALS)
MARTIN, BERNARD, DUBOIS = "10003456781", "10003456782", "10003456783"

# title, type, days from today, start, duration (h), place, professionals present / absent, other people
# (name, function, partner), minutes, decisions
MEETINGS = [
	(
		"Groupe de travail « Charte SNP » — séance 1",
		"Working group",
		-300,
		"20:00:00",
		2,
		"Maison de santé de Rezé",
		((MARTIN, 1), (BERNARD, 1), (DUBOIS, 0)),
		(),
		"<p>Principes du service : consultation sous 24 à 48 h, créneaux dédiés publiés dans l'agenda partagé, "
		"régulation par le télésecrétariat ou le SAS.</p>",
		"Rédaction d'un projet de charte pour la séance 2.",
	),
	(
		"Groupe de travail « Charte SNP » — séance 2",
		"Working group",
		-270,
		"20:00:00",
		2,
		"Maison de santé de Rezé",
		((MARTIN, 1), (BERNARD, 1), (DUBOIS, 1)),
		(),
		"<p>Relecture du projet ; indemnisation des créneaux et des consultations selon le barème de la CPTS.</p>",
		"Charte adoptée, diffusée aux adhérents.",
	),
	(
		"Formation aux protocoles du télésecrétariat",
		"Training",
		-120,
		"13:00:00",
		1.5,
		"Visioconférence",
		((BERNARD, 1), (DUBOIS, 1)),
		(("Claire Rousseau", "Télésecrétaire", None),),
		"<p>Présentation des protocoles de priorisation et des motifs orientés vers le 15.</p>",
		"",
	),
	(
		"Concertation — personne âgée isolée à domicile",
		"Complex case concertation",
		-30,
		"18:00:00",
		1,
		"CLIC du Sud-Loire",
		((MARTIN, 1), (DUBOIS, 1)),
		(("Anne Moreau", "Coordinatrice CLIC", None), ("Julien Petit", "Médecin régulateur", "SAS 44")),
		"<p>Situation présentée par le médecin traitant : perte d'autonomie, aidant épuisé, deux passages aux "
		"urgences en un mois.</p>",
		"Évaluation à domicile par le CLIC ; rendez-vous SNP réservés en priorité ; point à un mois.",
	),
	(
		"Concertation — suivi à un mois",
		"Complex case concertation",
		10,
		"18:00:00",
		1,
		"CLIC du Sud-Loire",
		((MARTIN, 1), (DUBOIS, 1)),
		(("Anne Moreau", "Coordinatrice CLIC", None),),
		"",
		"",
	),
]


def load(commit: bool = True):
	scheme = frappe.db.get_value(
		"SNP Indemnity Scheme", {"valid_from": ["<=", today()]}, "name", order_by="valid_from desc"
	)
	if scheme and not frappe.db.get_value("SNP Indemnity Scheme", scheme, "meeting_rate_per_hour"):
		frappe.db.set_value("SNP Indemnity Scheme", scheme, "meeting_rate_per_hour", RATE_PER_HOUR)
	professionals = dict(
		frappe.get_all(
			"SNP Professional",
			filters={"rpps": ["in", (MARTIN, BERNARD, DUBOIS)]},
			fields=["rpps", "name"],
			as_list=True,
		)
	)
	for title, kind, days, start, duration, place, present, others, minutes, decisions in MEETINGS:
		if frappe.db.exists("SNP Meeting", {"title": title}):
			continue
		day = getdate(add_days(today(), days))
		rows = [
			{"kind": "Professional", "professional": professionals[rpps], "present": is_present}
			for rpps, is_present in present
			if rpps in professionals
		]
		for person, function, partner in others:
			partner = partner and frappe.db.get_value(
				"SNP Partner", {"partner_name": ["like", f"{partner}%"]}
			)
			rows.append(
				{
					"kind": "Partner staff" if partner else "Other",
					"partner": partner,
					"person_name": person,
					"function": function,
					"present": 1 if days < 0 else 0,
				}
			)
		doc = frappe.get_doc(
			{
				"doctype": "SNP Meeting",
				"meeting_type": kind,
				"title": title,
				"status": "Held" if days < 0 else "Planned",
				"meeting_date": day,
				"start_time": start,
				"duration_hours": duration,
				"place": place,
				"participants": rows,
				"minutes": minutes or None,
				"decisions": decisions or None,
			}
		).insert(ignore_permissions=True)
		if days < 0:
			meetings.confirm_attendance(doc.name)
	if commit:
		frappe.db.commit()
