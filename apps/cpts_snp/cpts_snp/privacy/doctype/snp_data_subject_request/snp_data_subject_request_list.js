frappe.listview_settings["SNP Data Subject Request"] = {
	add_fields: ["status"],
	get_indicator(doc) {
		// colours: the app's one definition (cpts_snp.choices, in the desk's boot)
		const colour = frappe.boot.cpts_snp_choices.colours["SNP Data Subject Request"].status[doc.status];
		return [__(doc.status), colour || "gray", "status,=," + doc.status];
	},
};
