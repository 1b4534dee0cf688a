frappe.ui.form.on("SNP Directory Import", {
	refresh(frm) {
		if (frm.is_new() || !frm.doc.source_file || frm.doc.status === "Running") return;
		frm.add_custom_button(__("Import the directory"), () =>
			frappe
				.call({
					method: "cpts_snp.agenda.doctype.snp_directory_import.snp_directory_import.import_directory",
					args: { directory_import: frm.doc.name },
					freeze: true,
				})
				.then(() => {
					frappe.show_alert({ message: __("The directory import has started"), indicator: "blue" });
					frm.reload_doc();
				})
		).addClass("btn-primary");
	},
	onload(frm) {
		frappe.realtime.on("snp_directory_import", (data) => {
			if (data && data.name === frm.doc.name) frm.reload_doc();
		});
	},
});
