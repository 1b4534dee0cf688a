"""The report « Indicateurs ACI » (cpts_snp.services.aci): the access-to-care figures the CPTS sends the CPAM,
computed for one year on a hand-checked world of 2012 (a year no other test nor the demo data uses), built in the
test's own transaction; its PDF and who may run it, over HTTP.

The world (slots of 20 minutes unless said, open to partners and the SAS unless said):
- P1, general practitioner, charter signed 10/05/2011: 05/03/2012 09:00, 09:20, 09:40, 10:00, 10:20, 10:40 and
  06/03/2012 14:00 (30 minutes); also 31/12/2011 20:00 and 01/01/2013 08:00, each booked through the SAS and
  honoured (other years).
- P2, general practitioner, charter 01/03/2012: 10/05/2012 10:00 and 10:20, reserved for the CPTS telesecretariat.
- P3, nurse, charter 01/06/2012: 12/06/2012 11:00.
- P4, general practitioner, charter 01/01/2011, suspended since: 03/09/2012 16:00 and 16:20.
- P5, general practitioner, charter 01/02/2013 (after the year): 05/02/2013 10:00.
- P6, general practitioner, charter 10/01/2012: 01/10/2012 10:00, withdrawn.
- Bookings of 2012: 09:00 telesecretariat, requested 3 h before, regulated, honoured; 09:20 SAS, 30 h before,
  regulated, honoured; 09:40 SAS, 60 h before, honoured; 10:00 emergency department, regulated, no-show;
  10:20 SAS, cancelled (its past slot with it); 10:40 telesecretariat, still booked; P4 16:00 by the doctor,
  1 h before, honoured; P3 11:00 telesecretariat, exactly 24 h before, honoured.
- Calls of 2012: 05/03 06:00 patient without GP, booked (the 09:00 booking); 05/03 07:00 patient with GP,
  advice; 01/04 patient without GP, no slot; 02/04 pharmacist, referred to the 15; 31/12 23:30 patient without
  GP, referred to PDSA. Also 31/12/2011 23:59 and 01/01/2013 00:00 (other years).

By hand, for 2012:
- members (charter by 31/12/2012, active or suspended): P1, P2, P3, P4, P6 = 5; taking part (a slot made
  available in 2012): P1, P2, P3, P4 = 4, so 80.0 %.
- slots made available: P1 6 (the 10:20 went with its booking), P2 2, P3 1, P4 2 = 11; minutes: 5 × 20 + 30 +
  40 + 20 + 40 = 230, so 3.8 hours.
- doctors taking part in the SAS: P1 and P4 (P2's slots are reserved, P3 is a nurse, P6 withdrew his) = 2.
- bookings 7, consultations done 5, no-shows 1, regulated consultations 2 (the no-show does not count),
  within 24 h: 09:00, P4, P3 = 3 / 5 = 60.0 %; within 48 h: also 09:20 = 4 / 5 = 80.0 %; SAS bookings 2 (the
  cancelled one does not count).
- calls 5: one of each outcome but « Referred to the emergency department » (0); without a médecin traitant: 3
  (the pharmacist's call is not a patient's).
"""

import random
import string
from datetime import datetime, timedelta

import frappe
import pytest
from cpts_snp.services import aci
from cpts_snp.services.booking import book_slot
from cpts_snp.tests.factories import PATIENT, as_user, make_professional, make_slot, make_user
from frappe.desk.query_report import run as run_report
from frappe.model.workflow import apply_workflow

YEAR = 2012
# a patient of this module only: the shared test patient may be committed and removed meanwhile by another test run
ACI_PATIENT = {**PATIENT, "patient_last_name": "Aci-" + "".join(random.choices(string.ascii_lowercase, k=8))}


def _professional(charter: str, profession: str = "General practitioner"):
	professional = make_professional(profession=profession)
	frappe.db.set_value("SNP Professional", professional.name, "charter_signed_on", charter)
	return professional.name


def _slot(professional: str, starts_at: datetime, **values):
	return make_slot(professional, starts_at, **{"reserved_for": "Open to partners", **values})


