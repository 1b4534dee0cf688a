"""The coordinator's key figures: the reports « Chiffres clés SNP », « Couverture territoriale » and « Activité par
médecin », and the number cards' methods, on a small dataset of 2019 (a year no other test nor the demo data
uses). Every test builds the dataset in its own transaction, rolled back afterwards.

The dataset (sector A, sector B, a professional without sector):
- March 2019, P1 (sector A). Monday 4th: 09:00 booked (SNP supplement) then honoured, 10:00 booked then no-show,
  11:00 booked (SNP supplement), 14:00 withdrawn (slot cancelled), 15:00 booked (SNP supplement) then the
  booking cancelled (the past slot is cancelled with it), 16:00 and 20:30 free. Thursday 7th: 09:00, 10:00,
  11:00 free.
- March 2019, P3 (no sector): Wednesday 6th 10:00 and 11:00 free. P5 (sector B): Friday 8th 10:00 withdrawn.
- April 2019, P2 (sector B): Tuesday 2nd 08:30 booked then honoured, 09:30 free.
- Calls: 4th March 08:15 and 08:40 (sector A), 5th March 09:00 (sector B), 2nd April 08:00 (sector B).
"""

from datetime import datetime, timedelta

import frappe
import pytest
from cpts_snp.agenda.report.activite_par_medecin import activite_par_medecin
from cpts_snp.agenda.report.chiffres_cles_snp import chiffres_cles_snp
from cpts_snp.agenda.report.couverture_territoriale import couverture_territoriale
from cpts_snp.api import dashboard
from cpts_snp.services.booking import book_slot
from cpts_snp.tests.factories import PATIENT, as_user, make_professional, make_sector, make_slot, make_user
from frappe.desk.query_report import get_script
from frappe.desk.query_report import run as run_report
from frappe.utils import now_datetime

MONTHS_FR = [
	"Janvier",
	"Février",
	"Mars",
	"Avril",
	"Mai",
	"Juin",
	"Juillet",
	"Août",
	"Septembre",
	"Octobre",
	"Novembre",
	"Décembre",
]
WEEKDAYS_FR = ["Lundi", "Mardi", "Mercredi", "Jeudi", "Vendredi", "Samedi", "Dimanche"]


def _book(slot, supplement: bool = False):
	request = None
	if supplement:
		# A regulated request three hours before the consultation, outside PDSA hours: SNP supplement due.
		request = {"requested_at": slot.starts_at - timedelta(hours=3), "regulated": 1}
	return book_slot(slot.name, PATIENT, request=request)


def _set_status(booking, status: str, **values):
	booking = frappe.get_doc("SNP Booking", booking.name)
	booking.update({"status": status, **values})
	booking.save()
	return booking


def _withdraw(slot):
	slot = frappe.get_doc("SNP Slot", slot.name)
	slot.status = "Cancelled"
	slot.save()


def _call(received_at: datetime, sector: str):
	return frappe.get_doc(
		{
			"doctype": "SNP Call",
			"received_at": received_at,
			"caller_type": "Patient",
			"sector": sector,
			"outcome": "Advice given",
		}
	).insert()


@pytest.fixture
def year_2019():
	a, b = make_sector().name, make_sector().name
	p1 = make_professional(sector=a).name
	p2 = make_professional(sector=b).name
	p3 = make_professional().name
	p5 = make_professional(sector=b).name

	def at(day: datetime, hour: int, minute: int = 0) -> datetime:
		return day.replace(hour=hour, minute=minute)

	monday = datetime(2019, 3, 4)
	slots = {hour: make_slot(p1, at(monday, hour)) for hour in (9, 10, 11, 14, 15, 16)}
	make_slot(p1, at(monday, 20, 30))
	for hour in (9, 10, 11):
		make_slot(p1, at(monday + timedelta(days=3), hour))
	for hour in (10, 11):
		make_slot(p3, at(monday + timedelta(days=2), hour))
	_withdraw(make_slot(p5, at(monday + timedelta(days=4), 10)))

	_set_status(_book(slots[9], supplement=True), "Honoured")
	_set_status(_book(slots[10]), "No-show")
	_book(slots[11], supplement=True)
	_withdraw(slots[14])
	_set_status(_book(slots[15], supplement=True), "Cancelled", cancellation_reason="Patient guéri")

	april = datetime(2019, 4, 2)
	_set_status(_book(make_slot(p2, at(april, 8, 30))), "Honoured")
	make_slot(p2, at(april, 9, 30))

	_call(at(monday, 8, 15), a)
	_call(at(monday, 8, 40), a)
	_call(at(monday + timedelta(days=1), 9), b)
	_call(at(april, 8), b)
	return frappe._dict(a=a, b=b, p1=p1, p2=p2, p3=p3, p5=p5)


