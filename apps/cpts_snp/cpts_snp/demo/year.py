"""One year of activity for the demo, ending today, so that the key figures look real on first launch.

    bench --site cpts.localhost execute cpts_snp.demo.year.load_year

A CPTS south of Nantes (Loire-Atlantique): 30 communes as sectors, with their neighbours; 25 doctors (the six
of the small demo and nineteen more), who joined over the years or during this one, each with one or two
availability templates. Over the past twelve months: about 2,000 slots made available (more in winter, fewer
in August; some withdrawn), about 1,230 consultations done plus no-shows and cancellations, and about 3,700
calls to the telesecretariat with their morning and evening peaks. Then the coming weeks are generated from
the templates by the generation service, and a few of the next slots are booked through the telesecretariat
service.

The year is inserted set-based (frappe.db.bulk_insert), with every derived field computed by the app's own
rules (slot end, PDSA hours, SNP booking, supplement and its weekly cap, active slot…) and names taken from the
naming sequence of each doctype (cpts_snp.services.naming), which is advanced past them. The random draws use a fixed seed:
the same day gives the same year on every machine.

Idempotent: a flag in the system defaults says the year was loaded; a second run only generates the coming
weeks, which adds nothing on the same day.
"""

import random
import re
import unicodedata
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import NamedTuple

import frappe
from frappe.utils import get_datetime, get_time, getdate, now_datetime

from cpts_snp.demo import loader, places
from cpts_snp.rules.identifiers import normalise_phone
from cpts_snp.rules.pdsa import is_pdsa, is_pdsa_all_day, is_public_holiday
from cpts_snp.rules.slots import (
	can_withdraw_without_coordinator,
	overlaps,
	slot_end,
	slot_status_for_booking,
)
from cpts_snp.rules.snp import is_snp_booking, supplement_decision, week_bounds
from cpts_snp.services import naming
from cpts_snp.services.booking import supplement_note
from cpts_snp.services.generation import WEEKDAY_FIELDS, generate_for_template
from cpts_snp.services.onboarding import activate
from cpts_snp.services.patients import link_unlinked_bookings
from cpts_snp.services.places import label_of
from cpts_snp.services.settings import (
	booking_horizon_hours,
	generation_weeks,
	pdsa_schedule,
	supplement_weekly_cap,
)
from cpts_snp.services.telesecretariat import CHANNEL_FOR_CALLER, book_and_log_call
from cpts_snp.telesecretariat.doctype.snp_call.snp_call import BOOKED

SEED = "cpts-snp-demo-year"
# System default set once the year is loaded (its value: the period covered).
MARKER = "cpts_snp_demo_year"

TELESECRETARY = "telesecretariat@cpts-demo.fr"
COORDINATOR = "coordination@cpts-demo.fr"

PERIOD_DAYS = 365
# What the year adds up to (the draws are trimmed to these numbers, so every day of the year gives them).
PUBLISHED_SLOTS = 2085  # slots offered over the year, withdrawn ones included
WITHDRAWN_SLOTS = 85
HONOURED = 1230
NO_SHOWS = 90
CANCELLED_AND_REBOOKED = 30  # cancelled bookings whose slot was booked again
CANCELLED_AND_FREED = 45  # cancelled bookings whose slot stayed free
CALLS = 3700

# name, INSEE code, postal code, population (thousands; weights where calls come from)
SECTORS = [
	("Rezé", "44143", "44400", 42.9),
	("Bouguenais", "44020", "44340", 20.5),
	("Vertou", "44215", "44120", 25.5),
	("Saint-Sébastien-sur-Loire", "44190", "44230", 28.0),
	("Les Sorinières", "44198", "44840", 8.9),
	("Basse-Goulaine", "44009", "44115", 9.3),
	("Haute-Goulaine", "44071", "44115", 6.0),
	("Bouaye", "44018", "44830", 8.1),
	("Brains", "44024", "44830", 2.9),
	("Saint-Aignan-Grandlieu", "44150", "44860", 4.1),
	("Pont-Saint-Martin", "44130", "44860", 6.1),
	("Le Bignon", "44014", "44140", 4.1),
	("Château-Thébaud", "44037", "44690", 3.2),
	("La Haie-Fouassière", "44070", "44690", 4.8),
	("Saint-Jean-de-Boiseau", "44166", "44640", 6.0),
	("La Montagne", "44101", "44620", 6.2),
	("Le Pellerin", "44120", "44640", 5.2),
	("Indre", "44074", "44610", 4.0),
	("Saint-Léger-les-Vignes", "44171", "44710", 2.0),
	("Port-Saint-Père", "44133", "44710", 3.2),
	("La Chevrolière", "44041", "44118", 6.0),
	("Saint-Philbert-de-Grand-Lieu", "44188", "44310", 9.2),
	("Geneston", "44223", "44140", 3.8),
	("Montbert", "44102", "44140", 3.3),
	("Aigrefeuille-sur-Maine", "44002", "44140", 4.0),
	("Remouillé", "44142", "44140", 2.0),
	("Saint-Fiacre-sur-Maine", "44159", "44690", 1.2),
	("Maisdon-sur-Sèvre", "44088", "44690", 2.9),
	("Le Loroux-Bottereau", "44084", "44430", 8.0),
	("Saint-Julien-de-Concelles", "44169", "44450", 7.1),
]

# Communes that share a border (each pair once; the Loire counts as a border where a bridge or a ferry crosses).
BORDERS = {
	"Rezé": (
		"Bouguenais",
		"Saint-Sébastien-sur-Loire",
		"Vertou",
		"Les Sorinières",
		"Pont-Saint-Martin",
		"Saint-Aignan-Grandlieu",
	),
	"Bouguenais": ("Saint-Aignan-Grandlieu", "Bouaye", "Brains", "La Montagne", "Indre"),
	"Vertou": (
		"Saint-Sébastien-sur-Loire",
		"Basse-Goulaine",
		"Haute-Goulaine",
		"La Haie-Fouassière",
		"Saint-Fiacre-sur-Maine",
		"Château-Thébaud",
		"Les Sorinières",
	),
	"Saint-Sébastien-sur-Loire": ("Basse-Goulaine",),
	"Les Sorinières": ("Pont-Saint-Martin", "Le Bignon", "Château-Thébaud"),
	"Basse-Goulaine": ("Haute-Goulaine", "Saint-Julien-de-Concelles"),
	"Haute-Goulaine": ("Saint-Julien-de-Concelles", "Le Loroux-Bottereau", "La Haie-Fouassière"),
	"Saint-Julien-de-Concelles": ("Le Loroux-Bottereau",),
	"Bouaye": ("Brains", "Saint-Aignan-Grandlieu", "Saint-Léger-les-Vignes", "Port-Saint-Père"),
	"Brains": ("Saint-Léger-les-Vignes", "Saint-Jean-de-Boiseau", "Le Pellerin", "La Montagne"),
	"Saint-Aignan-Grandlieu": ("Pont-Saint-Martin",),
	"Pont-Saint-Martin": ("Le Bignon", "La Chevrolière"),
	"Le Bignon": ("La Chevrolière", "Geneston", "Montbert", "Château-Thébaud", "Aigrefeuille-sur-Maine"),
	"Château-Thébaud": ("Aigrefeuille-sur-Maine", "Saint-Fiacre-sur-Maine", "Maisdon-sur-Sèvre"),
	"La Haie-Fouassière": ("Saint-Fiacre-sur-Maine", "Maisdon-sur-Sèvre"),
	"Saint-Fiacre-sur-Maine": ("Maisdon-sur-Sèvre",),
	"Saint-Jean-de-Boiseau": ("La Montagne", "Le Pellerin", "Indre"),
	"La Montagne": ("Indre",),
	"Le Pellerin": ("Saint-Léger-les-Vignes", "Port-Saint-Père"),
	"Saint-Léger-les-Vignes": ("Port-Saint-Père",),
	"La Chevrolière": ("Geneston", "Saint-Philbert-de-Grand-Lieu"),
	"Saint-Philbert-de-Grand-Lieu": ("Geneston",),
	"Geneston": ("Montbert",),
	"Montbert": ("Aigrefeuille-sur-Maine", "Remouillé"),
	"Aigrefeuille-sur-Maine": ("Remouillé", "Maisdon-sur-Sèvre"),
}

