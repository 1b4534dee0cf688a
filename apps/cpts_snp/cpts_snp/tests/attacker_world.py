"""The attacker matrix's world: two people of each kind (doctors, interns, booking partners), a supervisor, a
view-only and an expired partner, a télésecrétaire and anonymous, each with records of every app doctype, so
that there is always someone else's record to reach. Committed once (HTTP needs it), removed afterwards.

`build_world()` returns a `World`; `World.cleanup()` deletes what it made, and anything an attack managed to
create for one of its people (looked up by professional, partner, owner or marker)."""

import random
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta

import frappe
from frappe.utils import add_days, getdate, today
from frappe.utils.password import update_password

from cpts_snp.interns.factories import INTERN_ROLES, make_intern, make_permanence, make_protocol, make_shift
from cpts_snp.services.booking import book_slot
from cpts_snp.services.partners import PARTNER_ROLE
from cpts_snp.tests.factories import (
	PATIENT,
	TEST_PASSWORD,
	as_user,
	make_absence,
	make_professional,
	make_sector,
	make_slot,
	make_template,
	unique_suffix,
	users_made_as_at_install,
)
from cpts_snp.tests.partner_factories import delete_partners, make_partner

IBANS = {
	"doctor_a": "FR7630006000011234567890189",
	"doctor_b": "FR1420041010050500013M02606",
	"supervisor": "FR7630004000031234567890143",
	"intern_a": "FR7610107001011234567890129",
	"intern_b": "FR7630001007941234567890185",
}
BIC = "BNPAFRPPXXX"
# Text every attack writes, so that whatever an attack created can be found (and removed) afterwards.
MARKER = "attaque-matrice"


@dataclass
class Identity:
	key: str
	kind: str  # doctor, intern, supervisor, partner_view, partner_book, partner_expired, telesecretary, anonymous
	user: str | None = None
	professional: str | None = None
	partner: str | None = None
	intern: str | None = None


@dataclass
class World:
	identities: dict[str, Identity] = field(default_factory=dict)
	# doctype -> names of the records the world made (the per-record endpoints aim at these)
	records: dict[str, list[str]] = field(default_factory=dict)
	users: list[str] = field(default_factory=list)
	professionals: list[str] = field(default_factory=list)
	partners: list[str] = field(default_factory=list)
	settings_before: dict = field(default_factory=dict)

	def add(self, doctype: str, name: str) -> str:
		self.records.setdefault(doctype, []).append(name)
		return name

	def __getitem__(self, key: str) -> Identity:
		return self.identities[key]

	def cleanup(self) -> None:
		cleanup_world(self)


def _day(days: int, hour: int, minute: int = 0) -> datetime:
	return datetime.combine(getdate(add_days(today(), days)), time(hour, minute))


def _user(roles, desk_user: bool) -> str:
	"""A user with his roles in one insert (make_user saves him twice: users are the slow part of the world)."""
	email = f"test-{unique_suffix()}@cpts-test.fr"
	with users_made_as_at_install():
		frappe.get_doc(
			{
				"doctype": "User",
				"email": email,
				"first_name": "Matrice",
				"last_name": email.split("@")[0],
				"send_welcome_email": 0,
				"user_type": "System User" if desk_user else "Website User",
				"roles": [{"role": role} for role in roles],
			}
		).insert(ignore_permissions=True)
		update_password(email, TEST_PASSWORD)
	frappe.clear_cache(user=email)
	return email


def _identity(world: World, key: str, kind: str, roles=(), desk_user=False, **values) -> Identity:
	user = _user(roles, desk_user) if roles else None
	if user:
		world.users.append(user)
	identity = Identity(key=key, kind=kind, user=user, **values)
	world.identities[key] = identity
	return identity


def _professional(world: World, identity: Identity, sector: str, **values) -> str:
	doc = make_professional(
		user=identity.user,
		iban=IBANS[identity.key],
		bic=BIC,
		phone="06 00 00 00 00",
		sector=sector,
		sectors=[{"sector": sector}],
		**values,
	)
	world.professionals.append(doc.name)
	identity.professional = world.add("SNP Professional", doc.name)
	return doc.name


def _book(world: World, slot: str, last_name: str, booked_by: str | None = None, **values) -> str:
	"""A booking made as Administrator (the generic create right of partners may be gone), then given the
	person who made it and his partner."""
	booking = book_slot(slot, {**PATIENT, "patient_last_name": last_name})
	if booked_by or values:
		frappe.db.set_value("SNP Booking", booking.name, {"booked_by": booked_by, **values})
	return world.add("SNP Booking", booking.name)


