"""Builders of intern, supervision and permanence records for the tests (unique identifiers, like
cpts_snp.tests.factories)."""

from datetime import date, datetime

import frappe

from cpts_snp.tests.factories import late_reason, make_professional, make_user, unique_suffix

INTERN_ROLES = ("Interne SNP", "Médecin SNP")


def make_supervisor(user: str | None = None, **values) -> str:
	return make_professional(user=user, is_supervisor=1, **values).name


def make_intern(
	supervisors: list[str], user: str | None = None, semester=(date(2015, 1, 1), date(2035, 12, 31))
):
	"""An SNP Intern with his SNP Professional (profession SASPAS intern); returns the intern document."""
	professional = make_professional(user=user, profession="SASPAS intern").name
	return frappe.get_doc(
		{
			"doctype": "SNP Intern",
			"first_name": "Interne",
			"last_name": "Test-" + unique_suffix(4),
			"professional": professional,
			"faculty": "Université de Nantes",
			"semester_start": semester[0],
			"semester_end": semester[1],
			"supervisors": [{"supervisor": s} for s in supervisors],
		}
	).insert()


def make_intern_user() -> str:
	return make_user(roles=INTERN_ROLES)


def make_shift(supervisor: str, starts_at: datetime, ends_at: datetime, **values):
	return frappe.get_doc(
		{
			"doctype": "SNP Supervision Shift",
			"supervisor": supervisor,
			"starts_at": starts_at,
			"ends_at": ends_at,
			**late_reason(starts_at, values),
		}
	).insert()


def make_protocol(valid_from="2015-01-01", valid_to=None, **values):
	return frappe.get_doc(
		{
			"doctype": "SNP Protocol",
			"title": "Protocole " + unique_suffix(),
			"version": 1,
			"valid_from": valid_from,
			"valid_to": valid_to,
			"body": "<p>Conduite à tenir.</p>",
			**values,
		}
	).insert()


def make_permanence(professional: str | None, starts_at: datetime, ends_at: datetime, **values):
	return frappe.get_doc(
		{
			"doctype": "SNP Permanence",
			"organisation_type": "CPTS",
			"organisation_name": "CPTS Test",
			"professional": professional,
			"starts_at": starts_at,
			"ends_at": ends_at,
			"teleconsultation_link": "https://visio.cpts-test.fr/secret-" + unique_suffix(),
			**values,
		}
	).insert()