# Availability templates: weekdays, first start, number of slots, minutes per slot, modality.
# The six doctors of the small demo keep clear of the times its loader publishes at (loader.SLOT_TIMES).
FOUNDER_TEMPLATES = {
	"10003456781": [("mon thu", "12:20", 2, 20, "Office"), ("sat", "09:20", 2, 20, "Office")],
	"10003456782": [("tue fri", "19:00", 3, 20, "Office")],
	"10003456783": [("wed", "16:00", 3, 20, "Office"), ("sat", "10:00", 2, 20, "Office")],
	"10003456784": [("mon wed", "08:00", 3, 15, "Office")],
	"10003456785": [("thu", "18:00", 2, 20, "Office"), ("sat", "11:50", 3, 20, "Office")],
	"10003456786": [("tue thu", "12:40", 2, 20, "Office")],
}

# last name, first name, RPPS, sector, weeks since joining the CPTS (None: before the year), templates
DOCTORS = [
	("Guillou", "Marc", "10003456787", "Bouaye", None, [("mon thu", "18:00", 2, 20, "Office")]),
	(
		"Tessier",
		"Hélène",
		"10003456788",
		"Vertou",
		None,
		[("tue", "12:30", 3, 15, "Office"), ("fri", "17:00", 2, 20, "Office")],
	),
	("Hervouet", "Mathieu", "10003456789", "Le Pellerin", None, [("wed sat", "09:00", 2, 20, "Office")]),
	(
		"Douillard",
		"Anne",
		"10003456790",
		"Saint-Philbert-de-Grand-Lieu",
		None,
		[("mon wed fri", "13:00", 1, 20, "Office")],
	),
	(
		"Chiron",
		"Pierre",
		"10003456791",
		"La Chevrolière",
		46,
		[("thu", "17:20", 3, 20, "Office"), ("sat", "10:40", 2, 20, "Office")],
	),
	("Lemaire", "Élodie", "10003456792", "Basse-Goulaine", None, [("tue thu", "08:00", 2, 15, "Office")]),
	(
		"Perraud",
		"Vincent",
		"10003456793",
		"Haute-Goulaine",
		42,
		[("sat", "09:00", 3, 20, "Office"), ("wed", "18:30", 1, 20, "Office")],
	),
	("Brisson", "Caroline", "10003456794", "Le Loroux-Bottereau", 38, [("mon", "17:40", 3, 20, "Office")]),
	(
		"Guilbaud",
		"Olivier",
		"10003456795",
		"Saint-Julien-de-Concelles",
		34,
		[("fri", "19:20", 3, 20, "Office")],
	),
	(
		"Rousseau",
		"Isabelle",
		"10003456796",
		"Pont-Saint-Martin",
		None,
		[("wed", "14:00", 2, 20, "Teleconsultation"), ("sat", "10:00", 2, 20, "Office")],
	),
	("Blanchard", "Sébastien", "10003456797", "Bouguenais", 30, [("tue thu", "18:20", 2, 20, "Office")]),
	(
		"Fournier",
		"Marion",
		"10003456798",
		"Rezé",
		None,
		[("mon wed fri", "12:30", 1, 20, "Teleconsultation"), ("tue", "17:00", 2, 20, "Office")],
	),
	(
		"Gautier",
		"Laurent",
		"10003456799",
		"Saint-Jean-de-Boiseau",
		26,
		[("thu", "08:15", 2, 15, "Office"), ("sat", "11:00", 2, 20, "Office")],
	),
	("Morin", "Céline", "10003456800", "La Montagne", 22, [("tue", "17:00", 3, 20, "Office")]),
	("Terrien", "Yann", "10003456801", "Aigrefeuille-sur-Maine", 18, [("wed fri", "18:00", 2, 20, "Office")]),
	(
		"Baudry",
		"Aurélie",
		"10003456802",
		"La Haie-Fouassière",
		14,
		[("mon", "12:15", 2, 15, "Office"), ("thu", "19:00", 2, 20, "Office")],
	),
	(
		"Leray",
		"François",
		"10003456803",
		"Brains",
		10,
		[("sat", "08:30", 3, 20, "Office"), ("tue", "18:40", 1, 20, "Home visit")],
	),
	(
		"Poirier",
		"Nathalie",
		"10003456804",
		"Les Sorinières",
		None,
		[("wed", "17:30", 2, 20, "Office"), ("fri", "12:40", 1, 20, "Teleconsultation")],
	),
	(
		"Jouan",
		"Benoît",
		"10003456805",
		"Saint-Sébastien-sur-Loire",
		6,
		[("tue fri", "08:00", 2, 20, "Office")],
	),
]

# Doctors who also see the patients of neighbouring communes without a volunteer (« Other sectors covered »)
OTHER_SECTORS = {
	"10003456787": ("Saint-Aignan-Grandlieu", "Saint-Léger-les-Vignes"),
	"10003456789": ("Port-Saint-Père",),
	"10003456791": ("Geneston",),
	"10003456800": ("Indre",),
	"10003456801": ("Montbert", "Remouillé"),
	"10003456802": ("Saint-Fiacre-sur-Maine", "Maisdon-sur-Sèvre"),
	"10003456804": ("Le Bignon", "Château-Thébaud"),
}

# Absences ahead: RPPS, first day (days after next Monday), number of days, reason
COMING_ABSENCES = [("10003456788", 0, 7, "Congés"), ("10003456792", 16, 2, "Formation continue")]

# Seasons, by month (January first): share of a template's days a doctor keeps offering; chance of an extra
# session in a week; how much the slots of the month are in demand; how many calls the month brings.
KEEP = dict(enumerate((0.68, 0.66, 0.6, 0.55, 0.52, 0.52, 0.43, 0.3, 0.53, 0.56, 0.61, 0.66), start=1))
EXTRA = {1: 0.45, 2: 0.4, 3: 0.25, 11: 0.25, 12: 0.4}
DEMAND = dict(enumerate((3.0, 2.8, 2.0, 1.4, 1.1, 1.0, 0.9, 1.2, 1.1, 1.5, 2.2, 3.0), start=1))
CALL_SEASON = dict(enumerate((1.45, 1.35, 1.1, 1.0, 0.9, 0.85, 0.8, 0.8, 0.95, 1.05, 1.2, 1.45), start=1))
SKIP_WEEK = 0.08  # a volunteer sometimes offers nothing in a week

# Extra sessions (first start, number of slots, minutes, modality)
EXTRA_SESSIONS = [
	("12:00", 2, 15, "Teleconsultation"),
	("13:20", 2, 20, "Office"),
	("16:20", 2, 20, "Office"),
	("19:20", 1, 20, "Office"),
]

# The telesecretariat answers Monday to Friday 8:00-19:30 and Saturday 8:00-12:00 (closed in PDSA days).
OPENING = {weekday: (time(8), time(19, 30)) for weekday in range(5)} | {5: (time(8), time(12))}
HOUR_WEIGHT = {8: 14, 9: 13, 10: 9, 11: 8, 12: 5, 13: 4, 14: 4.5, 15: 6, 16: 8, 17: 12, 18: 11, 19: 8}
DAY_WEIGHT = {0: 1.35, 1: 1.05, 2: 1.0, 3: 1.0, 4: 1.15, 5: 1.1}
# Calls that end with a booking come mostly the day of the consultation.
RECENCY = {0: 1.0, 1: 0.55, 2: 0.2}
MIN_BOOKING_NOTICE = timedelta(minutes=15)

