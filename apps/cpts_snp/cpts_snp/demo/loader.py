"""A small demo data set for the first look at the app: sectors, professionals, a week of slots, bookings,
and one demo user per role. Idempotent: running it again only adds what is missing.

    bench --site cpts.localhost execute cpts_snp.demo.loader.load
"""

from datetime import datetime, time, timedelta

import frappe
from frappe.utils import add_days, get_datetime, getdate, now_datetime, today
from frappe.utils.password import update_password

from cpts_snp.demo import places
from cpts_snp.desks import home_workspace
from cpts_snp.services.onboarding import activate
from cpts_snp.services.telesecretariat import book_and_log_call

DEMO_PASSWORD = "demo-cpts-2026"

SECTORS = [
	("Rezé", "44143", "44400"),
	("Bouguenais", "44020", "44340"),
	("Vertou", "44215", "44120"),
	("Saint-Sébastien-sur-Loire", "44190", "44230"),
	("Les Sorinières", "44198", "44840"),
]

# last name, first name, RPPS, profession, sector, portal user
PROFESSIONALS = [
	("Martin", "Claire", "10003456781", "General practitioner", "Rezé", "dr.martin@cpts-demo.fr"),
	("Bernard", "Thomas", "10003456782", "General practitioner", "Vertou", "dr.bernard@cpts-demo.fr"),
	("Dubois", "Sophie", "10003456783", "General practitioner", "Bouguenais", None),
	("Leroy", "Antoine", "10003456784", "General practitioner", "Saint-Sébastien-sur-Loire", None),
	("Moreau", "Julie", "10003456785", "General practitioner", "Les Sorinières", None),
	("Petit", "Nicolas", "10003456786", "SASPAS intern", "Rezé", None),
]

# email, first name, last name, roles, desk user
USERS = [
	("coordination@cpts-demo.fr", "Camille", "Coordination", ["Coordinateur CPTS", "System Manager"], True),
	("telesecretariat@cpts-demo.fr", "Léa", "Accueil", ["Télésecrétaire"], True),
	("dr.martin@cpts-demo.fr", "Claire", "Martin", ["Médecin SNP"], False),
	("dr.bernard@cpts-demo.fr", "Thomas", "Bernard", ["Médecin SNP"], False),
	("comptabilite@cpts-demo.fr", "Marc", "Comptable", ["Comptable CPTS"], True),
	("tresorerie@cpts-demo.fr", "Hélène", "Trésorière", ["Trésorier CPTS"], True),
]

SETTINGS = {
	"cpts_name": "CPTS Sud-Loire (démo)",
	"cpts_phone": "02 40 00 00 00",
	"telesecretariat_email": "telesecretariat@cpts-demo.fr",
	"legal_name": "CPTS Sud-Loire",
	"siret": "73282932000074",
	"cpts_iban": "FR7630004000031234567890143",
	"cpts_bic": "BNPAFRPP",
	"cpts_finess": places.CPTS_FINESS,
}

SLOT_TIMES = [time(9, 0), time(11, 30), time(14, 0), time(17, 30), time(18, 40)]

# Past demo activity is entered by the coordination after the fact (slots and shifts need a reason then).
DEMO_LATE_REASON = "Données de démonstration saisies a posteriori"

PATIENTS = [
	("Durand", "Louise", "1987-03-12", "06 11 22 33 44", "Fièvre et toux depuis 3 jours"),
	("Lefebvre", "Hugo", "2015-09-02", "06 22 33 44 55", "Otalgie"),
	(
		"Garnier",
		"Monique",
		"1948-12-24",
		"02 40 11 22 33",
		"Renouvellement impossible, médecin traitant absent",
	),
	("Roux", "Karim", "1979-06-30", "07 33 44 55 66", "Lombalgie aiguë"),
	("Fontaine", "Emma", "2001-01-17", "06 44 55 66 77", "Infection urinaire"),
	("Chevalier", "Paul", "1962-11-05", "06 55 66 77 88", "Entorse de cheville"),
]


def load():
	frappe.flags.mute_emails = True
	for name, insee, postal in SECTORS:
		if not frappe.db.exists("SNP Sector", name):
			frappe.get_doc(
				{"doctype": "SNP Sector", "sector_name": name, "insee_code": insee, "postal_code": postal}
			).insert()
	by_sector = places.ensure_places()
	for email, first, last, roles, desk in USERS:
		ensure_user(email, first, last, roles, desk)
	professionals = [ensure_professional(*row) for row in PROFESSIONALS]
	places.link_professionals(by_sector)
	ensure_week_of_slots(professionals)
	if not frappe.db.count("SNP Booking", {"professional": ["in", professionals]}):
		book_some(professionals)
	frappe.db.commit()


