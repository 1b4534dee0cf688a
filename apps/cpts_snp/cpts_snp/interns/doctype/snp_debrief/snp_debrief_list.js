// Debriefs still to do stand out; the coordinator filters on « À faire » to follow them up.
frappe.listview_settings["SNP Debrief"] = {
	filters: [["status", "=", "To do"]],
	get_indicator(doc) {
		return doc.status === "Done" ? [__("Done"), "green", "status,=,Done"] : [__("To do"), "orange", "status,=,To do"];
	},
};
