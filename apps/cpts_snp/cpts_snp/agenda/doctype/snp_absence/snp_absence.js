frappe.ui.form.on("SNP Absence", {
	refresh(frm) {
		if (frm.doc.affected_bookings?.length) {
			frm.dashboard.set_headline_alert(
				__("{0} booked appointments fall during this absence: move or cancel them.", [
					frm.doc.affected_bookings.length,
				]),
				"orange"
			);
		}
	},
});
