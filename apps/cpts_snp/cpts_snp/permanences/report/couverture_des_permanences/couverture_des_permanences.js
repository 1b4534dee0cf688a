// Couverture des permanences: the blocks of the coming weeks that the teleconsultation rota does not cover yet.

frappe.query_reports["Couverture des permanences"] = {
	filters: [
		{
			fieldname: "from_date",
			label: __("From (included)"),
			fieldtype: "Date",
			default: frappe.datetime.get_today(),
			reqd: 1,
		},
		{ fieldname: "weeks", label: __("Weeks"), fieldtype: "Int", default: 4, reqd: 1 },
		{
			fieldname: "hours",
			label: __("Hours to cover"),
			fieldtype: "Data",
			default: "8, 18-20",
			description: __("For example « 8, 18-20 »: the blocks 8-9 h, 18-19 h and 19-20 h"),
		},
	],
};