def _key_figures(**filters):
	columns, data, _message, chart = chiffres_cles_snp.execute(frappe._dict({"year": 2019, **filters}))
	return columns, data, chart


def _figures(row) -> tuple:
	return tuple(row[key] for key in ("calls", "slots", "bookings", "honoured", "no_shows"))


# Chiffres clés SNP


def test_key_figures_count_each_month_calls_slots_bookings_and_outcomes(year_2019):
	_columns, data, _chart = _key_figures()
	assert len(data) == 13
	march, april = data[2], data[3]
	assert _figures(march) == (3, 10, 3, 1, 1)
	assert _figures(april) == (1, 2, 1, 1, 0)
	assert all(_figures(row) == (0, 0, 0, 0, 0) for i, row in enumerate(data[:12]) if i not in (2, 3))


def test_cancelled_slots_and_bookings_are_not_counted(year_2019):
	_columns, data, _chart = _key_figures()
	# P1's withdrawn 14:00 and the 15:00 whose booking was cancelled, P5's withdrawn slot: not made available;
	# the cancelled booking is not a booking.
	assert data[2]["slots"] == 10
	assert data[2]["bookings"] == 3


def test_fill_rate_is_bookings_over_slots_made_available(year_2019):
	_columns, data, _chart = _key_figures()
	assert data[2]["fill_rate"] == 30.0  # 3 / 10
	assert data[3]["fill_rate"] == 50.0  # 1 / 2
	assert data[0]["fill_rate"] is None  # nothing made available in January


def test_no_show_rate_is_no_shows_over_honoured_and_no_shows(year_2019):
	_columns, data, _chart = _key_figures()
	assert data[2]["no_show_rate"] == 50.0  # 1 / (1 + 1): the booking still to be recorded does not count
	assert data[3]["no_show_rate"] == 0.0
	assert data[0]["no_show_rate"] is None


def test_key_figures_total_row_sums_the_year_and_recomputes_the_rates(year_2019):
	_columns, data, _chart = _key_figures()
	total = data[12]
	assert total["month"] == "Total"
	assert _figures(total) == (4, 12, 4, 2, 1)
	assert total["fill_rate"] == 33.3  # 4 / 12, not the sum or mean of the monthly rates
	assert total["no_show_rate"] == 33.3  # 1 / 3


def test_key_figures_months_read_in_french_with_a_chart_of_calls_slots_and_consultations(year_2019):
	columns, data, chart = _key_figures()
	assert [row["month"] for row in data[:12]] == MONTHS_FR
	assert [column["label"] for column in columns] == [
		"Mois",
		"Appels reçus",
		"Créneaux proposés",
		"Rendez-vous",
		"Consultations réalisées",
		"Non honorés",
		"Taux de remplissage",
		"Taux de non-présentation",
	]
	assert chart["type"] == "bar"
	assert chart["data"]["labels"] == MONTHS_FR
	assert [(d["name"], d["values"][2:4]) for d in chart["data"]["datasets"]] == [
		("Appels reçus", [3, 1]),
		("Créneaux proposés", [10, 2]),
		("Consultations réalisées", [1, 1]),
	]


