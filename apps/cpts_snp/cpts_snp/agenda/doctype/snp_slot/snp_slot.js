frappe.ui.form.on("SNP Slot", {
	refresh(frm) {
		if (!frm.is_new() && frm.doc.status === "Available" && frappe.model.can_create("SNP Booking")) {
			frm.add_custom_button(__("Book this slot"), () => cpts_snp_book_slot_dialog(frm)).addClass(
				"btn-primary"
			);
		}
	},
});

function cpts_snp_book_slot_dialog(frm) {
	const dialog = new frappe.ui.Dialog({
		title: __("Book the slot of {0}", [frappe.utils.escape_html(frm.doc.professional_name || "")]),
		fields: [
			{ fieldname: "patient_last_name", fieldtype: "Data", label: __("Patient last name"), reqd: 1 },
			{ fieldname: "patient_first_name", fieldtype: "Data", label: __("Patient first name"), reqd: 1 },
			{ fieldname: "patient_date_of_birth", fieldtype: "Date", label: __("Date of birth"), reqd: 1 },
			{ fieldname: "column_break_1", fieldtype: "Column Break" },
			{ fieldname: "patient_phone", fieldtype: "Data", label: __("Patient phone") },
			{ fieldname: "patient_email", fieldtype: "Data", label: __("Patient email"), options: "Email" },
			{
				fieldname: "channel",
				fieldtype: "Select",
				label: __("Channel"),
				// the app's one definition of the channels (cpts_snp.choices, in the desk's boot)
				options: frappe.boot.cpts_snp_choices.options["SNP Booking"].channel.map((value) => ({ value, label: __(value) })),
				default: "Telesecretariat",
			},
			{ fieldname: "section_reason", fieldtype: "Section Break" },
			{ fieldname: "reason", fieldtype: "Small Text", label: __("Reason for the consultation") },
		],
		primary_action_label: __("Book"),
		primary_action(values) {
			frappe
				.call({
					method: "cpts_snp.api.booking.book",
					args: { slot: frm.doc.name, ...values },
					freeze: true,
				})
				.then((r) => {
					dialog.hide();
					frappe.show_alert({
						message: __("Booking {0} created", [frappe.utils.escape_html(r.message.name)]),
						indicator: "green",
					});
					frappe.set_route("Form", "SNP Booking", r.message.name);
				});
		},
	});
	dialog.show();
}
