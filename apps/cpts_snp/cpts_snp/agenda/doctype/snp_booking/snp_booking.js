frappe.ui.form.on("SNP Booking", {
	setup(frm) {
		frm.set_query("slot", () => ({
			filters: { status: "Available", starts_at: [">=", frappe.datetime.now_datetime()] },
		}));
	},
	refresh(frm) {
		if (frm.is_new() || !frm.perm[0]?.write) return;
		const started = frappe.datetime.str_to_obj(frm.doc.slot_start) <= new Date();
		if (frm.doc.status === "Booked") {
			if (started) {
				frm.add_custom_button(__("Honoured"), () => record_outcome(frm, "Honoured"), __("Outcome"));
				frm.add_custom_button(__("No-show"), () => record_outcome(frm, "No-show"), __("Outcome"));
			}
			frm.add_custom_button(__("Cancel booking"), () => cancel_booking(frm));
		}
	},
});

function record_outcome(frm, status) {
	frappe
		.call({ method: "cpts_snp.api.booking.record_outcome", args: { booking: frm.doc.name, status } })
		.then(() => frm.reload_doc());
}

function cancel_booking(frm) {
	frappe.prompt(
		{ fieldname: "reason", fieldtype: "Small Text", label: __("Cancellation reason"), reqd: 1 },
		({ reason }) =>
			frappe
				.call({ method: "cpts_snp.api.booking.cancel", args: { booking: frm.doc.name, reason } })
				.then(() => frm.reload_doc()),
		__("Cancel booking"),
		__("Cancel booking")
	);
}