BOOKING_CALLERS = {"Patient": 70, "SAS": 17, "Pharmacist": 6, "Nurse": 4, "Emergency department": 3}
OTHER_CALLERS = {"Patient": 80, "Pharmacist": 7, "Nurse": 5, "SAS": 3, "Emergency department": 2, "Other": 3}
# Chance that the request was regulated (SAS or 15), by caller
REGULATED = {"SAS": 1.0, "Emergency department": 0.5, "Patient": 0.1}

REASONS = {
	"Fever or infection": [
		"Fièvre à 39 °C depuis deux jours",
		"Toux fébrile",
		"Syndrome grippal",
		"Fièvre chez l'enfant",
		"Bronchite",
		"Gastro-entérite fébrile",
	],
	"Pain": [
		"Lombalgie aiguë",
		"Douleur abdominale",
		"Céphalées inhabituelles",
		"Sciatique",
		"Douleur de l'épaule",
		"Crise de goutte",
	],
	"Minor injury": [
		"Entorse de cheville",
		"Plaie superficielle de la main",
		"Chute sans perte de connaissance",
		"Traumatisme du poignet",
		"Coup au genou",
	],
	"Skin": ["Éruption cutanée", "Piqûre infectée", "Brûlure superficielle", "Zona", "Urticaire", "Abcès"],
	"Ear, nose and throat": [
		"Otalgie",
		"Angine",
		"Sinusite",
		"Conjonctivite",
		"Otite chez l'enfant",
		"Laryngite",
	],
	"Urinary problem": ["Infection urinaire", "Brûlures mictionnelles", "Colique néphrétique"],
	"Prescription": [
		"Renouvellement d'ordonnance, médecin traitant absent",
		"Traitement chronique épuisé",
		"Ordonnance de kinésithérapie urgente",
	],
	"Other": ["Vertiges", "Malaise sans gravité", "Anxiété aiguë", "Hypertension mal contrôlée", "Insomnie"],
}
REASON_WEIGHT = {
	"Fever or infection": 26,
	"Pain": 16,
	"Minor injury": 11,
	"Skin": 8,
	"Ear, nose and throat": 15,
	"Urinary problem": 8,
	"Prescription": 7,
	"Other": 9,
}
WINTER_REASONS = {"Fever or infection": 1.7, "Ear, nose and throat": 1.4}
SUMMER_REASONS = {"Skin": 1.7, "Minor injury": 1.5}

OUTCOME_WEIGHT = {
	"Advice given": 34,
	"No slot available": 26,
	"Referred to PDSA": 14,
	"Referred to the 15": 10,
	"Referred to the emergency department": 16,
}
OUTCOME_NOTES = {
	"Advice given": [
		"Conseils donnés, rappeler en cas d'aggravation",
		"Orienté vers la pharmacie pour un conseil",
		"Rendez-vous possible demain avec le médecin traitant",
	],
	"No slot available": [
		"Aucun créneau dans les 48 h sur le secteur ni les secteurs voisins",
		"Patient rappellera demain matin",
	],
	"Referred to PDSA": [
		"Orienté vers la maison médicale de garde",
		"Numéro de la permanence des soins communiqué (116 117)",
	],
	"Referred to the 15": ["Douleur thoracique : transfert au 15", "Gêne respiratoire : transfert au 15"],
	"Referred to the emergency department": [
		"Suspicion de fracture : orienté vers les urgences",
		"Plaie profonde : orienté vers les urgences",
	],
}
CANCELLATION_REASONS = [
	"Le patient a obtenu un rendez-vous avec son médecin traitant",
	"Symptômes améliorés, le patient annule",
	"Le patient ne peut plus se déplacer",
	"Imprévu du médecin, patient prévenu",
	"Le patient est allé aux urgences",
]
EMERGENCY_DEPARTMENTS = [
	"Urgences du CHU de Nantes",
	"Urgences de l'Hôpital privé du Confluent",
	"Urgences des Nouvelles Cliniques Nantaises",
]

# (an underscore joins the words of a compound name)
LAST_NAMES = [
	name.replace("_", " ")
	for name in (
		"Hervouet Douillard Dugast Moriceau Guilbaud Terrien Leray Viaud Sorin Perraud Maisonneuve Pouvreau Praud "
		"Bouyer Dupas Clouet Huchet Noblet Briand Caillon Jeanneau Favreau Guillet Chotard Braud Allaire Grelier "
		"Fonteneau Guitton Blandin Burgaud Chéreau Landais Pineau Hamon Bossard Merlet Garreau Rondeau Forget "
		"Gendron Baudouin Drouet Babin Gicquel Provost Landreau Bernier Charrier Pinel Caillaud David Ménard Boutin "
		"Launay Thomas Robert Richard Durand Lefebvre Roux Girard Bonnet Mercier Lambert Faure Blanc Guérin Muller "
		"Henry Roussel Nicolas Perrin Mathieu Clément Dumont Lopez Fontaine Chevalier Robin Masson Sanchez Nguyen "
		"Diallo Benali Da_Silva Ferreira Traoré Le_Gall Le_Roux Tanguy Jaouen"
	).split()
]
# Patients' first names by age band: (youngest, oldest, share of the patients, names)
AGE_BANDS = [
	(0, 15, 22, "Louise Jade Emma Alice Rose Léa Chloé Lina Gabriel Léo Raphaël Louis Arthur Jules Hugo"),
	(16, 40, 33, "Camille Pauline Marine Laura Sarah Mathilde Julie Clara Maxime Antoine Kévin Romain"),
	(41, 65, 28, "Nathalie Isabelle Sandrine Valérie Stéphanie Céline Philippe Stéphane Laurent Pascal"),
	(66, 94, 17, "Monique Jacqueline Françoise Michèle Colette Odile Jeanne Jean Michel Gérard Jacques"),
]
EMAIL_DOMAINS = ("example.com", "example.org", "example.net")


@dataclass
class Doctor:
	name: str
	rpps: str
	full_name: str
	sector: str
	user: str | None
	joined: date
	founder: bool
	templates: list = field(default_factory=list)
	leave_weeks: set = field(default_factory=set)
	place: str | None = None
	place_label: str | None = None


@dataclass
class Patient:
	last_name: str
	first_name: str
	date_of_birth: date
	phone: str
	email: str | None
	sector: str
	has_gp: bool


@dataclass
class Slot:
	doctor: Doctor
	start: datetime
	duration: int
	modality: str
	location: str | None
	template: str | None
	block: int
	end: datetime = None
	created: datetime = None
	owner: str = "Administrator"
	status: str = "Available"
	modified: datetime = None
	modified_by: str = None
	is_pdsa: bool = False
	name: str = None


@dataclass
class Call:
	received_at: datetime
	caller_type: str
	caller_name: str | None
	sector: str
	commune: str
	reason_category: str
	has_gp: bool
	gp_available: str | None
	outcome: str
	handled_by: str
	notes: str | None = None
	booking: "Booking" = None
	name: str = None


@dataclass
class Booking:
	slot: Slot
	patient: Patient
	call: Call
	requested_at: datetime
	reason: str
	regulated: bool
	patient_of_doctor: bool
	status: str = "Booked"
	cancelled_at: datetime | None = None
	cancellation_reason: str | None = None
	recorded_at: datetime | None = None
	recorded_by: str | None = None
	is_snp: bool = False
	supplement_eligible: bool = False
	supplement_note: str = None
	name: str = None


