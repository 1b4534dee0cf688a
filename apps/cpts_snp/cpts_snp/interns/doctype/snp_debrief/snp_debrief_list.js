// Debriefs still to do stand out; the coordinator filters on « À faire » to follow them up.
frappe.listview_settings["SNP Debrief"] = {
	filters: [["status", "=", "To do"]],
	add_fields: ["status"],
	get_indicator(doc) {
		// colours: the app's one definition (cpts_snp.choices, in the desk's boot)
		const colour = frappe.boot.cpts_snp_choices.colours["SNP Debrief"].status[doc.status];
		return [__(doc.status), colour || "gray", "status,=," + doc.status];
	},
};
