frappe.listview_settings["SNP Booking"] = {
	add_fields: ["status", "to_rebook"],
	get_indicator(doc) {
		if (doc.to_rebook) return [__("To rebook"), "orange", "to_rebook,=,1"];
		const colors = { Booked: "blue", Honoured: "green", "No-show": "orange", Cancelled: "red" };
		return [__(doc.status), colors[doc.status] || "grey", "status,=," + doc.status];
	},
};
