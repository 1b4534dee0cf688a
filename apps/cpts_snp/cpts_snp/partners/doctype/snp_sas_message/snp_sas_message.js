frappe.ui.form.on("SNP SAS Message", {
	refresh(frm) {
		const coordination = frappe.user.has_role("Coordinateur CPTS") || frappe.user.has_role("System Manager");
		if (!coordination || frm.doc.status === "Sent") {
			return;
		}
		frm.add_custom_button(__("Retry now"), () => {
			frappe.call({
				method: "cpts_snp.partners.doctype.snp_sas_message.snp_sas_message.retry_now",
				args: { name: frm.doc.name },
				freeze: true,
				freeze_message: __("Sending to the SAS platform…"),
				callback(r) {
					if (r.message) {
						frappe.show_alert({
							message: __("Message status: {0}", [__(r.message.status)]),
							indicator: frappe.boot.cpts_snp_choices.colours["SNP SAS Message"].status[r.message.status],
						});
					}
					frm.reload_doc();
				},
			});
		});
	},
});
