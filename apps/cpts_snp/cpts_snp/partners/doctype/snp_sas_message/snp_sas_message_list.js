frappe.listview_settings["SNP SAS Message"] = {
	add_fields: ["status"],
	get_indicator(doc) {
		const colors = { Pending: "orange", Sent: "green", Failed: "red", "Given up": "darkgrey" };
		return [__(doc.status), colors[doc.status] || "grey", "status,=," + doc.status];
	},
};
