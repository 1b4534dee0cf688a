// Indicateurs ACI: the access-to-care figures of one year for the CPAM, each with its definition and source.

frappe.query_reports["Indicateurs ACI"] = {
	filters: [
		{
			fieldname: "year",
			label: __("Year"),
			fieldtype: "Int",
			default: new Date().getFullYear() - 1,
			reqd: 1,
		},
	],
	onload(report) {
		report.page.add_inner_button(__("PDF for the CPAM"), () => {
			const year = report.get_filter_value("year");
			window.open(
				`/api/method/cpts_snp.api.aci.download_pdf?year=${encodeURIComponent(year || "")}`,
				"_blank",
			);
		});
	},
	formatter(value, row, column, data, default_formatter) {
		// the CPTS's name and every text print as text (Frappe's Data formatter returns them as they are)
		if (typeof value === "string") value = frappe.utils.escape_html(value);
		// numbers the French way (80,0), with one decimal for the percentages and hours
		if (typeof value === "number") value = format_number(value, null, Number.isInteger(value) ? 0 : 1);
		value = default_formatter(value, row, column, data);
		return data && !data.computed && column.fieldname === "value" ? `<i>${value}</i>` : value;
	},
};
