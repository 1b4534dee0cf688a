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
			// the partner types: the app's one definition (cpts_snp.choices, in the desk's boot)
			options: [
				"",
				...frappe.boot.cpts_snp_choices.options["SNP Partner"].partner_type.map((value) => ({ value, label: __(value) })),
			],
		},
	],
	formatter(value, row, column, data, default_formatter) {
		// names and other user text print as text (Frappe's Data formatter returns them as they are)
		if (column.fieldtype === "Data" && typeof value === "string") value = frappe.utils.escape_html(value);
		return default_formatter(value, row, column, data);
	},
};
