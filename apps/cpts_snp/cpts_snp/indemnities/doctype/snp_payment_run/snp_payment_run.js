frappe.ui.form.on("SNP Payment Run", {
	refresh(frm) {
		if (frm.is_new()) return;
		if (frm.doc.docstatus === 0 && ["Draft", "Computed", "Failed"].includes(frm.doc.status) && frm.perm[0]?.create) {
			frm.add_custom_button(frm.doc.status === "Draft" ? __("Compute") : __("Compute again"), () =>
				frappe
					.call({
						method: "cpts_snp.indemnities.doctype.snp_payment_run.snp_payment_run.compute",
						args: { run: frm.doc.name },
						freeze: true,
						freeze_message: __("Computing the run…"),
					})
					.then((r) => {
						if (r.message === "Computing") {
							frappe.show_alert({ message: __("The run is computed in the background"), indicator: "blue" });
						}
						frm.reload_doc();
					})
			).addClass("btn-primary");
		}
		if (frm.doc.status === "Failed" && frm.doc.error_message) {
			frm.dashboard.set_headline_alert(
				__("The computation failed: {0}", [frappe.utils.escape_html(frm.doc.error_message)]),
				"red"
			);
		}
		if (frm.doc.exclusions?.length) {
			frm.dashboard.add_comment(
				__("{0} doctors are left out of this run: see « Doctors left out ».", [frm.doc.exclusions.length]),
				"orange",
				true
			);
		}
		if (frm.doc.iban_changes?.length) {
			frm.dashboard.add_comment(
				__("{0} doctors of this run changed their IBAN: see « Doctors whose IBAN changed ».", [frm.doc.iban_changes.length]),
				"orange",
				true
			);
		}
		if (frm.doc.self_approved) {
			frm.dashboard.add_comment(__("This run was approved by the person who computed it (allowed by SNP Settings)."), "yellow", true);
		}
		if (frm.doc.docstatus === 1) {
			const download = (method) =>
				window.open(`/api/method/cpts_snp.api.indemnities.${method}?run=${encodeURIComponent(frm.doc.name)}`);
			frm.add_custom_button(__("SEPA transfer file"), () => download("download_sepa"), __("Download"));
			frm.add_custom_button(__("FEC accounting file"), () => download("download_fec"), __("Download"));
			frm.add_custom_button(__("Accounting entries (CSV)"), () => download("download_csv"), __("Download"));
		}
		frm.add_custom_button(__("Payments"), () => frappe.set_route("List", "SNP Indemnity Payment", { run: frm.doc.name }));
	},
	setup(frm) {
		frappe.realtime.on("doc_update", (data) => {
			if (data.doctype === frm.doctype && data.name === frm.doc.name) frm.reload_doc();
		});
	},
});
