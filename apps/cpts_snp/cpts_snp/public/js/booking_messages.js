// The booking form tells the staff when a message about the booking could not be sent (SNP Message Log,
// cpts_snp.services.sms); the messages themselves are listed in the form's connections « Messages ».
frappe.ui.form.on("SNP Booking", {
	refresh(frm) {
		if (frm.is_new() || !frappe.model.can_read("SNP Message Log")) return;
		frappe.db
			.count("SNP Message Log", { filters: { booking: frm.doc.name, status: "Failed" } })
			.then((failed) => {
				if (!failed || frm.doc.name !== frm.docname) return;
				const colour = frappe.boot.cpts_snp_choices.colours["SNP Message Log"].status.Failed;
				frm.dashboard.add_indicator(__("Messages not sent: {0}", [cint(failed)]), colour);
			});
	},
});
