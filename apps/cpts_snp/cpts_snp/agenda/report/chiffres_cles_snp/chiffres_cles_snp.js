// Chiffres clés SNP: the year's activity month by month, with a total row.

frappe.query_reports["Chiffres cles SNP"] = {
	filters: [
		{
			fieldname: "year",
			label: __("Year"),
			fieldtype: "Int",
			default: new Date().getFullYear(),
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
		value = default_formatter(value, row, column, data);
		return data && data.bold ? `<b>${value}</b>` : value;
	},
};
