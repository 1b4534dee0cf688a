// A person's request about his data (RGPD): the coordination searches his records, exports them (JSON, PDF) and
// erases them on request (cpts_snp.api.privacy).
frappe.ui.form.on("SNP Data Subject Request", {
	refresh(frm) {
		if (frm.doc.status === "Erased") {
			frm.set_intro(__("The data of this person were erased on {0}", [frappe.datetime.str_to_user(frm.doc.erased_on)]), "gray");
			return;
		}
		const coordination = frappe.user.has_role("Coordinateur CPTS") || frappe.user.has_role("System Manager");
		if (frm.is_new() || frm.is_dirty() || !coordination) return;
		const call = (method, args = {}) =>
			frappe.call({ method: `cpts_snp.api.privacy.${method}`, args: { request: frm.doc.name, ...args }, freeze: true });
		frm.add_custom_button(__("Search the data"), () =>
			call("search").then((r) => {
				const total = Object.values(r.message || {}).reduce((a, b) => a + b, 0);
				frappe.show_alert({ message: __("{0} records found", [total]), indicator: total ? "blue" : "orange" });
				frm.reload_doc();
			})
		).addClass("btn-primary");
		for (const [method, label] of [
			["export_json", __("Export (JSON)")],
			["export_pdf", __("Export (PDF)")],
		]) {
			frm.add_custom_button(
				label,
				() =>
					call(method).then((r) => {
						frm.reload_doc();
						if (r.message) window.open(r.message);
					}),
				__("Export")
			);
		}
		if (frm.doc.request_type !== "Access") {
			frm.add_custom_button(__("Erase the data"), () =>
				frappe.confirm(
					__("Erase every record of this person? Bookings, calls and call-back requests keep their dates and figures; the identity, contact, reason and notes, the patient record and every copy are deleted. This cannot be undone."),
					() =>
						call("erase", { confirm: 1 }).then((r) => {
							const total = Object.values(r.message || {}).reduce((a, b) => a + b, 0);
							frappe.show_alert({ message: __("{0} records erased", [total]), indicator: "green" });
							frm.reload_doc();
						})
				)
			).addClass("btn-danger");
		}
	},
});