def test_key_figures_of_one_sector_count_only_that_sector(year_2019):
	_columns, data, _chart = _key_figures(sector=year_2019.a)
	assert _figures(data[2]) == (2, 8, 3, 1, 1)
	assert data[2]["fill_rate"] == 37.5
	assert _figures(data[3]) == (0, 0, 0, 0, 0)
	assert _figures(data[12]) == (2, 8, 3, 1, 1)


def test_key_figures_run_as_a_standard_report_of_the_desk_for_the_coordinator(year_2019):
	coordinator = make_user(roles=["Coordinateur CPTS"], desk_user=True)
	with as_user(coordinator):
		result = run_report("Chiffres cles SNP", filters={"year": 2019, "sector": year_2019.b})
	rows = [row for row in result["result"] if isinstance(row, dict)]
	assert _figures(rows[3]) == (1, 2, 1, 1, 0)
	assert result["chart"]["type"] == "bar"


def test_reports_are_for_the_coordination_only():
	secretary = make_user(roles=["Télésecrétaire"], desk_user=True)
	coordinator = make_user(roles=["Coordinateur CPTS"], desk_user=True)
	for report in ("Chiffres cles SNP", "Couverture territoriale", "Activite par medecin"):
		with as_user(secretary), pytest.raises(frappe.PermissionError):
			run_report(report)
		with as_user(coordinator):
			assert run_report(report)["columns"]


# Couverture territoriale


def _coverage(**filters):
	return couverture_territoriale.execute(
		frappe._dict({"from_date": "2019-03-04", "to_date": "2019-03-10", **filters})
	)


def test_coverage_counts_slots_made_available_by_weekday_and_starting_hour(year_2019):
	_columns, data = _coverage(sector=year_2019.a)
	assert [row["weekday"] for row in data] == WEEKDAYS_FR
	assert {row["sector"] for row in data} == {year_2019.a}
	monday, thursday = data[0], data[3]
	assert {key: value for key, value in monday.items() if key.startswith("h") and value} == {
		"h09": 1,
		"h10": 1,
		"h11": 1,
		"h16": 1,
	}
	# 14:00 was withdrawn and 15:00 cancelled with its booking: holes.
	assert monday["h14"] == monday["h15"] == 0
	assert monday["outside"] == 1  # 20:30
	assert monday["total"] == 5
	assert (thursday["h09"], thursday["h10"], thursday["h11"], thursday["total"]) == (1, 1, 1, 3)
	assert all(row["total"] == 0 for row in data if row["weekday"] not in ("Lundi", "Jeudi"))


def test_coverage_has_one_column_per_hour_from_8_to_20_and_one_outside_only_when_needed(year_2019):
	columns, _data = _coverage(sector=year_2019.a)
	labels = [column["label"] for column in columns]
	assert labels[:2] == ["Secteur", "Jour"]
	assert labels[2:14] == [f"{hour:02d}h" for hour in range(8, 20)]
	assert labels[14:] == ["Hors 08h-20h", "Total"]

	columns, _data = _coverage(sector=year_2019.b)
	assert [column["fieldname"] for column in columns][14:] == ["total"]


def test_coverage_keeps_every_sector_and_weekday_row_so_empty_cells_show(year_2019):
	_columns, data = _coverage()
	rows = {(row["sector"], row["weekday"]): row for row in data}
	for sector in (year_2019.a, year_2019.b):
		assert all((sector, weekday) in rows for weekday in WEEKDAYS_FR)
	# Sector B has nothing that week (P5's only slot was withdrawn): seven rows of empty cells.
	assert all(rows[year_2019.b, weekday]["total"] == 0 for weekday in WEEKDAYS_FR)
	assert all(rows[year_2019.b, "Vendredi"][f"h{hour:02d}"] == 0 for hour in range(8, 20))
	# Slots of a professional without sector are not hidden.
	assert rows["Sans secteur", "Mercredi"]["h10"] == rows["Sans secteur", "Mercredi"]["h11"] == 1
	assert rows["Sans secteur", "Mercredi"]["total"] == 2


