"""Calendar view of slots: events coloured by status (the list of slots respects the caller's permissions)."""

import frappe

from cpts_snp.api import endpoint, json_argument
from cpts_snp.choices import hex_colour


@frappe.whitelist()
@endpoint
def get_slot_events(start, end, filters=None, doctype=None, field_map=None, fields=None) -> list[dict]:
	filters = json_argument(filters, list, "filters") + [
		["SNP Slot", "starts_at", "<", end],
		["SNP Slot", "ends_at", ">", start],
	]
	events = frappe.get_list(
		"SNP Slot",
		filters=filters,
		fields=["name", "starts_at", "ends_at", "professional_name", "sector", "status"],
		limit_page_length=0,
	)
	for event in events:
		event.color = hex_colour("SNP Slot", "status", event.status)
		event.title = f"{event.professional_name} · {event.sector or ''}".strip(" ·")
	return events
