"""iCalendar (RFC 5545) feed of a doctor's SNP slots, built with the `icalendar` library.

No patient data goes into the feed: a calendar app may sync it to third-party servers."""

from datetime import datetime
from zoneinfo import ZoneInfo

from icalendar import Calendar, Event

SUMMARIES = {
	"Available": "Créneau SNP libre",
	"Booked": "Rendez-vous SNP",
	"Honoured": "Rendez-vous SNP (honoré)",
	"No-show": "Rendez-vous SNP (non honoré)",
}


def slots_calendar(slots: list[dict], *, calendar_name: str, timezone: str, domain: str) -> bytes:
	"""`slots`: dicts with name, starts_at, ends_at, status, modality, location, modified (naive datetimes in
	`timezone`). Cancelled slots are left out."""
	tz = ZoneInfo(timezone)
	calendar = Calendar()
	calendar.add("prodid", "-//cpts_snp//Agenda SNP//FR")
	calendar.add("version", "2.0")
	calendar.add("calscale", "GREGORIAN")
	calendar.add("x-wr-calname", calendar_name)
	calendar.add("x-wr-timezone", timezone)
	for slot in slots:
		if slot["status"] not in SUMMARIES:
			continue
		event = Event()
		event.add("uid", f"{slot['name']}@{domain}")
		event.add("summary", SUMMARIES[slot["status"]])
		event.add("dtstart", _aware(slot["starts_at"], tz))
		event.add("dtend", _aware(slot["ends_at"], tz))
		event.add("dtstamp", _aware(slot.get("modified") or slot["starts_at"], tz))
		if slot.get("location"):
			event.add("location", slot["location"])
		event.add("description", f"Modalité : {slot.get('modality_label') or slot.get('modality') or ''}")
		event.add("status", "CONFIRMED")
		calendar.add_component(event)
	return calendar.to_ical()


def _aware(value: datetime, tz: ZoneInfo) -> datetime:
	return value.replace(tzinfo=tz) if value.tzinfo is None else value
