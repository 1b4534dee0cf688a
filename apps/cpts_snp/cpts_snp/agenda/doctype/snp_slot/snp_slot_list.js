frappe.listview_settings["SNP Slot"] = {
	add_fields: ["status"],
	get_indicator(doc) {
		const colors = {
			Available: "green",
			Booked: "blue",
			Honoured: "darkgrey",
			"No-show": "orange",
			Cancelled: "red",
		};
		return [__(doc.status), colors[doc.status] || "grey", "status,=," + doc.status];
	},
};