# Activité par médecin


def _activity(**filters):
	columns, data = activite_par_medecin.execute(
		frappe._dict({"from_date": "2019-03-04", "to_date": "2019-03-31", **filters})
	)
	return columns, {row["professional"]: row for row in data}


def test_doctor_activity_counts_offered_booked_honoured_no_shows_and_supplements(year_2019):
	_columns, rows = _activity()
	p1 = rows[year_2019.p1]
	counts = tuple(p1[key] for key in ("offered", "booked", "honoured", "no_shows", "supplements"))
	# The cancelled booking had an SNP supplement: it is not counted.
	assert counts == (8, 3, 1, 1, 2)
	assert p1["sector"] == year_2019.a
	assert p1["per_week"] == 2.0  # 8 slots over 4 weeks
	assert rows[year_2019.p3]["per_week"] == 0.5


def test_doctor_activity_lists_only_professionals_with_slots_or_bookings_in_the_period(year_2019):
	_columns, rows = _activity()
	assert year_2019.p2 not in rows  # April only
	# P5 withdrew his only slot: listed, with nothing offered, so the coordinator sees it.
	p5 = rows[year_2019.p5]
	assert (p5["offered"], p5["booked"], p5["target_met"]) == (0, 0, "Non")

	_columns, rows = _activity(from_date="2019-04-01", to_date="2019-04-30")
	assert set(rows) & {year_2019.p1, year_2019.p2, year_2019.p3, year_2019.p5} == {year_2019.p2}


@pytest.fixture
def weekly_target():
	"""weekly_target(minimum, maximum): change SNP Settings for this test only (its cache too)."""
	settings = frappe.get_doc("SNP Settings")

	def set_target(minimum: int, maximum: int):
		settings.weekly_target_min, settings.weekly_target_max = minimum, maximum
		settings.save()

	yield set_target
	frappe.db.rollback()
	frappe.clear_document_cache("SNP Settings", "SNP Settings")


def test_target_met_when_the_weekly_average_is_between_the_settings_minimum_and_maximum(
	year_2019, weekly_target
):
	weekly_target(2, 6)
	columns, rows = _activity()
	assert columns[-1]["label"] == "Objectif atteint (2 à 6 par semaine)"
	assert rows[year_2019.p1]["target_met"] == "Oui"  # 2.0 a week: the minimum is included
	assert rows[year_2019.p3]["target_met"] == "Non"  # 0.5 a week

	weekly_target(1, 2)
	_columns, rows = _activity()
	assert rows[year_2019.p1]["target_met"] == "Oui"  # the maximum is included
	assert rows[year_2019.p3]["target_met"] == "Non"

	weekly_target(3, 6)
	_columns, rows = _activity()
	assert rows[year_2019.p1]["target_met"] == "Non"

	weekly_target(1, 1)
	_columns, rows = _activity()
	assert rows[year_2019.p1]["target_met"] == "Non"  # above the maximum


# Number cards


def test_fill_rate_card_is_the_months_bookings_over_slots_made_available(year_2019):
	card = dashboard.fill_rate(on_date="2019-03-15")
	assert card["value"] == 30.0
	assert card["fieldtype"] == "Percent"
	assert dashboard.fill_rate(on_date="2019-04-30")["value"] == 50.0
	assert dashboard.fill_rate(on_date="2019-06-01")["value"] == 0


def test_no_show_rate_card_is_the_months_no_shows_over_honoured_and_no_shows(year_2019):
	assert dashboard.no_show_rate(on_date="2019-03-01")["value"] == 50.0
	assert dashboard.no_show_rate(on_date="2019-04-10")["value"] == 0
	assert dashboard.no_show_rate(on_date="2019-06-01")["value"] == 0


