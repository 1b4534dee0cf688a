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
			if (!started) {
				frm.add_custom_button(__("Move"), () => move_booking(frm));
			}
			frm.add_custom_button(__("Cancel booking"), () => cancel_booking(frm));
		}
		if (frm.doc.to_rebook) {
			frm.dashboard.set_headline(__("To rebook: offer the patient another appointment, or record that he was told."), "orange");
			if (frm.doc.status === "Cancelled") {
				frm.add_custom_button(__("Rebook"), () => move_booking(frm, true), __("To rebook"));
			}
			frm.add_custom_button(__("Patient informed, no new appointment"), () => patient_informed(frm), __("To rebook"));
		}
	},
});

function move_booking(frm, rebook = false) {
	cpts_snp.move_booking(frm.doc.name, {
		sector: frm.doc.sector,
		rebook,
		on_done: (moved) => (moved.name === frm.doc.name ? frm.reload_doc() : frappe.set_route("Form", "SNP Booking", moved.name)),
	});
}

function patient_informed(frm) {
	frappe.prompt(
		{ fieldname: "note", fieldtype: "Small Text", label: __("Note") },
		({ note }) =>
			frappe
				.call({ method: "cpts_snp.api.booking.patient_informed", args: { booking: frm.doc.name, note } })
				.then(() => frm.reload_doc()),
		__("Patient informed, no new appointment"),
		__("Confirm")
	);
}

function record_outcome(frm, status) {
	frappe
		.call({ method: "cpts_snp.api.booking.record_outcome", args: { booking: frm.doc.name, status } })
		.then(() => frm.reload_doc());
}

function cancel_booking(frm) {
	frappe.prompt(
		[
			{ fieldname: "reason", fieldtype: "Small Text", label: __("Cancellation reason"), reqd: 1 },
			{ fieldname: "by_doctor", fieldtype: "Check", label: __("At the doctor's request (the patient is told and goes on the list to rebook)") },
		],
		({ reason, by_doctor }) =>
			frappe
				.call({ method: "cpts_snp.api.booking.cancel", args: { booking: frm.doc.name, reason, by_doctor: by_doctor ? 1 : 0 } })
				.then(() => frm.reload_doc()),
		__("Cancel booking"),
		__("Cancel booking")
	);
}