def _book(slot, hours_before: float, channel: str = "Telesecretariat", regulated: int = 0, status=None):
	request = {"requested_at": slot.starts_at - timedelta(hours=hours_before), "regulated": regulated}
	booking = book_slot(slot.name, ACI_PATIENT, channel=channel, request=request)
	if status:
		booking = frappe.get_doc("SNP Booking", booking.name)
		booking.status = status
		if status == "Cancelled":
			booking.cancellation_reason = "Patient guéri"
		booking.save()
	return booking


def _call(received_at: datetime, outcome: str, has_gp: int = 0, caller_type: str = "Patient", booking=None):
	return frappe.get_doc(
		{
			"doctype": "SNP Call",
			"received_at": received_at,
			"caller_type": caller_type,
			"has_gp": has_gp,
			"outcome": outcome,
			"booking": booking,
		}
	).insert()


@pytest.fixture
def world_2012():
	p1 = _professional("2011-05-10")
	p2 = _professional("2012-03-01")
	p3 = _professional("2012-06-01", profession="Nurse")
	p4 = _professional("2011-01-01")
	p5 = _professional("2013-02-01")
	p6 = _professional("2012-01-10")

	monday = datetime(2012, 3, 5, 9, 0)
	p1_slots = [_slot(p1, monday + timedelta(minutes=20 * i)) for i in range(6)]
	_slot(p1, datetime(2012, 3, 6, 14, 0), duration=30)
	for starts_at in (datetime(2011, 12, 31, 20, 0), datetime(2013, 1, 1, 8, 0)):
		_book(_slot(p1, starts_at), 2, channel="SAS", status="Honoured")
	for minute in (0, 20):
		_slot(p2, datetime(2012, 5, 10, 10, minute), reserved_for="CPTS telesecretariat")
	p3_slot = _slot(p3, datetime(2012, 6, 12, 11, 0))
	p4_slots = [_slot(p4, datetime(2012, 9, 3, 16, minute)) for minute in (0, 20)]
	_slot(p5, datetime(2013, 2, 5, 10, 0))
	withdrawn = _slot(p6, datetime(2012, 10, 1, 10, 0))
	withdrawn.status = "Cancelled"
	withdrawn.save()

	first = _book(p1_slots[0], 3, regulated=1, status="Honoured")
	_book(p1_slots[1], 30, channel="SAS", regulated=1, status="Honoured")
	_book(p1_slots[2], 60, channel="SAS", status="Honoured")
	_book(p1_slots[3], 2, channel="Emergency department", regulated=1, status="No-show")
	_book(p1_slots[4], 2, channel="SAS", status="Cancelled")
	_book(p1_slots[5], 2)
	_book(p4_slots[0], 1, channel="Doctor", status="Honoured")
	_book(p3_slot, 24, status="Honoured")
	apply_workflow(frappe.get_doc("SNP Professional", p4), "Suspend")

	_call(datetime(2012, 3, 5, 6, 0), "SNP appointment booked", booking=first.name)
	_call(datetime(2012, 3, 5, 7, 0), "Advice given", has_gp=1)
	_call(datetime(2012, 4, 1, 10, 0), "No slot available")
	_call(datetime(2012, 4, 2, 10, 0), "Referred to the 15", caller_type="Pharmacist")
	_call(datetime(2012, 12, 31, 23, 30), "Referred to PDSA")
	_call(datetime(2011, 12, 31, 23, 59), "Advice given")
	_call(datetime(2013, 1, 1, 0, 0), "No slot available")
	return frappe._dict(p1=p1, p2=p2, p3=p3, p4=p4, p5=p5, p6=p6)


def test_professionals_taking_part_are_those_who_offered_a_slot_among_those_who_signed_the_charter(
	world_2012,
):
	values = aci.compute(YEAR)
	assert frappe.db.get_value("SNP Professional", world_2012.p4, "status") == "Suspended"
	assert values["members"] == 5  # P5 signed in 2013
	assert values["participants"] == 4  # P6 withdrew his only slot, the suspended P4 offered two
	assert values["participation_share"] == 80.0
	assert values["snp_organisation"] is True


