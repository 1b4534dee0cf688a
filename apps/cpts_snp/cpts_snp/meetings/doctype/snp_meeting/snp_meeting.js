// A meeting of the CPTS: the coordination ticks who was present, then confirms the attendance (paid in the next
// payment run); a confirmation made by mistake is reopened while no run holds it (cpts_snp.services.meetings).
frappe.ui.form.on("SNP Meeting", {
	refresh(frm) {
		if (frm.is_new()) return;
		const coordination = frappe.user.has_role("Coordinateur CPTS") || frappe.user.has_role("System Manager");
		const colour = frappe.boot.cpts_snp_choices.colours["SNP Meeting"].status[frm.doc.status];
		frm.page.set_indicator(__(frm.doc.status), colour || "gray");
		if (!coordination) return;
		const call = (method, message) =>
			frappe
				.call({
					method: `cpts_snp.api.meetings.${method}`,
					args: { meeting: frm.doc.name },
					freeze: true,
				})
				.then(() => {
					frappe.show_alert({ message, indicator: "green" });
					frm.reload_doc();
				});
		if (frm.doc.status === "Attendance confirmed") {
			frm.add_custom_button(__("Reopen attendance"), () =>
				frappe.confirm(__("Reopen the attendance of this meeting? It is no longer paid until confirmed again."), () =>
					call("reopen_attendance", __("Attendance reopened"))
				)
			);
		} else if (frm.doc.status !== "Cancelled") {
			frm.add_custom_button(__("Confirm attendance"), () => {
				if (frm.is_dirty()) {
					frappe.msgprint(__("Save the meeting first"));
					return;
				}
				const present = (frm.doc.participants || []).filter((row) => row.present).length;
				frappe.confirm(
					__("Confirm the attendance of {0} participants present? The date, duration and participants can no longer change.", [present]),
					() => call("confirm_attendance", __("Attendance confirmed"))
				);
			}).addClass("btn-primary");
		}
	},
});
