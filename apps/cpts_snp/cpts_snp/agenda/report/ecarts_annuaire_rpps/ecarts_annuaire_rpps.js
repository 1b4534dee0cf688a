// Écarts avec l'annuaire RPPS: professionals absent from the imported national directory or differing from it.

frappe.query_reports["Ecarts annuaire RPPS"] = {
	filters: [
		{
			fieldname: "status",
			label: __("RPPS directory check"),
			fieldtype: "Select",
			options: [
				{ value: "", label: __("Absent or different") },
				{ value: "Absent", label: __("Absent") },
				{ value: "Mismatch", label: __("Mismatch") },
				{ value: "Not checked", label: __("Not checked") },
			],
		},
	],
	formatter(value, row, column, data, default_formatter) {
		// names and other user text print as text (Frappe's Data formatter returns them as they are)
		if (column.fieldtype === "Data" && typeof value === "string") value = frappe.utils.escape_html(value);
		return default_formatter(value, row, column, data);
	},
};
