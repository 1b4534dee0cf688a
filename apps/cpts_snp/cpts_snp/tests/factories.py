"""Builders of test records. Every builder gives unique identifiers, so tests never collide with each other,
with the demo data or with an earlier run."""

import random
import string
from contextlib import contextmanager
from datetime import date, datetime, time, timedelta

import frappe
from frappe.model.workflow import apply_workflow
from frappe.utils import add_days, get_datetime, getdate, now_datetime, today
from frappe.utils.password import update_password

from cpts_snp.services.onboarding import activate

TEST_PASSWORD = "Test-cpts-2026!"


def unique_suffix(length: int = 8) -> str:
	return "".join(random.choices(string.ascii_lowercase + string.digits, k=length))


def unique_rpps() -> str:
	return "1" + "".join(random.choices(string.digits, k=10))


def future_start(days: int = 30, hour: int = 10, minute: int = 0) -> datetime:
	return datetime.combine(getdate(add_days(today(), days)), time(hour, minute))


def make_sector(**values):
	doc = frappe.get_doc({"doctype": "SNP Sector", "sector_name": "Secteur " + unique_suffix(), **values})
	return doc.insert()


@contextmanager
def users_made_as_at_install():
	"""Users made as Frappe makes those of an installation (`flags.in_install`): every save of a User rewrites a
	site-wide default (`ask_pass_update`), which otherwise clears the whole cache of every process — about 2 s of
	the suite per user, spent rebuilding metadata. Callers clear the new users' own cache (`frappe.clear_cache(user=…)`),
	which is all a new user needs."""
	previous = frappe.flags.in_install
	frappe.flags.in_install = "cpts_snp_tests"
	try:
		yield
	finally:
		frappe.flags.in_install = previous


def make_user(roles=("Médecin SNP",), desk_user: bool = False, password: str = TEST_PASSWORD):
	"""A test user with `roles` (see users_made_as_at_install)."""
	email = f"test-{unique_suffix()}@cpts-test.fr"
	with users_made_as_at_install():
		user = frappe.get_doc(
			{
				"doctype": "User",
				"email": email,
				"first_name": "Test",
				"last_name": email.split("@")[0],
				# its own username: Frappe would suggest "test" to two users made at the same moment
				"username": email.split("@")[0],
				"send_welcome_email": 0,
				"user_type": "System User" if desk_user else "Website User",
			}
		).insert()
		user.add_roles(*roles)
		update_password(email, password)
	frappe.clear_cache(user=email)
	return email


def make_professional(user: str | None = None, status: str = "Active", **values):
	"""A professional, taken through the onboarding workflow up to `status` (Active by default)."""
	doc = frappe.get_doc(
		{
			"doctype": "SNP Professional",
			"last_name": "Testeur-" + unique_suffix(4),
			"first_name": "Jeanne",
			"rpps": unique_rpps(),
			"user": user,
			**values,
		}
	).insert()
	if status == "Active":
		doc = activate(doc)
	elif status == "Charter signed":
		doc = apply_workflow(doc, "Sign charter")
	return doc


LATE_REASON = "Déclaration a posteriori (données de test)"


def late_reason(starts_at, values: dict) -> dict:
	"""A slot or shift that starts in the past is declared by the coordination with a reason (tests build past
	activity as Administrator); the caller's own reason wins."""
	if starts_at and get_datetime(starts_at) <= now_datetime() and "late_declaration_reason" not in values:
		return {**values, "late_declaration_reason": LATE_REASON}
	return values


def make_slot(professional: str, starts_at: datetime | None = None, duration: int = 20, **values):
	values = late_reason(starts_at, values)
	doc = frappe.get_doc(
		{
			"doctype": "SNP Slot",
			"professional": professional,
			"starts_at": starts_at or future_start(),
			"duration": duration,
			**values,
		}
	)
	return doc.insert()


PATIENT = {
	"patient_last_name": "Durand",
	"patient_first_name": "Louise",
	"patient_date_of_birth": "1987-03-12",
	"patient_phone": "06 11 22 33 44",
}


def make_doctor():
	"""A website user with the role Médecin SNP and his SNP Professional record."""
	user = make_user()
	return user, make_professional(user=user).name


@contextmanager
def as_user(user: str):
	previous = frappe.session.user
	frappe.set_user(user)
	try:
		yield
	finally:
		frappe.set_user(previous)


def make_template(professional: str, **values):
	doc = frappe.get_doc(
		{
			"doctype": "SNP Availability Template",
			"professional": professional,
			"monday": 1,
			"thursday": 1,
			"start_time": "10:00:00",
			"number_of_slots": 2,
			"slot_duration": 20,
			"valid_from": add_days(today(), -7),
			**values,
		}
	)
	return doc.insert()


def make_absence(professional: str, from_date, to_date, **values):
	return frappe.get_doc(
		{
			"doctype": "SNP Absence",
			"professional": professional,
			"from_date": from_date,
			"to_date": to_date,
			**values,
		}
	).insert()


def next_weekday(weekday: int, weeks_ahead: int = 1) -> date:
	"""The date of `weekday` (0 = Monday) in `weeks_ahead` weeks."""
	start = getdate(add_days(today(), 7 * weeks_ahead))
	return start + timedelta(days=(weekday - start.weekday()) % 7)