@dataclass
class Absence:
	doctor: Doctor
	from_date: date
	to_date: date
	reason: str
	created: datetime
	name: str = None


def load_year(commit: bool = True, today=None):
	"""Load the demo year ending `today` (default: today), then generate the coming weeks from the templates.

	Idempotent. With commit=False the transaction is left open (tests roll it back)."""
	end = getdate(today) if today else getdate(now_datetime())
	real_now = now_datetime()
	if end > real_now.date():
		raise ValueError(f"The demo year cannot end in the future ({end})")
	now = real_now if end == real_now.date() else datetime.combine(end, time(20))
	period_start = datetime.combine(end - timedelta(days=PERIOD_DAYS), time.min)

	previous = frappe.session.user, frappe.local.lang, frappe.flags.mute_emails
	frappe.set_user("Administrator")
	frappe.flags.mute_emails = True
	try:
		ensure_territory()
		doctors = ensure_doctors(period_start.date(), end)
		if not frappe.db.get_value("DefaultValue", {"parent": "__default", "defkey": MARKER}):
			# Supplement notes are stored in the language of the telesecretary who books.
			frappe.local.lang = frappe.db.get_value("User", TELESECRETARY, "language") or frappe.local.lang
			backdate_onboarding(doctors, period_start.date())
			insert_year(plan_year(doctors, period_start, now))
			plan_coming_absences(doctors, now)
			set_marker(f"{period_start.date()}/{end}")
			first_run = True
		else:
			first_run = False
		generate_coming_weeks(doctors, now)
		if first_run and end == real_now.date():
			book_next_slots(doctors, now)
	finally:
		user, lang, mute = previous
		frappe.set_user(user)
		frappe.local.lang = lang
		frappe.flags.mute_emails = mute
	if commit:
		frappe.db.commit()


# Territory, doctors and templates (documents, through their controllers)


def neighbour_map() -> dict[str, set[str]]:
	neighbours = defaultdict(set)
	for sector, others in BORDERS.items():
		for other in others:
			neighbours[sector].add(other)
			neighbours[other].add(sector)
	return neighbours


NEIGHBOURS = neighbour_map()


def ensure_territory():
	for name, insee, postal, _population in SECTORS:
		if not frappe.db.exists("SNP Sector", name):
			frappe.get_doc(
				{"doctype": "SNP Sector", "sector_name": name, "insee_code": insee, "postal_code": postal}
			).insert()
	with_neighbours = set(
		frappe.get_all("SNP Sector Neighbour", filters={"parenttype": "SNP Sector"}, pluck="parent")
	)
	for name, neighbours in NEIGHBOURS.items():
		if name in with_neighbours:
			continue
		sector = frappe.get_doc("SNP Sector", name)
		for neighbour in sorted(neighbours):
			sector.append("neighbours", {"sector": neighbour})
		sector.save()


def ensure_doctors(period_start: date, end: date) -> list[Doctor]:
	for email, first_name, last_name, roles, desk_user in loader.USERS:
		loader.ensure_user(email, first_name, last_name, roles, desk_user)
	rows = [(row[2], row[4], None, FOUNDER_TEMPLATES[row[2]], row) for row in loader.PROFESSIONALS]
	rows += [(row[2], row[3], row[4], row[5], row) for row in DOCTORS]
	by_sector = places.ensure_places()
	doctors = []
	for rpps, sector, weeks, templates, row in rows:
		name = frappe.db.get_value("SNP Professional", {"rpps": rpps})
		if not name:
			name = loader.ensure_professional(*row) if rpps in FOUNDER_TEMPLATES else new_professional(*row)
		professional = frappe.db.get_value(
			"SNP Professional", name, ["full_name", "sector", "user", "place"], as_dict=True
		)
		if not professional.place:
			professional.place = places.place_of_sector(professional.sector or sector, by_sector)
			frappe.db.set_value("SNP Professional", name, "place", professional.place, update_modified=False)
		doctor = Doctor(
			name=name,
			rpps=rpps,
			full_name=professional.full_name,
			sector=professional.sector or sector,
			user=professional.user,
			joined=end - timedelta(weeks=weeks) if weeks else period_start,
			founder=rpps in FOUNDER_TEMPLATES,
			place=professional.place,
			place_label=label_of(professional.place),
		)
		doctor.templates = ensure_templates(doctor, templates)
		doctors.append(doctor)
	places.link_professionals(by_sector)
	return doctors


def new_professional(last_name, first_name, rpps, sector, _weeks, _templates) -> str:
	"""A doctor who joined the CPTS: through the onboarding workflow up to Active (dated back later)."""
	doc = frappe.get_doc(
		{
			"doctype": "SNP Professional",
			"last_name": last_name,
			"first_name": first_name,
			"rpps": rpps,
			"profession": "General practitioner",
			"sector": sector,
			"email": f"{ascii_slug(first_name)}.{ascii_slug(last_name)}@cpts-demo.fr",
			"phone": f"02 40 {rpps[-6:-4]} {rpps[-4:-2]} {rpps[-2:]}",
			"sectors": [{"sector": other} for other in OTHER_SECTORS.get(rpps, ())],
		}
	).insert()
	return activate(doc).name


def ensure_templates(doctor: Doctor, templates) -> list:
	fields = ["name", "enabled", "start_time", "number_of_slots", "slot_duration", "modality", "location"]
	fields += ["valid_from", "valid_to", "creation", *WEEKDAY_FIELDS]
	existing = frappe.get_all(
		"SNP Availability Template", filters={"professional": doctor.name}, fields=fields, order_by="creation"
	)
	if existing:
		return existing
	for weekdays, start, number, duration, modality in templates:
		days = weekdays.split()
		frappe.get_doc(
			{
				"doctype": "SNP Availability Template",
				"professional": doctor.name,
				**{weekday: int(weekday[:3] in days) for weekday in WEEKDAY_FIELDS},
				"start_time": start,
				"number_of_slots": number,
				"slot_duration": duration,
				"modality": modality,
				"place": doctor.place,
				"valid_from": doctor.joined,
			}
		).insert()
	return frappe.get_all(
		"SNP Availability Template", filters={"professional": doctor.name}, fields=fields, order_by="creation"
	)


def backdate_onboarding(doctors: list[Doctor], period_start: date):
	"""The doctors signed the charter and set their templates up before their first slot: date them back."""
	for doctor in doctors:
		if doctor.joined > period_start:
			joined = datetime.combine(doctor.joined - timedelta(days=8), time(10))
		else:
			days = 60 + int(doctor.rpps[-2:]) * 17
			joined = datetime.combine(period_start - timedelta(days=days), time(10))
		frappe.db.set_value(
			"SNP Professional",
			doctor.name,
			{"creation": joined, "modified": joined, "charter_signed_on": joined.date() - timedelta(days=5)},
			update_modified=False,
		)
		for template in doctor.templates:
			when = joined + timedelta(minutes=30)
			frappe.db.set_value(
				"SNP Availability Template",
				template.name,
				{"creation": when, "modified": when},
				update_modified=False,
			)
			template.creation = when


# The year (planned in memory, then inserted set-based)


@dataclass
class Year:
	slots: list
	bookings: list
	calls: list
	absences: list


def rng(*parts) -> random.Random:
	"""A random stream of its own for each part of the year: the same parts give the same draws."""
	return random.Random("|".join(str(part) for part in (SEED, *parts)))