def test_slots_and_hours_made_available_leave_out_cancelled_slots_and_other_years(world_2012):
	values = aci.compute(YEAR)
	assert values["slots"] == 11
	assert values["hours"] == 3.8  # 230 minutes


def test_consultations_done_no_shows_and_regulated_ones_count_the_years_bookings(world_2012):
	values = aci.compute(YEAR)
	assert values["bookings"] == 7
	assert values["consultations"] == 5
	assert values["no_shows"] == 1
	assert values["regulated"] == 2  # the regulated no-show is not a consultation done


def test_consultations_within_24_and_48_hours_are_shares_of_the_consultations_done(world_2012):
	values = aci.compute(YEAR)
	assert values["within_24h"] == 60.0  # 3 / 5, the request exactly 24 h before counts
	assert values["within_48h"] == 80.0  # 4 / 5, the request 60 h before does not


def test_sas_participation_counts_doctors_with_slots_seen_by_the_sas_and_its_bookings(world_2012):
	values = aci.compute(YEAR)
	assert values["sas_doctors"] == 2  # P1 and the suspended P4; P2's slots are reserved, P3 is a nurse
	assert values["sas_bookings"] == 2  # the cancelled SAS booking and those of 2011 and 2013 do not count


def test_calls_are_counted_by_outcome_and_those_of_patients_without_a_medecin_traitant(world_2012):
	values = aci.compute(YEAR)
	assert values["calls"] == 5
	assert {
		key: value for key, value in values.items() if key.startswith("calls_") and key != "calls_without_gp"
	} == {
		"calls_snp_appointment_booked": 1,
		"calls_advice_given": 1,
		"calls_referred_to_the_15": 1,
		"calls_referred_to_pdsa": 1,
		"calls_referred_to_the_emergency_department": 0,
		"calls_no_slot_available": 1,
	}
	assert values["calls_without_gp"] == 3


def test_another_years_data_do_not_count(world_2012):
	values = aci.compute(2013)
	assert values["slots"] == 2  # P1's 01/01/2013 08:00 and P5's
	assert values["consultations"] == 1
	assert values["sas_bookings"] == 1
	assert values["calls"] == 1
	assert values["members"] == 6  # P5 signed in 2013: every member of 2012 and him
	nothing = aci.compute(2010)
	assert (nothing["slots"], nothing["bookings"], nothing["calls"], nothing["members"]) == (0, 0, 0, 0)
	assert nothing["snp_organisation"] is False
	assert nothing["participation_share"] is None  # nothing to divide by


def test_report_shows_each_indicator_with_its_unit_definition_and_source_in_french(world_2012):
	coordinator = make_user(roles=["Coordinateur CPTS"], desk_user=True)
	with as_user(coordinator):
		result = run_report(aci.REPORT, filters={"year": YEAR})
	labels = [column["label"] for column in result["columns"]]
	assert labels == ["Mission", "Indicateur", "Valeur", "Unité", "Définition", "Source (texte de l'ACI)"]
	rows = {row["key"]: row for row in result["result"]}
	assert rows["sas_doctors"]["indicator"] == "Médecins participant au SAS"
	assert (rows["sas_doctors"]["value"], rows["sas_doctors"]["unit"]) == (2, "médecins")
	assert rows["sas_doctors"]["source"].startswith("Avenant 2 à l'ACI CPTS")
	assert rows["snp_organisation"]["value"] == "Oui"
	assert rows["participation_share"]["value"] == 80.0
	assert rows["calls_no_slot_available"]["indicator"] == "Appels avec l'issue « Aucun créneau »"
	assert all(row["definition"] and row["source"].strip() for row in rows.values())
	summary = {item["label"]: item["value"] for item in result["report_summary"]}
	assert summary["Année"] == str(YEAR)
	assert summary["CPTS"] == frappe.utils.escape_html(aci.cpts_name())


