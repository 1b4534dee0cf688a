// Activité par médecin: each professional's slots, bookings and supplements over a period, against the weekly target.

frappe.query_reports["Activite par medecin"] = {
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
	],
	formatter(value, row, column, data, default_formatter) {
		// names and other user text print as text (Frappe's Data formatter returns them as they are)
		if (column.fieldtype === "Data" && typeof value === "string") value = frappe.utils.escape_html(value);
		value = default_formatter(value, row, column, data);
		if (column.fieldname === "target_met" && data && data.target_met) {
			const met = data.target_met === __("Yes");
			return `<span style="color: ${met ? "#2b8a3e" : "#c92a2a"}">${value}</span>`;
		}
		return value;
	},
};
