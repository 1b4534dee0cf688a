frappe.ui.form.on("SNP Professional", {
	refresh(frm) {
		if (frappe.user.has_role("Coordinateur CPTS") || frappe.user.has_role("System Manager")) {
			frm.add_custom_button(__("Look up in the RPPS directory"), () => cpts_lookup_in_directory(frm));
		}
		if (frappe.boot.cpts_snp_choices.lists.directory_flagged.includes(frm.doc.directory_status)) {
			frm.dashboard.set_headline_alert(
				__("This professional does not match the RPPS directory: see « Differences with the directory »."),
				"red"
			);
		}
		if (!frm.is_new() && frappe.boot.cpts_snp_choices.lists.annual_statement_readers.some((role) => frappe.user.has_role(role))) {
			frm.add_custom_button(__("Annual statement"), () => cpts_annual_statement(frm));
		}
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

// « Rechercher dans l'annuaire RPPS »: the names and profession of the imported directory for the RPPS number typed
function cpts_lookup_in_directory(frm) {
	const lookup = (rpps) =>
		frappe
			.call({
				method: "cpts_snp.agenda.doctype.snp_professional.snp_professional.lookup_in_directory",
				args: { rpps },
				freeze: true,
			})
			.then(({ message: found }) => {
				if (!found) return;
				const values = { rpps: found.rpps, last_name: found.last_name, first_name: found.first_name };
				if (found.profession) values.profession = found.profession;
				frm.set_value(values);
				frappe.show_alert({
					message: __("Found in the RPPS directory: {0} {1}", [
						frappe.utils.escape_html(found.first_name),
						frappe.utils.escape_html(found.last_name),
					]),
					indicator: "green",
				});
			});
	if (frm.doc.rpps) return lookup(frm.doc.rpps);
	frappe.prompt(
		{ fieldname: "rpps", fieldtype: "Data", label: __("RPPS number"), reqd: 1 },
		({ rpps }) => lookup(rpps),
		__("Look up in the RPPS directory")
	);
}

// « Relevé annuel »: the PDF of the indemnities paid to this professional in a year (cpts_snp.api.annual_statement)
function cpts_annual_statement(frm) {
	frappe
		.call({
			method: "cpts_snp.api.annual_statement.years",
			args: { professional: frm.doc.name },
			type: "GET",
		})
		.then(({ message: years }) => {
			if (!years || !years.length) {
				frappe.msgprint(__("No indemnity has been paid to this professional yet."));
				return;
			}
			frappe.prompt(
				{
					fieldname: "year",
					fieldtype: "Select",
					label: __("Year"),
					options: years.map(String).join("\n"),
					default: String(years[0]),
					reqd: 1,
				},
				({ year }) =>
					window.open(
						"/api/method/cpts_snp.api.annual_statement.download_pdf?" +
							new URLSearchParams({ professional: frm.doc.name, year }).toString()
					),
				__("Annual statement"),
				__("Download")
			);
		});
}
