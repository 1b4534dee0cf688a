// « Renvoyer le SMS » on a failed SMS, for the télésecrétariat and the coordination (the server decides:
// cpts_snp.services.sms.retry refuses a message already sent, anonymised, or of a cancelled or passed booking).
frappe.ui.form.on("SNP Message Log", {
	refresh(frm) {
		const may_resend = ["Télésecrétaire", "Coordinateur CPTS", "System Manager"].some((role) =>
			frappe.user.has_role(role)
		);
		if (frm.doc.channel !== "SMS" || frm.doc.status !== "Failed" || !may_resend) return;
		frm.add_custom_button(__("Send the SMS again"), () =>
			frappe
				.xcall("cpts_snp.api.messages.retry_sms", { log: frm.doc.name })
				.then(() => {
					frappe.show_alert({ message: __("SMS queued again"), indicator: "green" });
					frm.reload_doc();
				})
		);
	},
});
