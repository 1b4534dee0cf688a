"""The onboarding workflow: Candidat → Charte signée → Actif ⇄ Suspendu, moved by the coordinator;
only Actif professionals publish slots."""

import frappe
import pytest
from frappe.model.workflow import WorkflowPermissionError, WorkflowTransitionError, apply_workflow
from frappe.utils import today

from cpts_snp.exceptions import InactiveProfessionalError
from cpts_snp.tests.factories import as_user, make_professional, make_slot, make_user


def test_a_new_professional_is_a_candidate_who_cannot_publish():
	candidate = make_professional(status="Candidate")
	assert (candidate.status, candidate.active) == ("Candidate", 0)
	with pytest.raises(InactiveProfessionalError):
		make_slot(candidate.name)


def test_the_coordinator_takes_a_professional_to_active_and_back():
	coordinator = make_user(roles=["Coordinateur CPTS"], desk_user=True)
	professional = make_professional(status="Candidate")
	with as_user(coordinator):
		professional = apply_workflow(professional, "Sign charter")
		assert professional.status == "Charter signed" and str(professional.charter_signed_on) == today()
		professional = apply_workflow(professional, "Activate")
		assert professional.active
		make_slot(professional.name)
		professional = apply_workflow(professional, "Suspend")
		assert not professional.active
		with pytest.raises(InactiveProfessionalError):
			make_slot(professional.name)
		professional = apply_workflow(professional, "Reactivate")
		assert professional.active


def test_skipping_the_charter_is_not_a_transition():
	professional = make_professional(status="Candidate")
	with pytest.raises(frappe.ValidationError):
		apply_workflow(professional, "Activate")


def test_only_the_coordinator_moves_the_onboarding():
	telesecretary = make_user(roles=["Télésecrétaire"], desk_user=True)
	professional = make_professional(status="Candidate")
	with (
		as_user(telesecretary),
		pytest.raises((WorkflowPermissionError, WorkflowTransitionError, frappe.PermissionError)),
	):
		apply_workflow(professional, "Sign charter")
	assert frappe.db.get_value("SNP Professional", professional.name, "status") == "Candidate"
