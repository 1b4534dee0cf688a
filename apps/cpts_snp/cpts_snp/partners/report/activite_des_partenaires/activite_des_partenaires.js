// Activité des partenaires: bookings made by each territorial partner over a period, honoured and no-shows.

frappe.query_reports["Activite des partenaires"] = {
	filters: [
		{
			fieldname: "from_date",
			label: __("From (included)"),
			fieldtype: "Date",
			default: frappe.datetime.add_days(frappe.datetime.get_today(), -27),
			reqd: 1,
		},
		{
			fieldname: "to_date",
			label: __("To (included)"),
			fieldtype: "Date",
			default: frappe.datetime.get_today(),
			reqd: 1,
		},
		{
			fieldname: "partner_type",
			label: __("Partner type"),
			fieldtype: "Select",
			options: [
				"",
				{ value: "SAS / SAMU", label: __("SAS / SAMU") },
				{ value: "Emergency department", label: __("Emergency department") },
				{ value: "Hospital", label: __("Hospital") },
				{ value: "Pharmacy", label: __("Pharmacy") },
				{ value: "Nurse", label: __("Nurse") },
				{ value: "MAIA / CLIC / CCAS", label: __("MAIA / CLIC / CCAS") },
				{ value: "Other", label: __("Other") },
			],
		},
	],
	formatter(value, row, column, data, default_formatter) {
		// names and other user text print as text (Frappe's Data formatter returns them as they are)
		if (column.fieldtype === "Data" && typeof value === "string") value = frappe.utils.escape_html(value);
		return default_formatter(value, row, column, data);
	},
};
