// « Déplacer le rendez-vous »: one dialog shared by the booking form and the telesecretariat page. It lists the
// free slots of a sector over a few days (cpts_snp.api.booking.free_slots_for_move) and moves the booking to the
// one chosen (cpts_snp.api.booking.move: one atomic action on the server; a booking cancelled by its doctor is
// rebooked on a new booking). Every text from the server is escaped.
frappe.provide("cpts_snp");

cpts_snp.move_booking = function (booking, opts = {}) {
	const esc = (value) => frappe.utils.escape_html(value == null ? "" : String(value));
	const when = (value) => frappe.datetime.str_to_user(value).slice(0, 16);
	const rebooking = !!opts.rebook;
	const dialog = new frappe.ui.Dialog({
		title: rebooking ? __("Rebook the patient") : __("Move the booking"),
		fields: [
			{ fieldname: "sector", fieldtype: "Link", options: "SNP Sector", label: __("Sector"), default: opts.sector },
			{ fieldtype: "Column Break" },
			{ fieldname: "from_date", fieldtype: "Date", label: __("From"), default: frappe.datetime.get_today() },
			{ fieldtype: "Column Break" },
			{ fieldname: "to_date", fieldtype: "Date", label: __("To") },
			{ fieldtype: "Section Break" },
			{ fieldname: "slots_html", fieldtype: "HTML" },
			{ fieldname: "reason", fieldtype: "Small Text", label: __("Reason for the move") },
		],
		primary_action_label: rebooking ? __("Rebook") : __("Move"),
		primary_action(values) {
			const slot = dialog.$wrapper.find("input[name='snp-move-slot']:checked").val();
			if (!slot) {
				frappe.msgprint(__("Please choose a slot"));
				return;
			}
			frappe
				.call({
					method: "cpts_snp.api.booking.move",
					args: { booking, slot, reason: values.reason },
					freeze: true,
				})
				.then((r) => {
					dialog.hide();
					frappe.show_alert({
						message: __("Booking {0} moved to {1}", [esc(r.message.name), esc(when(r.message.slot_start))]),
						indicator: "green",
					});
					opts.on_done && opts.on_done(r.message);
				})
				.catch(load);
		},
	});
	const $slots = dialog.fields_dict.slots_html.$wrapper;

	function load() {
		frappe
			.call({
				method: "cpts_snp.api.booking.free_slots_for_move",
				args: {
					booking,
					sector: dialog.get_value("sector") || "", // empty: every sector
					from_date: dialog.get_value("from_date"),
					to_date: dialog.get_value("to_date"),
				},
			})
			.then((r) => {
				const slots = r.message || [];
				if (!slots.length) {
					$slots.html(`<p class="text-muted snp-move-none">${__("No free slot in this sector on these days")}</p>`);
					return;
				}
				$slots.html(
					`<div class="snp-move-slots" style="max-height: 18em; overflow-y: auto">${slots
						.map(
							(s) => `<label class="d-block snp-move-slot">
								<input type="radio" name="snp-move-slot" value="${esc(s.name)}">
								${esc(when(s.starts_at))} · ${esc(s.professional_name)} · ${esc(__(s.modality))}
								${s.location ? " · " + esc(s.location) : ""}</label>`
						)
						.join("")}</div>`
				);
			});
	}

	["sector", "from_date", "to_date"].forEach((fieldname) => {
		dialog.fields_dict[fieldname].df.onchange = load;
	});
	dialog.show();
	load();
	return dialog;
};