def plan_year(doctors: list[Doctor], period_start: datetime, now: datetime) -> Year:
	schedule = pdsa_schedule()
	plan_leave(doctors, period_start.date(), now)
	slots = plan_slots(doctors, period_start, now, schedule)
	patients = PatientBook(now.date())
	bookings = plan_bookings(slots, patients, now, schedule)
	decide_supplements(bookings, period_start)
	calls = [booking.call for booking in bookings]
	calls += plan_other_calls(CALLS - len(calls), patients, period_start, now, schedule)
	return Year(slots=slots, bookings=bookings, calls=calls, absences=plan_absences(doctors, now))


def plan_leave(doctors: list[Doctor], period_start: date, now: datetime):
	"""Holidays: two or three weeks in summer, sometimes a week at Christmas, in winter, spring or autumn."""
	for doctor in doctors:
		draw = rng(doctor.rpps, "leave")
		weeks = set()
		for year in (period_start.year, period_start.year + 1):
			summer = monday_on_or_after(date(year, 7, 7)) + timedelta(weeks=draw.randint(0, 6))
			weeks.update(summer + timedelta(weeks=i) for i in range(draw.choice((2, 2, 3))))
			for month, day, chance in ((12, 22, 0.5), (2, 10, 0.35), (4, 8, 0.35), (10, 20, 0.3)):
				first = monday_on_or_after(date(year, month, day)) + timedelta(weeks=draw.randint(0, 1))
				if draw.random() < chance:
					weeks.add(first)
		# Only past weeks: an absence of this week or later would withdraw slots already offered.
		this_week = week_bounds(now.date())[0]
		doctor.leave_weeks = {w for w in weeks if w < this_week - timedelta(weeks=1)}


def monday_on_or_after(day: date) -> date:
	return day + timedelta(days=(7 - day.weekday()) % 7)


class Session(NamedTuple):
	"""Consecutive slots a doctor offers: from a template, or an extra one."""

	start: datetime
	number: int
	duration: int
	modality: str
	location: str | None
	template: dict | None


def plan_slots(doctors, period_start: datetime, now: datetime, schedule) -> list[Slot]:
	"""Week by week, the sessions each doctor offered from his templates (fewer in summer, extra ones in
	winter, none on leave), never overlapping his other slots; trimmed to the year's number, some withdrawn."""
	busy = existing_slots(doctors, period_start)
	loader_times = [(t, 20) for t in loader.SLOT_TIMES]
	horizon = timedelta(weeks=generation_weeks())
	slots, block = [], 0
	first_monday = week_bounds(period_start.date())[0]
	for doctor in doctors:
		monday = max(first_monday, week_bounds(doctor.joined)[0])
		while monday <= now.date():
			draw = rng(doctor.rpps, monday)
			if monday in doctor.leave_weeks or draw.random() < SKIP_WEEK:
				monday += timedelta(weeks=1)
				continue
			month = (monday + timedelta(days=3)).month
			sessions = []
			for template in doctor.templates:
				for weekday, weekday_field in enumerate(WEEKDAY_FIELDS):
					day = monday + timedelta(days=weekday)
					if not template.get(weekday_field) or not template.enabled:
						continue
					if day < getdate(template.valid_from) or (
						template.valid_to and day > getdate(template.valid_to)
					):
						continue
					if is_public_holiday(day) and draw.random() < 0.75:
						continue
					if draw.random() < KEEP[month]:
						sessions.append(
							Session(
								datetime.combine(day, get_time(template.start_time)),
								template.number_of_slots,
								template.slot_duration,
								template.modality,
								template.location,
								template,
							)
						)
			if draw.random() < EXTRA.get(month, 0.08):
				start, number, duration, modality = draw.choice(EXTRA_SESSIONS)
				day = monday + timedelta(days=draw.randrange(5))
				location = doctor.place_label
				sessions.append(
					Session(
						datetime.combine(day, get_time(start)), number, duration, modality, location, None
					)
				)
			for session in sorted(sessions, key=lambda s: s.start):
				block += 1
				template, duration = session.template, session.duration
				for i in range(session.number):
					begin = session.start + timedelta(minutes=i * duration)
					end = slot_end(begin, duration)
					if not period_start <= begin < now or begin.date() < doctor.joined:
						continue
					if any(overlaps(begin, end, s, e) for s, e in busy[doctor.name]):
						continue
					if doctor.founder and any(
						overlaps(begin, end, *day_interval(begin.date(), t, d)) for t, d in loader_times
					):
						continue
					busy[doctor.name].append((begin, end))
					slot = Slot(
						doctor,
						begin,
						duration,
						session.modality,
						session.location,
						template and template.name,
						block,
					)
					slot.end = end
					slot.is_pdsa = is_pdsa(begin, schedule)
					if template:
						# The daily job creates a template's slots when they enter the generation horizon.
						created = datetime.combine(begin.date() - horizon, time(0, 5)) + timedelta(
							seconds=draw.randrange(600)
						)
						slot.created = max(created, get_datetime(template.creation) + timedelta(minutes=1))
						slot.owner = "Administrator"
					else:
						created = begin - timedelta(days=draw.uniform(2.5, 8))
						slot.created = created.replace(hour=draw.randint(8, 20), microsecond=0)
						slot.owner = doctor.user or COORDINATOR
					slot.modified, slot.modified_by = slot.created, slot.owner
					slots.append(slot)
			monday += timedelta(weeks=1)
	slots = trim_to(slots, PUBLISHED_SLOTS, rng("trim"))
	withdraw(slots, WITHDRAWN_SLOTS, rng("withdraw"))
	return sorted(slots, key=lambda s: (s.start, s.doctor.name))


def day_interval(day: date, start: time, minutes: int) -> tuple[datetime, datetime]:
	begin = datetime.combine(day, start)
	return begin, slot_end(begin, minutes)


def existing_slots(doctors, period_start: datetime) -> dict[str, list]:
	"""The slots the doctors already have (the small demo's week): never overlapped."""
	busy = defaultdict(list)
	for row in frappe.get_all(
		"SNP Slot",
		filters={"professional": ["in", [d.name for d in doctors]], "ends_at": [">", period_start]},
		fields=["professional", "starts_at", "ends_at"],
	):
		busy[row.professional].append((get_datetime(row.starts_at), get_datetime(row.ends_at)))
	return busy


def trim_to(slots: list[Slot], target: int, draw: random.Random) -> list[Slot]:
	"""Drop whole sessions at random until the year offers `target` slots (the season shape is kept)."""
	blocks = defaultdict(list)
	for slot in slots:
		blocks[slot.block].append(slot)
	order = sorted(blocks)
	draw.shuffle(order)
	count = len(slots)
	dropped = set()
	for block in order:
		if count <= target:
			break
		dropped.add(block)
		count -= len(blocks[block])
	return [slot for slot in slots if slot.block not in dropped]


def withdraw(slots: list[Slot], target: int, draw: random.Random):
	"""Some sessions are withdrawn by their doctor a few days ahead (never booked)."""
	blocks = defaultdict(list)
	for slot in slots:
		blocks[slot.block].append(slot)
	order = sorted(blocks)
	draw.shuffle(order)
	count = 0
	for block in order:
		if count >= target:
			break
		when = blocks[block][0].start - timedelta(days=draw.uniform(0.5, 6))
		when = when.replace(hour=draw.randint(8, 19), minute=draw.randrange(60), second=0, microsecond=0)
		if when <= max(s.created for s in blocks[block]):
			continue
		# A doctor withdraws his slots himself up to 24 hours ahead; later, the coordination does.
		by_doctor = can_withdraw_without_coordinator(blocks[block][0].start, when)
		for slot in blocks[block]:
			slot.status = "Cancelled"
			slot.modified = when
			slot.modified_by = (by_doctor and slot.doctor.user) or COORDINATOR
		count += len(blocks[block])


