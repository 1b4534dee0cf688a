// Demande de téléconsultation: calls by weekday and hour, the share with no slot, and the blocks to open next.

frappe.query_reports["Demande de teleconsultation"] = {
	filters: [
		{
			fieldname: "from_date",
			label: __("From (included)"),
			fieldtype: "Date",
			default: frappe.datetime.add_days(frappe.datetime.get_today(), -83),
			reqd: 1,
		},
		{
			fieldname: "to_date",
			label: __("To (included)"),
			fieldtype: "Date",
			default: frappe.datetime.get_today(),
			reqd: 1,
		},
		{ fieldname: "limit", label: __("Blocks to recommend"), fieldtype: "Int", default: 5 },
	],
};
