// Consultations de données patients: the staff's reads of patient data (SNP Access Audit), for the DPO.

frappe.query_reports["Consultations de donnees patients"] = {
	filters: [
		{
			fieldname: "from_date",
			label: __("From (included)"),
			fieldtype: "Date",
			default: frappe.datetime.add_days(frappe.datetime.get_today(), -30),
			reqd: 1,
		},
		{
			fieldname: "to_date",
			label: __("To (included)"),
			fieldtype: "Date",
			default: frappe.datetime.get_today(),
			reqd: 1,
		},
		{ fieldname: "user", label: __("User"), fieldtype: "Link", options: "User" },
		{ fieldname: "reference_doctype", label: __("Document type"), fieldtype: "Link", options: "DocType" },
		{ fieldname: "reference_name", label: __("Record"), fieldtype: "Data" },
		{ fieldname: "patient", label: __("Patient"), fieldtype: "Link", options: "SNP Patient" },
		{
			fieldname: "kind",
			label: __("Kind of read"),
			fieldtype: "Select",
			options: ["", ...frappe.boot.cpts_snp_choices.options["SNP Access Audit"].kind].map((value) => ({
				value,
				label: value ? __(value) : "",
			})),
		},
		{ fieldname: "per_user", label: __("Summary per user"), fieldtype: "Check" },
	],
	formatter(value, row, column, data, default_formatter) {
		// what a request asked (filters, search text) and browsers' names print as text
		if (column.fieldtype === "Data" && typeof value === "string") value = frappe.utils.escape_html(value);
		return default_formatter(value, row, column, data);
	},
};
