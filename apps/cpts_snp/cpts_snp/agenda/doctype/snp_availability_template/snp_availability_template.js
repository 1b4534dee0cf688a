frappe.ui.form.on("SNP Availability Template", {
	refresh(frm) {
		if (frm.is_new() || !frm.doc.enabled) return;
		frm.add_custom_button(__("Generate slots"), () =>
			frappe
				.call({
					method: "cpts_snp.agenda.doctype.snp_availability_template.snp_availability_template.generate_slots",
					args: { template: frm.doc.name },
					freeze: true,
				})
				.then((r) =>
					frappe.show_alert({
						message: __("{0} slots created", [(r.message || []).length]),
						indicator: "green",
					})
				)
		);
	},
});
