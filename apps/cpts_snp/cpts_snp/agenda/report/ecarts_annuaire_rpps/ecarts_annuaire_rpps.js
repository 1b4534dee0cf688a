// Écarts avec l'annuaire RPPS: professionals absent from the imported national directory or differing from it.

frappe.query_reports["Ecarts annuaire RPPS"] = {
	filters: [
		{
			fieldname: "status",
			label: __("RPPS directory check"),
			fieldtype: "Select",
			options: [
				{ value: "", label: __("Absent or different") },
				// the statuses: the app's one definition (cpts_snp.choices, in the desk's boot)
				...frappe.boot.cpts_snp_choices.lists.directory_report_statuses.map((value) => ({ value, label: __(value) })),
			],
		},
	],
	formatter(value, row, column, data, default_formatter) {
		// names and other user text print as text (Frappe's Data formatter returns them as they are)
		if (column.fieldtype === "Data" && typeof value === "string") value = frappe.utils.escape_html(value);
		return default_formatter(value, row, column, data);
	},
};