class PatientBook:
	"""Patients by commune, drawn lazily from their own random streams (the same patient may call again)."""

	def __init__(self, today: date):
		self.today = today
		self.cache = {}
		self.populations = {name: population for name, _i, _p, population in SECTORS}

	def size(self, sector: str) -> int:
		return max(12, int(self.populations.get(sector, 3) * 6))

	def pick(self, draw: random.Random, sector: str) -> Patient:
		index = draw.randrange(self.size(sector))
		key = (sector, index)
		if key not in self.cache:
			self.cache[key] = self.make(sector, index)
		return self.cache[key]

	def make(self, sector: str, index: int) -> Patient:
		draw = rng("patient", sector, index)
		low, high, _share, first_names = draw.choices(AGE_BANDS, weights=[band[2] for band in AGE_BANDS])[0]
		first_name = draw.choice(first_names.split())
		last_name = draw.choice(LAST_NAMES)
		age_days = draw.randint(low * 365 + 30, high * 365 + 330)
		date_of_birth = self.today - timedelta(days=age_days)
		phone = None
		while not phone:
			if draw.random() < 0.8:
				raw = f"0{draw.choice('67')}{draw.randint(10, 99)}{draw.randint(0, 999999):06d}"
			else:
				raw = f"02{draw.choice(('40', '51', '28'))}{draw.randint(0, 999999):06d}"
			phone = normalise_phone(raw)
		email = None
		if draw.random() < 0.35:
			email = f"{ascii_slug(first_name)}.{ascii_slug(last_name)}{draw.randint(1, 99)}@{draw.choice(EMAIL_DOMAINS)}"
		return Patient(last_name, first_name, date_of_birth, phone, email, sector, draw.random() > 0.18)


def ascii_slug(text: str) -> str:
	plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
	return re.sub(r"[^a-z]+", "-", plain.lower()).strip("-")


def opening_buckets(day: date, schedule) -> list[tuple[int, datetime, datetime]]:
	"""The telesecretariat's opening hours of `day`, hour by hour: (hour, start, end)."""
	if day.weekday() not in OPENING or is_pdsa_all_day(day, schedule):
		return []
	opens, closes = (datetime.combine(day, t) for t in OPENING[day.weekday()])
	buckets = []
	start = opens
	while start < closes:
		end = min(start + timedelta(hours=1), closes)
		buckets.append((start.hour, start, end))
		start = end
	return buckets


def call_time(draw: random.Random, slot: Slot, latest: datetime, schedule) -> datetime | None:
	"""When a call booking `slot` was received: opening hours, within 48 h before it, mostly the same day."""
	window_start = slot.start - timedelta(hours=48)
	window_end = min(slot.start - MIN_BOOKING_NOTICE, latest)
	choices, weights = [], []
	day = window_start.date()
	while day <= window_end.date():
		for hour, start, end in opening_buckets(day, schedule):
			start, end = max(start, window_start, slot.created), min(end, window_end)
			if end > start:
				choices.append((start, end))
				weight = HOUR_WEIGHT[hour] * (end - start).total_seconds() / 3600
				weights.append(weight * RECENCY.get((slot.start.date() - day).days, 0.1))
		day += timedelta(days=1)
	if not choices:
		return None
	start, end = draw.choices(choices, weights=weights)[0]
	return start + timedelta(seconds=draw.randrange(max(1, int((end - start).total_seconds()))))


def plan_bookings(slots: list[Slot], patients: PatientBook, now: datetime, schedule) -> list[Booking]:
	"""Choose the booked slots (in demand in winter and in the evening), their calls and outcomes."""
	draw = rng("bookings", now.date())
	candidates = []
	for slot in slots:
		if slot.status == "Cancelled":
			continue
		weight = DEMAND[slot.start.month]
		weight *= 1.3 if slot.start.hour >= 17 or slot.start.weekday() == 5 else 1.0
		weight *= 0.7 if slot.modality == "Teleconsultation" else 1.0
		candidates.append((draw.random() ** (1 / weight), slot))
	candidates.sort(key=lambda c: c[0], reverse=True)

	bookings, booked, done = [], [], 0
	for _key, slot in candidates:
		if done >= HONOURED + NO_SHOWS:
			break
		received = call_time(draw, slot, now, schedule)
		if received is None:
			continue
		booking = new_booking(draw, slot, received, patients)
		# The outcome is recorded after the consultation, by the doctor or the telesecretariat.
		recorded = slot.end + timedelta(minutes=draw.choice((5, 10, 20, 45, 90, 180, 900)))
		if recorded <= now:
			booking.recorded_at = recorded.replace(microsecond=0)
			booking.recorded_by = slot.doctor.user or draw.choice((TELESECRETARY, TELESECRETARY, COORDINATOR))
			done += 1
		booked.append(booking)
	recorded = [b for b in booked if b.recorded_at]
	for booking in recorded:
		booking.status = "Honoured"
	for booking in draw.sample(recorded, min(NO_SHOWS, len(recorded))):
		booking.status = "No-show"
	bookings.extend(booked)

	# Cancellations: some slots were booked, cancelled, and booked again; others stayed free.
	taken = {id(b.slot) for b in booked}
	rebooked = 0
	for booking in draw.sample(booked, len(booked)):
		if rebooked >= CANCELLED_AND_REBOOKED:
			break
		first = call_time(draw, booking.slot, booking.requested_at - timedelta(minutes=30), schedule)
		if first is None:
			continue
		cancelled = first + (booking.requested_at - first) * draw.uniform(0.2, 0.8)
		bookings.append(cancelled_booking(draw, booking.slot, first, cancelled, patients))
		rebooked += 1
	freed = 0
	free = [c[1] for c in candidates if id(c[1]) not in taken]
	for slot in draw.sample(free, len(free)):
		if freed >= CANCELLED_AND_FREED:
			break
		first = call_time(draw, slot, now - timedelta(hours=1), schedule)
		if first is None or slot.start - first < timedelta(hours=1):
			continue
		cancelled = first + (slot.start - first) * draw.uniform(0.2, 0.7)
		bookings.append(cancelled_booking(draw, slot, first, cancelled, patients))
		freed += 1

	for booking in sorted(bookings, key=lambda b: b.requested_at):
		follow_booking(booking)
	return bookings


def new_booking(draw: random.Random, slot: Slot, received: datetime, patients: PatientBook) -> Booking:
	neighbours = sorted(NEIGHBOURS.get(slot.doctor.sector, ()))
	place = draw.random()
	if place < 0.62 or not neighbours:
		sector = slot.doctor.sector
	elif place < 0.95:
		sector = draw.choice(neighbours)
	else:
		sector = draw.choices([s[0] for s in SECTORS], weights=[s[3] for s in SECTORS])[0]
	patient = patients.pick(draw, sector)
	caller = weighted(draw, BOOKING_CALLERS)
	category = reason_category(draw, slot.start.month)
	regulated = draw.random() < REGULATED.get(caller, 0)
	call = new_call(draw, received, caller, patient, category, outcome=BOOKED)
	if regulated and caller == "Patient":
		call.notes = "Adressé par la régulation du 15 (SAS)"
	booking = Booking(
		slot=slot,
		patient=patient,
		call=call,
		requested_at=received,
		reason=draw.choice(REASONS[category]),
		regulated=regulated,
		patient_of_doctor=sector == slot.doctor.sector and draw.random() < 0.06,
	)
	call.booking = booking
	return booking


def cancelled_booking(draw, slot: Slot, received: datetime, cancelled: datetime, patients) -> Booking:
	booking = new_booking(draw, slot, received, patients)
	booking.status = "Cancelled"
	booking.cancelled_at = cancelled.replace(microsecond=0)
	booking.cancellation_reason = draw.choice(CANCELLATION_REASONS)
	return booking


