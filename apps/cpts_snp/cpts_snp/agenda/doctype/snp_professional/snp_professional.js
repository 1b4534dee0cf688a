frappe.ui.form.on("SNP Professional", {
	refresh(frm) {
		if (frm.is_new() || !frm.doc.pending_iban) return;
		const finance = frappe.user.has_role("Comptable CPTS") || frappe.user.has_role("Trésorier CPTS");
		frm.dashboard.set_headline_alert(
			__("New bank details await the confirmation of the finance team: the payment runs use the confirmed IBAN until then."),
			"orange"
		);
		if (!finance) return;
		frm.add_custom_button(__("Confirm the new bank details"), () =>
			frappe.confirm(__("Pay this doctor's indemnities to the new IBAN {0} from now on?", [frappe.utils.escape_html(frm.doc.pending_iban)]), () =>
				frappe
					.call({
						method: "cpts_snp.agenda.doctype.snp_professional.snp_professional.confirm_bank_details",
						args: { professional: frm.doc.name },
						freeze: true,
					})
					.then(() => {
						frappe.show_alert({ message: __("Bank details confirmed"), indicator: "green" });
						frm.reload_doc();
					})
			)
		).addClass("btn-primary");
		frm.add_custom_button(__("Refuse the new bank details"), () =>
			frappe.prompt(
				{ fieldname: "reason", fieldtype: "Small Text", label: __("Reason"), reqd: 1 },
				({ reason }) =>
					frappe
						.call({
							method: "cpts_snp.agenda.doctype.snp_professional.snp_professional.reject_bank_details",
							args: { professional: frm.doc.name, reason },
							freeze: true,
						})
						.then(() => {
							frappe.show_alert({ message: __("Bank details refused"), indicator: "orange" });
							frm.reload_doc();
						}),
				__("Refuse the new bank details")
			)
		);
	},
});