def _slot(world: World, professional: str, starts_at: datetime, duration: int = 20) -> str:
	return world.add("SNP Slot", make_slot(professional, starts_at, duration).name)


def build_world() -> World:
	"""The world, committed; if building it fails, what was made of it is removed (and on a deadlock with
	another engineer's tests creating users at the same moment, it is built again)."""
	for attempt in range(3):
		world = World()
		try:
			_build(world)
			return world
		except frappe.QueryDeadlockError:
			cleanup_world(world)
			if attempt == 2:
				raise
		except BaseException:
			cleanup_world(world)
			raise


def _remove_orphan_rows() -> None:
	"""Child rows whose record was deleted by SQL in earlier runs (debris of tests, readable by nobody's rule):
	they would blur what a staff member's list of child rows should hold."""
	from cpts_snp.permissions import CHILD_PARENTS

	for child, parents in CHILD_PARENTS.items():
		for parent in parents:
			if frappe.get_meta(parent).issingle:
				continue
			frappe.db.sql(
				f"""DELETE FROM `tab{child}` WHERE `parenttype` = %s
				AND `parent` NOT IN (SELECT `name` FROM `tab{parent}`)""",
				parent,
			)


def _build(world: World) -> None:
	frappe.set_user("Administrator")
	_remove_orphan_rows()
	world.settings_before = frappe.db.get_singles_dict("SNP Settings")
	suffix = unique_suffix(4)

	sector = world.add("SNP Sector", make_sector().name)
	world.add("SNP Sector", make_sector(neighbours=[{"sector": sector}]).name)
	world.add("SNP Protocol", make_protocol().name)
	scheme = frappe.get_doc(
		{
			"doctype": "SNP Indemnity Scheme",
			"scheme_name": f"Barème matrice {suffix}",
			# after every period another test pays (one scheme a day: valid_from is unique)
			"valid_from": add_days("2099-01-01", random.randint(0, 300000)),
			"rate_per_slot": 10,
		}
	).insert()
	world.add("SNP Indemnity Scheme", scheme.name)

	telesecretary = _identity(world, "telesecretary", "telesecretary", ["Télésecrétaire"], desk_user=True)
	_identity(world, "anonymous", "anonymous")

	# --- doctors A and B (B is also the maître de stage of intern B), supervisor S ---------------------------
	doctor_a = _identity(world, "doctor_a", "doctor", ["Médecin SNP"])
	doctor_b = _identity(world, "doctor_b", "doctor", ["Médecin SNP"])
	supervisor = _identity(world, "supervisor", "supervisor", ["Médecin SNP"])
	_professional(world, doctor_a, sector)
	_professional(world, doctor_b, sector, is_supervisor=1)
	_professional(world, supervisor, sector, is_supervisor=1)
	for offset, doctor in enumerate((doctor_a, doctor_b, supervisor)):
		pro = doctor.professional
		_slot(world, pro, _day(30 + offset, 9))  # free
		_book(world, _slot(world, pro, _day(30 + offset, 11)), f"Patient-{doctor.key}", telesecretary.user)
		world.add("SNP Availability Template", make_template(pro).name)
		# an absence that cancels one booking: its child table lists it
		_book(world, _slot(world, pro, _day(70 + offset, 10)), f"Absent-{doctor.key}")
		world.add(
			"SNP Absence",
			make_absence(pro, add_days(today(), 70 + offset), add_days(today(), 70 + offset)).name,
		)

	# --- interns A (supervised by S) and B (supervised by doctor B) ----------------------------------------------
	interns = {}
	for key, boss in (("intern_a", supervisor), ("intern_b", doctor_b)):
		identity = _identity(world, key, "intern", INTERN_ROLES)
		intern = make_intern([boss.professional], user=identity.user)
		frappe.db.set_value("SNP Professional", intern.professional, {"iban": IBANS[key], "bic": BIC})
		identity.professional = world.add("SNP Professional", intern.professional)
		world.professionals.append(intern.professional)
		identity.intern = world.add("SNP Intern", intern.name)
		interns[key] = (identity, boss)

	for day, (start, end) in ((-1, (9, 12)), (35, (8, 13))):
		for boss in (supervisor, doctor_b):
			world.add(
				"SNP Supervision Shift", make_shift(boss.professional, _day(day, start), _day(day, end)).name
			)
	for identity, _boss in interns.values():
		pro = identity.professional
		_slot(world, pro, _day(35, 9))  # free
		_book(world, _slot(world, pro, _day(35, 10)), f"Patient-{identity.key}", telesecretary.user)
		# yesterday's consultation, honoured: a debrief to do
		past = _book(world, _slot(world, pro, _day(-1, 10)), f"Passé-{identity.key}")
		booking = frappe.get_doc("SNP Booking", past)
		booking.status = "Honoured"
		booking.save()
		world.add("SNP Debrief", frappe.db.get_value("SNP Debrief", {"booking": past}, "name"))
		world.add("SNP Availability Template", make_template(pro).name)

	# --- the shared rota, two swaps (A → B, B → S) --------------------------------------------------------------
	permanences = {}
	for offset, doctor in enumerate((doctor_a, doctor_b, supervisor)):
		doc = make_permanence(doctor.professional, _day(40 + offset, 20), _day(40 + offset, 22))
		permanences[doctor.key] = world.add("SNP Permanence", doc.name)
	for permanence, to in ((permanences["doctor_a"], doctor_b), (permanences["doctor_b"], supervisor)):
		swap = frappe.get_doc(
			{"doctype": "SNP Permanence Swap", "permanence": permanence, "to_professional": to.professional}
		).insert()
		world.add("SNP Permanence Swap", swap.name)

	# --- a payment run of a past period, with a submitted payment and a paid item for each doctor -------------
	run = frappe.get_doc(
		{"doctype": "SNP Payment Run", "period_start": "2011-01-01", "period_end": "2011-01-31"}
	)
	run.insert()
	world.add("SNP Payment Run", run.name)
	frappe.get_doc(
		{
			"doctype": "SNP Run Exclusion",
			"parent": run.name,
			"parenttype": "SNP Payment Run",
			"parentfield": "exclusions",
			"idx": 1,
			"professional": supervisor.professional,
			"items": 1,
			"reason": "Pas d'IBAN",
		}
	).db_insert()
	for key in ("doctor_a", "doctor_b", "supervisor", "intern_a", "intern_b"):
		pro = world[key].professional
		slot = frappe.db.get_value("SNP Slot", {"professional": pro, "status": "Available"}, "name")
		payment = frappe.get_doc(
			{
				"doctype": "SNP Indemnity Payment",
				"run": run.name,
				"professional": pro,
				"period_start": "2011-01-01",
				"period_end": "2011-01-31",
				"amount": 10,
				"status": "Approved",
				"iban": IBANS[key],
				"bic": BIC,
				"lines": [
					{
						"item_type": "Slot made available",
						"item_date": "2011-01-10",
						"item_doctype": "SNP Slot",
						"item_name": slot,
						"quantity": 1,
						"rate": 10,
						"amount": 10,
					}
				],
			}
		)
		# written as the run's computation writes it (SQL, submitted): a payment is never saved by hand
		payment.docstatus = 1
		payment.set_new_name()
		payment.set_parent_in_children()
		payment.db_insert()
		for row in payment.lines:
			row.docstatus = 1
			row.db_insert()
		world.add("SNP Indemnity Payment", payment.name)
		paid = frappe.get_doc(
			{
				"doctype": "SNP Paid Item",
				"item_type": "Slot made available",
				"item_doctype": "SNP Slot",
				"item_name": slot,
				"item_date": "2011-01-10",
				"professional": pro,
				"run": run.name,
			}
		).insert()
		world.add("SNP Paid Item", paid.name)

	# --- partners: view-only V, booking P1 and P2 (a booking each), expired X (a booking made while active) --
	for key, kind, values in (
		("partner_view", "partner_view", {"partner_type": "Hospital", "access_level": "View availability"}),
		("partner_1", "partner_book", {"partner_type": "SAS / SAMU"}),
		("partner_2", "partner_book", {"partner_type": "Emergency department"}),
		(
			"partner_expired",
			"partner_expired",
			{"partner_type": "Pharmacy", "active_from": add_days(today(), -60)},
		),
	):
		identity = _identity(world, key, kind, [PARTNER_ROLE], desk_user=True)
		partner = make_partner(users=[identity.user], **values)
		identity.partner = world.add("SNP Partner", partner.name)
		world.partners.append(partner.name)
	for key, doctor, offset in (
		("partner_1", doctor_a, 12),
		("partner_2", doctor_b, 13),
		("partner_expired", doctor_a, 14),
	):
		slot = _slot(world, doctor.professional, _day(30, offset))
		channel = "SAS" if key == "partner_1" else "Other"
		_book(world, slot, f"Partenaire-{key}", world[key].user, partner=world[key].partner, channel=channel)
	expired = world["partner_expired"]
	frappe.db.set_value("SNP Partner", expired.partner, "active_to", add_days(today(), -1))
	for identity in (world["partner_1"], world["partner_2"], expired):
		log = frappe.get_doc(
			{
				"doctype": "SNP Partner Access Log",
				"timestamp": frappe.utils.now_datetime(),
				"user": identity.user,
				"partner": identity.partner,
				"action": "Search slots",
				"resource": "SNP Slot",
				"record_count": 1,
			}
		)
		log.db_insert()
		world.add("SNP Partner Access Log", log.name)
	# the staff's read audit (cpts_snp.services.access_audit): read by the coordination only, written by nobody
	for identity in (world["telesecretary"],):
		audit = frappe.get_doc(
			{
				"doctype": "SNP Access Audit",
				"timestamp": frappe.utils.now_datetime(),
				"user": identity.user,
				"kind": "Record read",
				"reference_doctype": "SNP Booking",
				"reference_name": world.records["SNP Booking"][0],
				"record_count": 1,
				"ip_address": "127.0.0.1",
			}
		)
		audit.db_insert()
		world.add("SNP Access Audit", audit.name)

	# --- calls of the télésecrétariat --------------------------------------------------------------------------
	for booking in world.records["SNP Booking"][:2]:
		call = frappe.get_doc(
			{
				"doctype": "SNP Call",
				"received_at": frappe.utils.now_datetime(),
				"caller_type": "Patient",
				"caller_name": "Appelant matrice",
				"sector": sector,
				"outcome": "SNP appointment booked",
				"booking": booking,
			}
		).insert()
		world.add("SNP Call", call.name)

	# --- patients (made by the bookings) and a call-back request ------------------------------------------------
	for patient in sorted(
		set(frappe.get_all("SNP Booking", {"name": ["in", world.records["SNP Booking"]]}, pluck="patient"))
		- {None}
	):
		world.add("SNP Patient", patient)
	callback = frappe.get_doc(
		{
			"doctype": "SNP Callback",
			"sector": sector,
			"wanted_from": frappe.utils.today(),
			"patient_last_name": "Rappel",
			"patient_first_name": "Matrice",
			"patient_date_of_birth": "1980-01-01",
			"patient_phone": "0611223344",
		}
	).insert()
	world.add("SNP Callback", callback.name)
	if callback.patient:
		world.add("SNP Patient", callback.patient)

	# --- a concertation meeting whose attendance is confirmed (its minutes: the coordination's only) ------------
	from cpts_snp.services.meetings import confirm_attendance

	meeting = frappe.get_doc(
		{
			"doctype": "SNP Meeting",
			"meeting_type": "Complex case concertation",
			"title": "Concertation de la matrice",
			"meeting_date": add_days(today(), -2),
			"start_time": "18:00:00",
			"duration_hours": 2,
			"sector": sector,
			"minutes": "<p>Cas d'une patiente (confidentiel)</p>",
			"participants": [
				{"kind": "Professional", "professional": doctor_a.professional, "present": 1},
				{"kind": "Professional", "professional": doctor_b.professional, "present": 0},
				{"kind": "Other", "person_name": "Assistante sociale", "present": 1},
			],
		}
	).insert()
	confirm_attendance(meeting.name)
	world.add("SNP Meeting", meeting.name)

	# --- the CPTS bank details must hold a value for a leak of them to show --------------------------------
	if not world.settings_before.get("cpts_iban"):
		frappe.db.set_single_value(
			"SNP Settings", {"cpts_iban": "FR7630004000031234567890143", "cpts_bic": BIC}
		)

	# --- a comment and an attachment on one record of each doctype that has records ------------------------
	for doctype, names in list(world.records.items()):
		for name in names[:2]:
			frappe.get_doc(
				{
					"doctype": "Comment",
					"comment_type": "Comment",
					"reference_doctype": doctype,
					"reference_name": name,
					"content": "Note interne de la matrice",
				}
			).insert(ignore_permissions=True)
			suffix = unique_suffix()
			frappe.get_doc(
				{
					"doctype": "File",
					"file_name": f"matrice-{suffix}.txt",
					"content": f"confidentiel {suffix}".encode(),
					"attached_to_doctype": doctype,
					"attached_to_name": name,
					"is_private": 1,
				}
			).insert(ignore_permissions=True)
	frappe.db.commit()


