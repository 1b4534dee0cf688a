"""Reading SNP Settings (a Single doctype, cached by Frappe) into the shapes the rules expect."""

from datetime import time

import frappe
from frappe.utils import cint, get_time, getdate

from cpts_snp.rules.pdsa import PdsaSchedule


def get_settings():
	return frappe.get_cached_doc("SNP Settings")


def _time(value, default: time) -> time:
	return get_time(value) if value else default


def pdsa_schedule() -> PdsaSchedule:
	settings = get_settings()
	return PdsaSchedule(
		evening_start=_time(settings.pdsa_evening_start, time(20)),
		morning_end=_time(settings.pdsa_morning_end, time(8)),
		saturday_start=_time(settings.pdsa_saturday_start, time(12)),
		bridge_days=frozenset(getdate(row.day) for row in settings.bridge_days),
	)


def booking_horizon_hours() -> int:
	return cint(get_settings().booking_horizon_hours) or 48


def generation_weeks() -> int:
	return cint(get_settings().generation_weeks) or 4


def supplement_weekly_cap() -> int:
	return cint(get_settings().supplement_weekly_cap) or 20


def weekly_target() -> tuple[int, int]:
	settings = get_settings()
	return cint(settings.weekly_target_min) or 2, cint(settings.weekly_target_max) or 6
