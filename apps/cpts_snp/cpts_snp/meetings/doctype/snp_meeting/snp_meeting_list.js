// Meetings by status; the colours are the app's one definition (cpts_snp.choices, in the desk's boot).
frappe.listview_settings["SNP Meeting"] = {
	add_fields: ["status"],
	get_indicator(doc) {
		const colour = frappe.boot.cpts_snp_choices.colours["SNP Meeting"].status[doc.status];
		return [__(doc.status), colour || "gray", "status,=," + doc.status];
	},
};