def follow_booking(booking: Booking):
	"""The slot follows its bookings, in the order they happened."""
	slot = booking.slot
	if booking.status == "Cancelled":
		# Freed while still to come, the slot is offered again (rules.slots.slot_status_for_booking).
		slot.status = slot_status_for_booking("Cancelled", slot.start, booking.cancelled_at)
		slot.modified, slot.modified_by = booking.cancelled_at, booking.call.handled_by
		return
	slot.status = booking.status if booking.recorded_at else "Booked"
	slot.modified = booking.recorded_at or booking.requested_at
	slot.modified_by = booking.recorded_by or booking.call.handled_by


def decide_supplements(bookings: list[Booking], period_start: datetime):
	"""is_snp and the SNP supplement of each booking, decided when it was made (services.booking), counting the
	week's eligible, not cancelled bookings of the doctor at that moment, those already in the database too."""
	horizon, cap = booking_horizon_hours(), supplement_weekly_cap()
	eligible = defaultdict(list)  # (professional, monday) -> [(requested_at, cancelled_at)]
	for row in frappe.get_all(
		"SNP Booking",
		filters={
			"professional": ["in", list({b.slot.doctor.name for b in bookings})],
			"supplement_eligible": 1,
			"slot_start": [">=", period_start - timedelta(days=7)],
		},
		fields=["professional", "slot_start", "requested_at", "creation", "status", "modified"],
	):
		monday = week_bounds(get_datetime(row.slot_start).date())[0]
		cancelled = get_datetime(row.modified) if row.status == "Cancelled" else None
		eligible[(row.professional, monday)].append((get_datetime(row.creation), cancelled))
	for booking in sorted(bookings, key=lambda b: b.requested_at):
		slot = booking.slot
		key = (slot.doctor.name, week_bounds(slot.start.date())[0])
		already = sum(
			1
			for made, cancelled in eligible[key]
			if made <= booking.requested_at and (cancelled is None or cancelled > booking.requested_at)
		)
		booking.is_snp = is_snp_booking(booking.requested_at, slot.start, horizon)
		decision = supplement_decision(
			requested_at=booking.requested_at,
			consultation_start=slot.start,
			is_pdsa=slot.is_pdsa,
			patient_of_doctor=booking.patient_of_doctor,
			regulated=booking.regulated,
			already_this_week=already,
			cap=cap,
		)
		booking.supplement_eligible = decision.eligible
		booking.supplement_note = supplement_note(decision, already, cap)
		if decision.eligible:
			eligible[key].append((booking.requested_at, booking.cancelled_at))


def weighted(draw: random.Random, weights: dict):
	return draw.choices(list(weights), weights=list(weights.values()))[0]


def reason_category(draw: random.Random, month: int) -> str:
	season = WINTER_REASONS if month in (11, 12, 1, 2, 3) else SUMMER_REASONS if month in (6, 7, 8) else {}
	return weighted(draw, {c: w * season.get(c, 1) for c, w in REASON_WEIGHT.items()})


def new_call(draw, received: datetime, caller: str, patient: Patient, category: str, outcome: str) -> Call:
	commune = patient.sector
	if draw.random() < 0.15:
		commune = next(s[2] for s in SECTORS if s[0] == patient.sector)  # the postal code was typed
	has_gp = patient.has_gp
	return Call(
		received_at=received.replace(microsecond=0),
		caller_type=caller,
		caller_name=caller_name(draw, caller, patient, received.date()),
		sector=patient.sector,
		commune=commune,
		reason_category=category,
		has_gp=has_gp,
		gp_available=draw.choices(("No", "Unknown", "Yes"), weights=(72, 16, 12))[0] if has_gp else None,
		outcome=outcome,
		handled_by=TELESECRETARY if draw.random() < 0.95 else COORDINATOR,
	)


def caller_name(draw, caller: str, patient: Patient, day: date) -> str | None:
	if caller == "Patient":
		age = (day - patient.date_of_birth).days // 365
		if age < 16:
			return f"{draw.choice(('Mme', 'M.'))} {patient.last_name} (parent)"
		return f"{patient.first_name} {patient.last_name}"
	if caller == "Pharmacist":
		return f"{draw.choice(('Pharmacie du Centre', 'Pharmacie de la Mairie', 'Pharmacie des Halles'))}, {patient.sector}"
	if caller == "Nurse":
		return f"Cabinet infirmier de {patient.sector}"
	if caller == "SAS":
		return "SAS 44 – régulation de médecine générale"
	if caller == "Emergency department":
		return draw.choice(EMERGENCY_DEPARTMENTS)
	return draw.choice((f"EHPAD de {patient.sector}", "Centre de santé", "Mairie"))


def plan_other_calls(count: int, patients: PatientBook, period_start: datetime, now: datetime, schedule):
	"""Calls that ended without a booking, spread over the opening hours with the morning and evening peaks."""
	draw = rng("calls", now.date())
	buckets, weights = [], []
	day = period_start.date()
	while day <= now.date():
		for hour, start, end in opening_buckets(day, schedule):
			end = min(end, now)
			if end > start:
				buckets.append((start, end))
				weights.append(
					HOUR_WEIGHT[hour]
					* DAY_WEIGHT[day.weekday()]
					* CALL_SEASON[day.month]
					* (end - start).total_seconds()
					/ 3600
				)
		day += timedelta(days=1)
	calls = []
	sector_names, populations = [s[0] for s in SECTORS], [s[3] for s in SECTORS]
	for start, end in draw.choices(buckets, weights=weights, k=max(0, count)):
		received = start + timedelta(seconds=draw.randrange(max(1, int((end - start).total_seconds()))))
		patient = patients.pick(draw, draw.choices(sector_names, weights=populations)[0])
		caller = weighted(draw, OTHER_CALLERS)
		category = reason_category(draw, received.month)
		outcome = weighted(draw, outcome_weights(received, category))
		call = new_call(draw, received, caller, patient, category, outcome)
		if draw.random() < 0.4:
			call.notes = draw.choice(OUTCOME_NOTES[outcome])
		calls.append(call)
	return calls


def outcome_weights(received: datetime, category: str) -> dict:
	weights = dict(OUTCOME_WEIGHT)
	if received.weekday() == 5 or received.hour >= 18 or (received.weekday() == 4 and received.hour >= 16):
		weights["Referred to PDSA"] *= 2.5
	if received.month in (12, 1, 2, 8):
		weights["No slot available"] *= 1.6
	if category == "Minor injury":
		weights["Referred to the emergency department"] *= 2.5
	if category == "Pain":
		weights["Referred to the 15"] *= 1.5
	if category == "Prescription":
		weights["Advice given"] *= 2
	return weights


def plan_absences(doctors: list[Doctor], now: datetime) -> list[Absence]:
	"""The holidays taken during the year, declared three to six weeks ahead."""
	absences = []
	for doctor in doctors:
		draw = rng(doctor.rpps, "absences")
		weeks = sorted(w for w in doctor.leave_weeks if w >= doctor.joined)
		runs = []
		for monday in weeks:
			if runs and runs[-1][1] + timedelta(days=1) == monday:
				runs[-1][1] = monday + timedelta(days=6)
			else:
				runs.append([monday, monday + timedelta(days=6)])
		for first, last in runs:
			if last >= now.date():
				continue
			created = datetime.combine(first - timedelta(weeks=draw.randint(3, 6)), time(draw.randint(8, 19)))
			created = max(created, datetime.combine(doctor.joined, time(9)))
			absences.append(Absence(doctor, first, last, "Congés", created))
	return absences


# Set-based insertion