def cleanup_world(world: World) -> None:
	"""Remove every record of the world and whatever an attack made for its people (again after a deadlock
	with other tests deleting at the same moment)."""
	for attempt in range(3):
		try:
			return _cleanup(world)
		except frappe.QueryDeadlockError:
			if attempt == 2:
				raise


def _cleanup(world: World) -> None:
	frappe.db.rollback()
	frappe.set_user("Administrator")
	# first: it starts with a rollback of its own
	delete_partners(world.partners, [i.user for i in world.identities.values() if i.partner])
	pros = world.professionals
	users = world.users
	names = [n for names in world.records.values() for n in names]

	def delete(doctype, filters):
		frappe.db.delete(doctype, filters)

	interns = frappe.get_all("SNP Intern", {"professional": ["in", pros]}, pluck="name")
	payments = frappe.get_all("SNP Indemnity Payment", {"professional": ["in", pros]}, pluck="name")
	runs = world.records.get("SNP Payment Run", [])
	absences = frappe.get_all("SNP Absence", {"professional": ["in", pros]}, pluck="name")
	for doctype, filters in (
		("SNP Debrief", {"intern": ["in", interns or [""]]}),
		("SNP Intern Supervisor", {"parent": ["in", interns or [""]]}),
		("SNP Intern", {"name": ["in", interns or [""]]}),
		("SNP Supervision Shift", {"supervisor": ["in", pros]}),
		("SNP Permanence Swap", {"from_professional": ["in", pros]}),
		("SNP Permanence Swap", {"to_professional": ["in", pros]}),
		("SNP Permanence", {"professional": ["in", pros]}),
		("SNP Indemnity Payment Line", {"parent": ["in", payments or [""]]}),
		("SNP Indemnity Payment", {"name": ["in", payments or [""]]}),
		("SNP Paid Item", {"professional": ["in", pros]}),
		("SNP Run Exclusion", {"parent": ["in", runs or [""]]}),
		("SNP Payment Run", {"name": ["in", runs or [""]]}),
		("SNP Absence Booking", {"parent": ["in", absences or [""]]}),
		("SNP Absence", {"name": ["in", absences or [""]]}),
		("SNP Availability Template", {"professional": ["in", pros]}),
		("SNP Call", {"name": ["in", world.records.get("SNP Call", []) or [""]]}),
		("SNP Callback Offer", {"parent": ["in", world.records.get("SNP Callback", []) or [""]]}),
		("SNP Callback", {"name": ["in", world.records.get("SNP Callback", []) or [""]]}),
		("SNP Call", {"caller_name": ["like", f"%{MARKER}%"]}),
		("SNP Access Audit", {"user": ["in", users]}),
		("SNP Meeting Participant", {"parent": ["in", world.records.get("SNP Meeting", []) or [""]]}),
		("SNP Meeting Participant", {"professional": ["in", pros]}),
		("SNP Meeting", {"name": ["in", world.records.get("SNP Meeting", []) or [""]]}),
		("SNP Meeting", {"title": ["like", f"%{MARKER}%"]}),
		("SNP Booking", {"professional": ["in", pros]}),
		("SNP Slot", {"professional": ["in", pros]}),
		("SNP Professional Sector", {"parent": ["in", pros]}),
		("SNP Professional", {"name": ["in", pros]}),
		("SNP Sector Neighbour", {"parent": ["in", world.records.get("SNP Sector", [])]}),
		("SNP Sector", {"name": ["in", world.records.get("SNP Sector", [])]}),
		("SNP Sector", {"name": ["like", f"%{MARKER}%"]}),
		("SNP Protocol", {"name": ["in", world.records.get("SNP Protocol", [])]}),
		("SNP Protocol", {"title": ["like", f"%{MARKER}%"]}),
		("SNP Indemnity Scheme", {"name": ["in", world.records.get("SNP Indemnity Scheme", [])]}),
		("SNP Indemnity Scheme", {"name": ["like", f"%{MARKER}%"]}),
		("SNP Partner", {"name": ["like", f"%{MARKER}%"]}),
		("Comment", {"reference_name": ["in", names]}),
		("Version", {"docname": ["in", names]}),
	):
		delete(doctype, filters)
	# the world's patients, unless records outside the world point at them (a patient is shared by identity)
	for patient in world.records.get("SNP Patient", []):
		if not any(
			frappe.db.exists(dt, {"patient": patient}) for dt in ("SNP Booking", "SNP Call", "SNP Callback")
		):
			delete("SNP Patient", {"name": patient})
	for file in frappe.get_all("File", {"attached_to_name": ["in", names]}, pluck="name"):
		frappe.delete_doc("File", file, force=True, ignore_permissions=True)
	for doctype in ("Comment", "File", "Version"):
		delete(doctype, {"owner": ["in", users]})
	if world.settings_before:
		frappe.db.set_single_value(
			"SNP Settings", {key: world.settings_before.get(key) for key in ("cpts_iban", "cpts_bic")}
		)
	for user in users:
		frappe.delete_doc("User", user, force=True, ignore_permissions=True)
	frappe.db.commit()
