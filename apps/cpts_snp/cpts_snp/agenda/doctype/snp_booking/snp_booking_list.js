frappe.listview_settings["SNP Booking"] = {
	add_fields: ["status", "to_rebook"],
	get_indicator(doc) {
		if (doc.to_rebook) return [__("To rebook"), "orange", "to_rebook,=,1"];
		// colours: the app's one definition (cpts_snp.choices, in the desk's boot)
		const colour = frappe.boot.cpts_snp_choices.colours["SNP Booking"].status[doc.status];
		return [__(doc.status), colour || "gray", "status,=," + doc.status];
	},
};
