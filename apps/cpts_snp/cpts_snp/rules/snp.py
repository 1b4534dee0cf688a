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


@dataclass(frozen=True)
class WeekBooking:
	"""One booking of a doctor's week, as the weekly ranking of supplements sees it."""

	name: str
	# holds a supplement today (stored)
	holds: bool
	# why the rules refuse it whatever the cap ("pdsa", "horizon", "own_patient", "not_regulated"), else None
	refused_for: str | None
	# its supplement is in a payment run: it keeps what it has
	frozen: bool = False


def rank_week(bookings: list[WeekBooking], cap: int) -> dict[str, SupplementDecision | None]:
	"""Re-decide the supplements of one doctor's week after a change (`bookings` in booking order).

	Nobody loses a supplement because another booking changed: a booking that holds one keeps it while the
	rules still allow it (and whatever happens when it is frozen, i.e. paid). A place that frees up goes to the
	bookings waiting only because of the cap, in booking order. Returns, for each booking, its new decision, or
	None when it keeps what it has (no change to write)."""
	keeps = [b for b in bookings if b.holds and (b.frozen or b.refused_for is None)]
	count = len(keeps)
	result: dict[str, SupplementDecision | None] = {b.name: None for b in keeps}
	for booking in bookings:
		if booking.name in result:
			continue
		if booking.frozen:
			result[booking.name] = None
		elif booking.refused_for:
			result[booking.name] = SupplementDecision(False, booking.refused_for)
		elif count < cap:
			count += 1
			result[booking.name] = SupplementDecision(True, None, count)
		else:
			result[booking.name] = SupplementDecision(False, "cap_reached")
	return result
