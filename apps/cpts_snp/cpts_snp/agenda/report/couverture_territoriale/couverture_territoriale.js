// Couverture territoriale: slots made available per sector, weekday and hour; empty hours stand out in red.

frappe.query_reports["Couverture territoriale"] = {
	filters: [
		{
			fieldname: "from_date",
			label: __("From (included)"),
			fieldtype: "Date",
			default: frappe.datetime.get_today(),
			reqd: 1,
		},
		{
			fieldname: "to_date",
			label: __("To (included)"),
			fieldtype: "Date",
			default: frappe.datetime.add_days(frappe.datetime.get_today(), 27),
			reqd: 1,
		},
		{
			fieldname: "sector",
			label: __("Sector"),
			fieldtype: "Link",
			options: "SNP Sector",
		},
	],
	formatter(value, row, column, data, default_formatter) {
		// names and other user text print as text (Frappe's Data formatter returns them as they are)
		if (column.fieldtype === "Data" && typeof value === "string") value = frappe.utils.escape_html(value);
		const formatted = default_formatter(value, row, column, data);
		const is_hour = /^h\d\d$/.test(column.fieldname);
		if (data && is_hour && !data[column.fieldname]) {
			return `<div style="background-color: #ffe3e3; color: #c92a2a; text-align: right"
				title="${__("No slot made available")}">${formatted}</div>`;
		}
		return formatted;
	},
};