def insert_year(year: Year):
	"""Insert the planned year, each doctype's names taken from its naming sequence in creation order."""
	groups = {
		"SNP Absence": [(a.created, a) for a in year.absences],
		"SNP Slot": [(s.created, s) for s in year.slots],
		"SNP Booking": [(b.requested_at, b) for b in year.bookings],
		"SNP Call": [(c.received_at, c) for c in year.calls],
	}
	for doctype, records in groups.items():
		records.sort(key=lambda r: r[0])
		pattern = naming.pattern_of(doctype)
		for (created, record), number in zip(records, naming.reserve(doctype, len(records)), strict=True):
			record.name = naming.format_name(pattern, created, number)

	bulk_insert("SNP Absence", [absence_row(a) for a in year.absences])
	bulk_insert("SNP Slot", [slot_row(s) for s in year.slots])
	bulk_insert("SNP Booking", [booking_row(b) for b in year.bookings])
	bulk_insert("SNP Call", [call_row(c) for c in year.calls])
	# each booking's patient, stored once (cpts_snp.services.patients), and its call linked to him
	link_unlinked_bookings()


def standard(name: str, created: datetime, owner: str, modified: datetime, modified_by: str) -> dict:
	return {
		"name": name,
		"creation": created.replace(microsecond=0),
		"modified": modified.replace(microsecond=0),
		"owner": owner,
		"modified_by": modified_by,
		"docstatus": 0,
		"idx": 0,
	}


def bulk_insert(doctype: str, rows: list[dict]):
	if rows:
		fields = list(rows[0])
		frappe.db.bulk_insert(
			doctype, fields, [tuple(row[f] for f in fields) for row in rows], chunk_size=2000
		)


def absence_row(absence: Absence) -> dict:
	owner = absence.doctor.user or COORDINATOR
	return standard(absence.name, absence.created, owner, absence.created, owner) | {
		"professional": absence.doctor.name,
		"professional_name": absence.doctor.full_name,
		"from_date": absence.from_date,
		"to_date": absence.to_date,
		"reason": absence.reason,
		"cancelled_slots": 0,
	}


def slot_row(slot: Slot) -> dict:
	return standard(slot.name, slot.created, slot.owner, slot.modified, slot.modified_by) | {
		"professional": slot.doctor.name,
		"professional_name": slot.doctor.full_name,
		"sector": slot.doctor.sector,
		"starts_at": slot.start,
		"duration": slot.duration,
		"ends_at": slot.end,
		"modality": slot.modality,
		"place": slot.doctor.place,
		"location": slot.doctor.place_label,
		"status": slot.status,
		"is_pdsa": int(slot.is_pdsa),
		"template": slot.template,
	}


def booking_row(booking: Booking) -> dict:
	slot, patient, call = booking.slot, booking.patient, booking.call
	modified, modified_by = booking.requested_at, call.handled_by
	if booking.cancelled_at:
		modified = booking.cancelled_at
	elif booking.recorded_at:
		modified, modified_by = booking.recorded_at, booking.recorded_by
	return standard(booking.name, booking.requested_at, call.handled_by, modified, modified_by) | {
		"slot": slot.name,
		"professional": slot.doctor.name,
		"professional_name": slot.doctor.full_name,
		"slot_start": slot.start,
		"status": booking.status,
		"channel": CHANNEL_FOR_CALLER.get(call.caller_type, "Telesecretariat"),
		"booked_by": call.handled_by,
		"patient_last_name": patient.last_name,
		"patient_first_name": patient.first_name,
		"patient_date_of_birth": patient.date_of_birth,
		"patient_phone": patient.phone,
		"patient_email": patient.email,
		"reason": booking.reason,
		"requested_at": booking.requested_at,
		"call": call.name,
		"sector": slot.doctor.sector,
		"regulated": int(booking.regulated),
		"patient_of_doctor": int(booking.patient_of_doctor),
		"is_snp": int(booking.is_snp),
		"is_pdsa": int(slot.is_pdsa),
		"supplement_eligible": int(booking.supplement_eligible),
		"supplement_note": booking.supplement_note,
		"cancellation_reason": booking.cancellation_reason,
		"active_slot": None if booking.status == "Cancelled" else slot.name,
	}


def call_row(call: Call) -> dict:
	return standard(call.name, call.received_at, call.handled_by, call.received_at, call.handled_by) | {
		"received_at": call.received_at,
		"caller_type": call.caller_type,
		"caller_name": call.caller_name,
		"sector": call.sector,
		"commune": call.commune,
		"reason_category": call.reason_category,
		"has_gp": int(call.has_gp),
		"gp_available": call.gp_available if call.has_gp else None,
		"outcome": call.outcome,
		"booking": call.booking.name if call.booking else None,
		"handled_by": call.handled_by,
		"notes": call.notes,
	}


def set_marker(value: str):
	frappe.get_doc(
		{
			"doctype": "DefaultValue",
			"parent": "__default",
			"parenttype": "__default",
			"parentfield": "system_defaults",
			"defkey": MARKER,
			"defvalue": value,
		}
	).db_insert()


# The coming weeks (through the app's services)


def plan_coming_absences(doctors: list[Doctor], now: datetime):
	"""Two absences ahead, declared before the coming weeks are generated (their days get no slot)."""
	by_rpps = {doctor.rpps: doctor for doctor in doctors}
	next_monday = week_bounds(now.date())[1]
	for rpps, first, days, reason in COMING_ABSENCES:
		first = next_monday + timedelta(days=first)
		frappe.get_doc(
			{
				"doctype": "SNP Absence",
				"professional": by_rpps[rpps].name,
				"from_date": first,
				"to_date": first + timedelta(days=days - 1),
				"reason": reason,
			}
		).insert()


def generate_coming_weeks(doctors: list[Doctor], now: datetime):
	for doctor in doctors:
		for template in doctor.templates:
			generate_for_template(frappe.get_doc("SNP Availability Template", template.name), now=now)


def book_next_slots(doctors: list[Doctor], now: datetime):
	"""Some of the next 48 hours' slots are already booked, through the telesecretariat service, in the order
	their calls came."""
	draw = rng("next", now.date())
	schedule = pdsa_schedule()
	patients = PatientBook(now.date())
	free = frappe.get_all(
		"SNP Slot",
		filters={
			"professional": ["in", [d.name for d in doctors if not d.founder]],
			"status": "Available",
			"starts_at": ["between", [now + timedelta(minutes=30), now + timedelta(hours=48)]],
		},
		fields=["name", "professional", "starts_at", "duration", "creation"],
		order_by="starts_at asc, name asc",
	)
	by_name = {d.name: d for d in doctors}
	requests = []
	for row in free:
		if draw.random() > 0.45:
			continue
		slot = Slot(by_name[row.professional], get_datetime(row.starts_at), row.duration, "", None, None, 0)
		slot.created = get_datetime(row.creation) - timedelta(days=2)  # offered by the daily job earlier
		received = call_time(draw, slot, now, schedule)
		if received is not None:
			requests.append((received, row.name, new_booking(draw, slot, received, patients)))
	frappe.set_user(TELESECRETARY)
	for _received, slot, booking in sorted(requests, key=lambda r: r[0]):
		call, patient = booking.call, booking.patient
		book_and_log_call(
			slot,
			{
				"patient_last_name": patient.last_name,
				"patient_first_name": patient.first_name,
				"patient_date_of_birth": patient.date_of_birth,
				"patient_phone": patient.phone,
				"patient_email": patient.email,
			},
			{
				"received_at": call.received_at,
				"caller_type": call.caller_type,
				"caller_name": call.caller_name,
				"sector": call.sector,
				"commune": call.commune,
				"reason_category": call.reason_category,
				"has_gp": int(call.has_gp),
				"gp_available": call.gp_available,
				"notes": call.notes,
			},
			reason=booking.reason,
			regulated=int(booking.regulated),
		)
	frappe.set_user("Administrator")