def ensure_user(email, first_name, last_name, roles, desk_user):
	if not frappe.db.exists("User", email):
		user = frappe.get_doc(
			{
				"doctype": "User",
				"email": email,
				"first_name": first_name,
				"last_name": last_name,
				"send_welcome_email": 0,
				"language": "fr",
				"user_type": "System User" if desk_user else "Website User",
			}
		)
		user.insert()
		user.add_roles(*roles)
		update_password(email, DEMO_PASSWORD)
	if desk_user:
		frappe.db.set_value("User", email, "default_workspace", home_workspace(roles), update_modified=False)


def ensure_professional(last_name, first_name, rpps, profession, sector, user):
	name = frappe.db.get_value("SNP Professional", {"rpps": rpps})
	if name:
		return name
	doc = frappe.get_doc(
		{
			"doctype": "SNP Professional",
			"last_name": last_name,
			"first_name": first_name,
			"rpps": rpps,
			"profession": profession,
			"sector": sector,
			"place": places.place_of_sector(sector, places.ensure_places()),
			"email": user or f"{first_name.lower()}.{last_name.lower()}@cpts-demo.fr",
			"phone": "02 40 00 00 " + rpps[-2:],
			"user": user,
			"charter_signed_on": "2026-01-15",
		}
	).insert()
	return activate(doc).name


def ensure_week_of_slots(professionals):
	"""Two to four slots per professional over yesterday and the next six days."""
	start_day = getdate(add_days(today(), -1))
	for index, professional in enumerate(professionals):
		for offset in range(7):
			if (offset + index) % 2:
				continue
			day = start_day + timedelta(days=offset)
			starts_at = datetime.combine(day, SLOT_TIMES[(offset + index) % len(SLOT_TIMES)])
			if frappe.db.exists("SNP Slot", {"professional": professional, "starts_at": starts_at}):
				continue
			frappe.get_doc(
				{
					"doctype": "SNP Slot",
					"professional": professional,
					"starts_at": starts_at,
					"duration": 20,
					"modality": "Teleconsultation" if (offset + index) % 5 == 4 else "Office",
					# yesterday's slots: the demo is loaded by the coordination, after the fact
					"late_declaration_reason": DEMO_LATE_REASON if starts_at <= now_datetime() else None,
				}
			).insert()


def book_some(professionals):
	"""Book every third free slot as the demo telesecretary; past ones get their outcome."""
	slots = frappe.get_all(
		"SNP Slot",
		filters={"professional": ["in", professionals], "status": "Available"},
		fields=["name", "starts_at"],
		order_by="starts_at asc, name asc",
	)
	previous_user = frappe.session.user
	frappe.set_user("telesecretariat@cpts-demo.fr")
	try:
		for i, slot in enumerate(slots[::3]):
			last, first, dob, phone, reason = PATIENTS[i % len(PATIENTS)]
			starts_at = get_datetime(slot.starts_at)
			booking, _call = book_and_log_call(
				slot.name,
				{
					"patient_last_name": last,
					"patient_first_name": first,
					"patient_date_of_birth": dob,
					"patient_phone": phone,
				},
				{
					"caller_type": "SAS" if i % 4 == 3 else "Patient",
					"received_at": min(starts_at - timedelta(hours=3 + i % 20), now_datetime()),
					"commune": "Rezé",
				},
				reason=reason,
			)
			if get_datetime(slot.starts_at) < now_datetime():
				booking.status = "No-show" if i % 5 == 4 else "Honoured"
				booking.save()
	finally:
		frappe.set_user(previous_user)


def load_finance(commit: bool = True):
	"""What the accountants need, once the demo doctors exist (after the demo year): the CPTS bank details,
	an indemnity scheme covering the demo year, and bank details for every demo doctor. Idempotent."""
	from schwifty import IBAN

	settings = frappe.get_single("SNP Settings")
	changed = {field: value for field, value in SETTINGS.items() if not settings.get(field)}
	if changed:
		settings.update(changed)
		settings.save()
	start = getdate(add_days(today(), -400)).replace(month=1, day=1)
	if not frappe.db.exists("SNP Indemnity Scheme", {"valid_from": ["<=", start]}):
		frappe.get_doc(
			{
				"doctype": "SNP Indemnity Scheme",
				"scheme_name": f"Barème SNP {start.year}",
				"valid_from": start,
				"rate_per_slot": 12,
				"rate_per_consultation": 20,
				"rate_per_no_show": 6,
				"rate_per_permanence_hour": 50,
				"rate_per_supervision_half_day": 100,
				"monthly_cap": 600,
			}
		).insert()
	for index, name in enumerate(
		frappe.get_all("SNP Professional", filters={"iban": ["is", "not set"]}, pluck="name", order_by="name")
	):
		iban = IBAN.generate("FR", bank_code="3000600001", account_code=f"{index + 1:011d}")
		frappe.db.set_value(
			"SNP Professional", name, {"iban": iban.compact, "bic": "AGRIFRPP"}, update_modified=False
		)
	if commit:
		frappe.db.commit()
