frappe.views.calendar["SNP Slot"] = {
	field_map: {
		start: "starts_at",
		end: "ends_at",
		id: "name",
		title: "title",
		color: "color",
	},
	filters: ["sector", "professional", "status"],
	get_events_method: "cpts_snp.api.calendar.get_slot_events",
};
