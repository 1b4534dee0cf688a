import frappe
import pytest

from cpts_snp.services.settings import booking_horizon_hours, pdsa_schedule


def test_the_defaults_are_the_french_snp_rules():
	schedule = pdsa_schedule()
	assert (str(schedule.evening_start), str(schedule.morning_end), str(schedule.saturday_start)) == (
		"20:00:00",
		"08:00:00",
		"12:00:00",
	)
	assert booking_horizon_hours() == 48
	settings = frappe.get_single("SNP Settings")
	assert (settings.weekly_target_min, settings.weekly_target_max, settings.supplement_weekly_cap) == (
		2,
		6,
		20,
	)


@pytest.mark.parametrize(
	"values, message",
	[
		({"booking_horizon_hours": -1}, "doit être un nombre positif"),
		({"weekly_target_min": 7}, "ne peut pas dépasser son maximum"),
		({"pdsa_morning_end": "21:00:00"}, "doit précéder le début du soir"),
		({"generation_weeks": 60}, "au plus 26 semaines"),
	],
)
def test_inconsistent_settings_are_refused_in_french(values, message):
	settings = frappe.get_single("SNP Settings")
	settings.update(values)
	with pytest.raises(frappe.ValidationError, match=message):
		settings.save()
	frappe.clear_document_cache("SNP Settings", "SNP Settings")


def test_bridge_days_join_the_pdsa_schedule():
	settings = frappe.get_single("SNP Settings")
	settings.append("bridge_days", {"day": "2027-05-07", "label": "Pont de l'Ascension"})
	settings.save()
	try:
		assert frappe.utils.getdate("2027-05-07") in pdsa_schedule().bridge_days
	finally:
		settings.bridge_days = []
		settings.save()
