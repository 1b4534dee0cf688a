frappe.listview_settings["SNP Booking"] = {
	add_fields: ["status"],
	get_indicator(doc) {
		const colors = { Booked: "blue", Honoured: "green", "No-show": "orange", Cancelled: "red" };
		return [__(doc.status), colors[doc.status] || "grey", "status,=," + doc.status];
	},
};