def test_figures_the_app_cannot_compute_say_so_and_why(world_2012):
	rows = {row["key"]: row for row in aci.rows(YEAR)}
	for key in ("found_gp", "without_gp_trend", "emergency_visits"):
		assert rows[key]["value"] == "Non calculé par l'application"
		assert rows[key]["computed"] == 0
		assert rows[key]["definition"].startswith("Non calculé par l'application : ")
	assert rows["found_gp"]["indicator"] == "Patients sans médecin traitant ayant trouvé un médecin traitant"
	assert all(
		row["computed"]
		for key, row in rows.items()
		if key not in ("found_gp", "without_gp_trend", "emergency_visits")
	)


def test_report_roles_are_the_coordination_and_the_finance():
	roles = set(frappe.get_all("Has Role", {"parent": aci.REPORT, "parenttype": "Report"}, pluck="role"))
	assert roles == set(aci.ROLES)


def test_pdf_lists_the_indicators_of_the_year(world_2012):
	from cpts_snp.api.aci import render_html

	html = render_html(YEAR)
	assert "Indicateurs ACI : accès aux soins" in html
	assert "Année 2012" in html
	assert "Médecins participant au SAS" in html
	assert ">80,0<" in html  # the share of the professionals taking part, the French way
	assert "Non calculé par l&#39;application" in html or "Non calculé par l'application" in html


def test_an_unreadable_year_is_refused():
	with pytest.raises(frappe.ValidationError):
		aci.compute(99999)


# Over HTTP: who may run the report and download its PDF


def test_coordination_and_finance_run_export_and_print_the_report_others_get_403(
	committed, server, http_login
):
	allowed = {
		role: committed.user([role]) for role in ("Coordinateur CPTS", "Comptable CPTS", "Trésorier CPTS")
	}
	refused = {role: committed.user([role]) for role in ("Télésecrétaire",)}
	for role in ("Médecin SNP", "Interne SNP", "Partenaire SNP"):
		refused[role] = committed.user([role], desk_user=False)
	frappe.db.commit()
	report = {"report_name": aci.REPORT, "filters": frappe.as_json({"year": YEAR})}
	for role, user in allowed.items():
		session = http_login(user)
		response = session.post(f"{server}/api/method/frappe.desk.query_report.run", data=report)
		assert response.status_code == 200, (role, response.text[:300])
		assert {row["key"] for row in response.json()["message"]["result"]} >= {"slots", "sas_doctors"}
		pdf = session.get(f"{server}/api/method/cpts_snp.api.aci.download_pdf", params={"year": YEAR})
		assert pdf.status_code == 200, (role, pdf.text[:300])
		assert pdf.headers["Content-Type"].startswith("application/pdf")
		assert pdf.content.startswith(b"%PDF")
		export = session.post(
			f"{server}/api/method/frappe.desk.query_report.export_query",
			data={**report, "file_format_type": "CSV", "visible_idx": "[]", "csv_delimiter": ";"},
		)
		assert export.status_code == 200, (role, export.text[:300])
		assert "Médecins participant au SAS" in export.content.decode("utf-8")
	for role, user in refused.items():
		session = http_login(user)
		response = session.post(f"{server}/api/method/frappe.desk.query_report.run", data=report)
		assert response.status_code == 403, (role, response.status_code)
		pdf = session.get(f"{server}/api/method/cpts_snp.api.aci.download_pdf", params={"year": YEAR})
		assert pdf.status_code == 403, (role, pdf.status_code)
		export = session.post(
			f"{server}/api/method/frappe.desk.query_report.export_query",
			data={**report, "file_format_type": "CSV", "visible_idx": "[]"},
		)
		assert export.status_code == 403, (role, export.status_code)


def test_the_desk_finds_the_reports_script_with_its_year_filter_and_pdf_button():
	from frappe.desk.query_report import get_script

	script = get_script(aci.REPORT)["script"]
	assert 'frappe.query_reports["Indicateurs ACI"]' in script
	assert "cpts_snp.api.aci.download_pdf" in script
