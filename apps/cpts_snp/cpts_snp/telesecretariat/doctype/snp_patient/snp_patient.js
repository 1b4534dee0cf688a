// A patient of the SNP mission: the coordination merges a duplicate record into this one.
frappe.ui.form.on("SNP Patient", {
	refresh(frm) {
		if (frm.doc.merged_into) {
			frm.set_intro(__("This record was merged into {0}", [frappe.utils.escape_html(frm.doc.merged_into)]), "orange");
			return;
		}
		const coordination = frappe.user.has_role("Coordinateur CPTS") || frappe.user.has_role("System Manager");
		if (frm.is_new() || !coordination) return;
		frm.add_custom_button(__("Merge with…"), () => {
			const dialog = new frappe.ui.Dialog({
				title: __("Merge a duplicate into {0}", [frappe.utils.escape_html(frm.doc.name)]),
				fields: [
					{
						fieldname: "duplicate",
						fieldtype: "Link",
						options: "SNP Patient",
						label: __("Duplicate record"),
						reqd: 1,
						description: __("Its bookings, calls and call-back requests move to this patient; it is then marked as merged."),
						get_query: () => ({ filters: { name: ["!=", frm.doc.name], merged_into: ["is", "not set"] } }),
					},
				],
				primary_action_label: __("Merge"),
				primary_action: ({ duplicate }) =>
					frappe
						.call({
							method: "cpts_snp.api.telesecretariat.merge_patients",
							args: { kept: frm.doc.name, duplicate },
							freeze: true,
						})
						.then((r) => {
							dialog.hide();
							frappe.show_alert({
								message: __("{0} merged: {1} bookings and {2} calls moved", [
									frappe.utils.escape_html(duplicate),
									r.message.moved["SNP Booking"],
									r.message.moved["SNP Call"],
								]),
								indicator: "green",
							});
							frm.reload_doc();
						}),
			});
			dialog.show();
		});
	},
});