def test_rate_cards_are_for_the_cpts_staff_not_the_doctors(year_2019):
	doctor = make_user(roles=["Médecin SNP"])
	with as_user(doctor), pytest.raises(frappe.PermissionError):
		dashboard.fill_rate()
	with as_user(doctor), pytest.raises(frappe.PermissionError):
		dashboard.no_show_rate()

	coordinator = make_user(roles=["Coordinateur CPTS"], desk_user=True)
	with as_user(coordinator):
		# Frappe shows a custom number card to whoever can read its document type (SNP Call).
		assert frappe.has_permission("Number Card", doc=frappe.get_doc("Number Card", "Taux de remplissage"))
		card = dashboard.fill_rate(on_date="2019-03-15")
	assert card["value"] == 30.0
	assert card["route"] == ["query-report", "Chiffres cles SNP"]

	secretary = make_user(roles=["Télésecrétaire"], desk_user=True)
	with as_user(secretary):
		card = dashboard.no_show_rate(on_date="2019-03-15")
	assert card["value"] == 50.0
	assert "route" not in card  # the report is for the coordination


def test_monthly_count_cards_count_this_months_calls_slots_made_available_and_consultations():
	from frappe.desk.doctype.number_card.number_card import get_result

	cards = ("Appels du mois", "Créneaux proposés du mois", "Consultations réalisées du mois")

	def values():
		docs = [frappe.get_doc("Number Card", name) for name in cards]
		return [get_result(doc.as_dict(), doc.filters_json) for doc in docs]

	before = values()
	sector = make_sector().name
	professional = make_professional(sector=sector).name
	month_start = now_datetime().replace(day=1, hour=0, minute=1, second=0, microsecond=0)
	slot = make_slot(professional, month_start)
	make_slot(professional, month_start + timedelta(hours=1))
	_withdraw(make_slot(professional, month_start + timedelta(hours=2)))
	_set_status(_book(slot), "Honoured")
	_call(now_datetime(), sector)
	after = values()
	assert [a - b for a, b in zip(after, before, strict=True)] == [1, 2, 1]


def test_report_scripts_are_found_by_the_desk():
	for report, marker in (
		("Chiffres cles SNP", "year"),
		("Couverture territoriale", "#ffe3e3"),
		("Activite par medecin", "target_met"),
	):
		assert marker in get_script(report)["script"]


def test_workspace_shows_the_key_figures_charts_reports_and_shortcuts():
	workspace = frappe.get_doc("Workspace", "Soins non programmés")
	cards = [row.number_card_name for row in workspace.number_cards]
	assert cards == [
		"Appels du mois",
		"Créneaux proposés du mois",
		"Consultations réalisées du mois",
		"Taux de remplissage",
		"Taux de non-présentation",
	]
	assert all(frappe.db.get_value("Number Card", card, "is_standard") for card in cards)
	assert (
		frappe.db.get_value("Number Card", "Taux de remplissage", "method")
		== "cpts_snp.api.dashboard.fill_rate"
	)
	charts = [row.chart_name for row in workspace.charts]
	assert charts == ["Appels par mois", "Consultations par mois"]
	assert all(
		frappe.db.get_value("Dashboard Chart", chart, ["timeseries", "time_interval", "timespan"])
		== (1, "Monthly", "Last Year")
		for chart in charts
	)
	reports = {row.link_to for row in workspace.links if row.link_type == "Report"}
	assert {"Chiffres cles SNP", "Couverture territoriale", "Activite par medecin"} <= reports
	assert all(frappe.db.get_value("Report", report, "is_standard") == "Yes" for report in reports)
	shortcuts = {row.label: (row.type, row.link_to, row.doc_view) for row in workspace.shortcuts}
	assert shortcuts["Télésecrétariat"][:2] == ("Page", "snp-desk")
	assert shortcuts["Appels"] == ("DocType", "SNP Call", "List")
	assert shortcuts["Calendrier des créneaux"] == ("DocType", "SNP Slot", "Calendar")
	# Shortcuts that were there before are kept.
	assert {"Créneaux disponibles", "Rendez-vous", "Professionnels", "Secteurs"} <= set(shortcuts)
