"""SNP booking rules: the booking horizon and the SNP supplement. Pure functions; no database.

- A booking is an SNP booking when the consultation starts within the horizon (48 h by default) of the
  request (the call).
- The SNP supplement is due for a consultation outside PDSA hours, within 48 h of a regulated request,
  for a patient who is not on the doctor's own médecin-traitant list; at most `cap` (20) a week per doctor.
"""

from dataclasses import dataclass
from datetime import date, datetime, timedelta

SUPPLEMENT_HORIZON = timedelta(hours=48)


def is_snp_booking(requested_at: datetime, consultation_start: datetime, horizon_hours: int) -> bool:
	delay = consultation_start - requested_at
	return timedelta(0) <= delay <= timedelta(hours=horizon_hours)


def week_bounds(day: date) -> tuple[date, date]:
	"""Monday and the following Monday of the ISO week holding `day`."""
	monday = day - timedelta(days=day.weekday())
	return monday, monday + timedelta(days=7)


@dataclass(frozen=True)
class SupplementDecision:
	eligible: bool
	# Why not, when not: "pdsa", "horizon", "own_patient", "not_regulated" or "cap_reached".
	reason: str | None
	# The rank of this supplement in the doctor's week when eligible (1 … cap), else None.
	rank: int | None = None


def supplement_decision(
	*,
	requested_at: datetime,
	consultation_start: datetime,
	is_pdsa: bool,
	patient_of_doctor: bool,
	regulated: bool,
	already_this_week: int,
	cap: int,
) -> SupplementDecision:
	"""Decide the SNP supplement of one booking, given the eligible bookings the doctor already has that week."""
	if is_pdsa:
		return SupplementDecision(False, "pdsa")
	delay = consultation_start - requested_at
	if not timedelta(0) <= delay <= SUPPLEMENT_HORIZON:
		return SupplementDecision(False, "horizon")
	if patient_of_doctor:
		return SupplementDecision(False, "own_patient")
	if not regulated:
		return SupplementDecision(False, "not_regulated")
	if already_this_week >= cap:
		return SupplementDecision(False, "cap_reached")
	return SupplementDecision(True, None, already_this_week + 1)
