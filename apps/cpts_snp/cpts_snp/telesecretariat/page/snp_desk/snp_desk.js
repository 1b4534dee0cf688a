// Télésecrétariat: type a commune, see the next free slots within the horizon, book in three clicks,
// the call being logged with its outcome in the same action.
frappe.pages["snp-desk"].on_page_load = function (wrapper) {
	const page = frappe.ui.make_app_page({
		parent: wrapper,
		title: __("Telesecretariat"),
		single_column: true,
	});
	wrapper.snp_desk = new CptsSnpDesk(page);
};

frappe.pages["snp-desk"].on_page_show = function (wrapper) {
	wrapper.snp_desk && wrapper.snp_desk.refresh();
};

// Lists of choices and colours: the app's one definition (cpts_snp.choices), served in the desk's boot.
const snp_choices = () => frappe.boot.cpts_snp_choices;
const snp_call_options = (fieldname) => snp_choices().options["SNP Call"][fieldname];

function snp_when(datetime) {
	// "mercredi 25 nov., 14:00" in the user's language
	return frappe.datetime.str_to_obj(datetime).toLocaleString(frappe.boot.lang || "fr", {
		weekday: "long",
		day: "numeric",
		month: "short",
		hour: "2-digit",
		minute: "2-digit",
	});
}

// User text (names, sectors, record names) goes into HTML escaped: frappe's __() does not escape its arguments.
const snp_html = (value) => frappe.utils.escape_html(value == null ? "" : String(value));

function snp_options(values) {
	return values.map((value) => ({ value, label: value ? __(value) : "" }));
}

class CptsSnpDesk {
	constructor(page) {
		this.page = page;
		this.query_field = page.add_field({
			fieldname: "query",
			fieldtype: "Data",
			label: __("Commune, postal code or sector"),
			change: () => this.refresh(),
		});
		page.set_primary_action(__("Call without appointment"), () => this.log_call_dialog());
		// the bookings cancelled by their doctor (or hit by his absence) that wait for a new appointment
		page.add_inner_button(__("To rebook"), () => frappe.set_route("query-report", "A replacer"));
		this.patient = null;
		this.make_patient_search();
		this.$callbacks = $('<div class="snp-desk-callbacks mb-3"></div>').appendTo(page.main);
		this.$callbacks.on("click", "[data-callback-slot]", (e) => {
			const $b = $(e.currentTarget);
			const callback = (this.callbacks || []).find((c) => c.name === $b.attr("data-callback"));
			const slot = callback && callback.slots.find((s) => s.name === $b.attr("data-callback-slot"));
			slot && this.book_dialog(slot, callback);
		});
		this.$callbacks.on("click", "[data-drop-callback]", (e) => this.drop_callback($(e.currentTarget).attr("data-drop-callback")));
		this.$summary = $('<div class="snp-desk-summary text-muted mb-3"></div>').appendTo(page.main);
		this.$results = $('<div class="snp-desk-results"></div>').appendTo(page.main);
		this.$results.on("click", "[data-slot]", (e) => {
			const slot = this.slots.find((s) => s.name === $(e.currentTarget).attr("data-slot"));
			slot && this.book_dialog(slot);
		});
		this.$summary.on("click", ".snp-callback-add", () => this.callback_dialog());
		// a slot matching a waiting request was published or freed: the desk notification comes with a fresh panel
		frappe.realtime.on("notification", () => this.load_callbacks());
		this.refresh();
	}

	// --- Find the patient: by phone, or name and date of birth; a click prefills the identity and shows his history
	make_patient_search() {
		const $card = $(`<div class="snp-patient-search frappe-card p-3 mb-3">
			<h5 class="mb-2">${__("Find the patient")}</h5><div class="snp-patient-fields"></div>
			<button class="btn btn-default btn-sm snp-patient-find">${__("Find the patient")}</button>
			<div class="snp-patient-results mt-2"></div><div class="snp-patient-selected mt-2"></div></div>`).appendTo(this.page.main);
		this.patient_search = new frappe.ui.FieldGroup({
			parent: $card.find(".snp-patient-fields"),
			fields: [
				{ fieldname: "phone", fieldtype: "Data", label: __("Patient phone") },
				{ fieldname: "col_1", fieldtype: "Column Break" },
				{ fieldname: "last_name", fieldtype: "Data", label: __("Patient last name") },
				{ fieldname: "col_2", fieldtype: "Column Break" },
				{ fieldname: "first_name", fieldtype: "Data", label: __("Patient first name") },
				{ fieldname: "col_3", fieldtype: "Column Break" },
				{ fieldname: "date_of_birth", fieldtype: "Date", label: __("Date of birth") },
			],
		});
		this.patient_search.make();
		this.$patient_results = $card.find(".snp-patient-results");
		this.$patient_selected = $card.find(".snp-patient-selected");
		$card.find(".snp-patient-find").on("click", () => this.find_patient());
		this.$patient_results.on("click", "[data-patient]", (e) => {
			const found = (this.found_patients || []).find((p) => p.name === $(e.currentTarget).attr("data-patient"));
			found && this.select_patient(found);
		});
		this.$patient_selected.on("click", ".snp-patient-clear", () => this.select_patient(null));
	}

	find_patient() {
		const args = this.patient_search.get_values(true) || {};
		frappe.call({ method: "cpts_snp.api.telesecretariat.find_patient", args }).then((r) => {
			this.found_patients = r.message || [];
			this.$patient_results.html(
				this.found_patients.length
					? `<div class="list-group">${this.found_patients
							.map(
								(p) => `<button type="button" class="list-group-item list-group-item-action" data-patient="${snp_html(p.name)}">
									<strong>${snp_html(p.last_name)} ${snp_html(p.first_name)}</strong>
									· ${snp_html(frappe.datetime.str_to_user(p.date_of_birth))} · ${snp_html(p.phone || "")}
									<span class="text-muted">${__("{0} bookings, {1} calls in 12 months", [p.bookings.length, p.calls.length])}</span>
								</button>`
							)
							.join("")}</div>`
					: `<p class="text-muted">${__("No patient found: type the identity in the booking form, the patient will be stored.")}</p>`
			);
		});
	}

	select_patient(patient) {
		this.patient = patient;
		this.$patient_results.empty();
		if (!patient) {
			this.$patient_selected.empty();
			return;
		}
		const history = patient.bookings
			.map(
				(b) => `<tr><td>${snp_html(snp_when(b.slot_start))}</td><td>${snp_html(b.professional_name)}</td>
					<td>${snp_html(__(b.status))}</td><td>${snp_html(b.sector)}</td>
					<td>${b.status === "Booked" && frappe.datetime.str_to_obj(b.slot_start) > new Date()
						? `<button class="btn btn-xs btn-default snp-move-booking" data-booking="${snp_html(b.name)}" data-sector="${snp_html(b.sector || "")}">${__("Move")}</button>`
						: ""}</td></tr>`
			)
			.join("");
		const calls = patient.calls
			.map((c) => `<li>${snp_html(snp_when(c.received_at))} · ${snp_html(__(c.caller_type))} · ${snp_html(__(c.outcome))}</li>`)
			.join("");
		this.$patient_selected.html(`<div class="alert alert-info snp-patient-card">
			<strong>${snp_html(patient.last_name)} ${snp_html(patient.first_name)}</strong>
			· ${snp_html(frappe.datetime.str_to_user(patient.date_of_birth))} · ${snp_html(patient.phone || "")}
			<button class="btn btn-xs btn-default snp-patient-clear ml-2">${__("Clear")}</button>
			<h6 class="mt-2">${__("SNP bookings of the last 12 months")}</h6>
			${history ? `<table class="table table-sm snp-patient-history"><thead><tr><th>${__("Date")}</th><th>${__("Professional")}</th><th>${__("Status")}</th><th>${__("Sector")}</th><th></th></tr></thead><tbody>${history}</tbody></table>` : `<p class="text-muted">${__("None")}</p>`}
			<h6>${__("Calls of the last 12 months")}</h6>${calls ? `<ul class="snp-patient-calls">${calls}</ul>` : `<p class="text-muted">${__("None")}</p>`}
		</div>`);
		// « Déplacer »: the shared dialog (public/js/move_booking.js), then the patient's history again
		this.$patient_selected.find(".snp-move-booking").on("click", (e) => {
			const $button = $(e.currentTarget);
			cpts_snp.move_booking($button.attr("data-booking"), {
				sector: $button.attr("data-sector"),
				on_done: () => {
					this.refresh();
					const args = this.patient_search.get_values(true) || {};
					const name = this.patient && this.patient.name;
					frappe.call({ method: "cpts_snp.api.telesecretariat.find_patient", args }).then((r) => {
						this.found_patients = r.message || [];
						const again = this.found_patients.find((p) => p.name === name);
						again && this.select_patient(again);
					});
				},
			});
		});
	}

	identity() {
		// the booking form's identity fields, from the selected patient
		const p = this.patient;
		return p
			? { patient_last_name: p.last_name, patient_first_name: p.first_name, patient_date_of_birth: p.date_of_birth, patient_phone: p.phone, patient_email: p.email }
			: {};
	}

	// --- Call-back list: « aucun créneau » puts the caller on it; matching slots show up here first
	load_callbacks() {
		frappe.call({ method: "cpts_snp.api.telesecretariat.waiting_callbacks" }).then((r) => {
			this.callbacks = r.message || [];
			const matched = this.callbacks.filter((c) => c.slots.length);
			const others = this.callbacks.length - matched.length;
			if (!this.callbacks.length) {
				this.$callbacks.empty();
				return;
			}
			const rows = matched.map(
				(c) => `<tr><td><strong>${snp_html(c.patient_last_name)} ${snp_html(c.patient_first_name)}</strong><br>
					<span class="text-muted">${snp_html(c.patient_phone)} · ${snp_html(c.sector)} · ${snp_html(frappe.datetime.str_to_user(c.wanted_from))}${c.wanted_to && c.wanted_to !== c.wanted_from ? " – " + snp_html(frappe.datetime.str_to_user(c.wanted_to)) : ""}</span></td>
					<td>${c.slots
						.map(
							(s) => `<button class="btn btn-primary btn-xs mb-1" data-callback="${snp_html(c.name)}" data-callback-slot="${snp_html(s.name)}">
								${__("Book")} ${snp_html(snp_when(s.starts_at))} · ${snp_html(s.professional_name)}</button>`
						)
						.join(" ")}</td>
					<td class="text-right"><button class="btn btn-default btn-xs" data-drop-callback="${snp_html(c.name)}">${__("Drop")}</button></td></tr>`
			);
			this.$callbacks.html(`<div class="frappe-card p-3 snp-callbacks-panel">
				<h5>${__("Call-backs waiting")}</h5>
				${rows.length ? `<table class="table table-sm"><tbody>${rows.join("")}</tbody></table>` : ""}
				<p class="text-muted mb-0">${__("{0} other requests waiting without a matching slot", [others])}</p></div>`);
		});
	}

	drop_callback(name) {
		frappe.confirm(__("Take request {0} off the call-back list?", [snp_html(name)]), () =>
			frappe
				.call({ method: "cpts_snp.api.telesecretariat.drop_callback", args: { callback: name } })
				.then(() => this.load_callbacks())
		);
	}

	callback_dialog() {
		const identity = this.identity();
		const dialog = new frappe.ui.Dialog({
			title: __("Put on the call-back list"),
			size: "large",
			fields: [
				{ fieldname: "patient_last_name", fieldtype: "Data", label: __("Patient last name"), reqd: 1, default: identity.patient_last_name },
				{ fieldname: "patient_first_name", fieldtype: "Data", label: __("Patient first name"), reqd: 1, default: identity.patient_first_name },
				{ fieldname: "patient_date_of_birth", fieldtype: "Date", label: __("Date of birth"), reqd: 1, default: identity.patient_date_of_birth },
				{ fieldname: "patient_phone", fieldtype: "Data", label: __("Patient phone"), reqd: 1, default: identity.patient_phone },
				{ fieldname: "column_break_wanted", fieldtype: "Column Break" },
				{ fieldname: "sector", fieldtype: "Link", options: "SNP Sector", label: __("Sector"), reqd: 1, default: (this.sectors || [])[0] },
				{ fieldname: "wanted_from", fieldtype: "Date", label: __("Wanted from"), reqd: 1, default: frappe.datetime.get_today() },
				{ fieldname: "wanted_to", fieldtype: "Date", label: __("Wanted until") },
				{ fieldname: "notes", fieldtype: "Small Text", label: __("Notes") },
				{ fieldname: "section_call", fieldtype: "Section Break", label: __("Call") },
				...this.call_fields(),
			],
			primary_action_label: __("Put on the call-back list"),
			primary_action: (values) => {
				const callback = {};
				["patient_last_name", "patient_first_name", "patient_date_of_birth", "patient_phone", "sector", "wanted_from", "wanted_to", "notes", "reason_category"].forEach(
					(f) => (callback[f] = values[f])
				);
				const call = { caller_type: values.caller_type, caller_name: values.caller_name, reason_category: values.reason_category, has_gp: values.has_gp, gp_available: values.gp_available, commune: this.query_field.get_value() };
				frappe
					.call({ method: "cpts_snp.api.telesecretariat.put_on_callback_list", args: { callback, call }, freeze: true })
					.then((r) => {
						dialog.hide();
						frappe.show_alert({ message: __("Request {0} put on the call-back list", [snp_html(r.message)]), indicator: "green" });
						this.load_callbacks();
					});
			},
		});
		dialog.show();
	}

	refresh() {
		this.load_callbacks();
		const query = this.query_field.get_value() || "";
		frappe.call({
			method: "cpts_snp.api.telesecretariat.search_slots",
			args: { query },
			callback: (r) => this.render(r.message),
			error: () => {
				this.slots = [];
				this.$summary.text("");
				this.$results.empty();
			},
		});
	}

	render(data) {
		this.slots = data.slots;
		this.sectors = data.sectors;
		const until = snp_when(data.horizon_end);
		this.$summary.text(
			data.slots.length
				? __("{0} free slots until {1}", [data.slots.length, until])
				: __("No free slot until {0}: log the call with the outcome « No slot available ».", [until])
		);
		this.$summary.append(` <button class="btn btn-default btn-xs snp-callback-add">${__("Put on the call-back list")}</button>`);
		const rows = data.slots.map((slot) => {
			const distance =
				slot.distance === null || slot.distance === undefined
					? ""
					: `<span class="indicator-pill ${snp_choices().lists.slot_distances[slot.distance].colour}">${__(
							snp_choices().lists.slot_distances[slot.distance].label
					  )}</span>`;
			return `<tr>
				<td class="font-weight-bold">${snp_when(slot.starts_at)}</td>
				<td>${snp_html(slot.professional_name)}</td>
				<td>${snp_html(slot.sector)} ${distance}</td>
				<td>${snp_html(__(slot.modality))}${slot.location ? ` · ${snp_html(slot.location)}` : ""}${slot.is_pdsa ? ` <span class="indicator-pill orange">${__("PDSA")}</span>` : ""}</td>
				<td class="text-right"><button class="btn btn-primary btn-sm" data-slot="${snp_html(slot.name)}">${__("Book")}</button></td>
			</tr>`;
		});
		this.$results.html(
			rows.length
				? `<table class="table table-hover snp-desk-table"><thead><tr>
					<th>${__("Start")}</th><th>${__("Professional")}</th><th>${__("Sector")}</th>
					<th>${__("Modality")}</th><th></th></tr></thead><tbody>${rows.join("")}</tbody></table>`
				: ""
		);
	}

	call_fields() {
		return [
			{ fieldname: "caller_type", fieldtype: "Select", label: __("Caller"), options: snp_options(snp_call_options("caller_type")), default: "Patient", reqd: 1 },
			{ fieldname: "caller_name", fieldtype: "Data", label: __("Caller name") },
			{ fieldname: "reason_category", fieldtype: "Select", label: __("Reason category"), options: snp_options(snp_call_options("reason_category")) },
			{ fieldname: "column_break_call", fieldtype: "Column Break" },
			{ fieldname: "has_gp", fieldtype: "Check", label: __("The patient has a médecin traitant") },
			{ fieldname: "gp_available", fieldtype: "Select", label: __("Is the médecin traitant available?"), options: snp_options(snp_call_options("gp_available")), depends_on: "has_gp" },
		];
	}

	book_dialog(slot, callback) {
		// the identity: from the call-back request served, or the patient found, or typed
		const identity = callback
			? { patient_last_name: callback.patient_last_name, patient_first_name: callback.patient_first_name, patient_date_of_birth: callback.patient_date_of_birth, patient_phone: callback.patient_phone }
			: this.identity();
		const dialog = new frappe.ui.Dialog({
			title: __("Book {0} with {1}", [snp_html(snp_when(slot.starts_at)), snp_html(slot.professional_name)]),
			size: "large",
			fields: [
				{ fieldname: "patient_last_name", fieldtype: "Data", label: __("Patient last name"), reqd: 1 },
				{ fieldname: "patient_first_name", fieldtype: "Data", label: __("Patient first name"), reqd: 1 },
				{ fieldname: "patient_date_of_birth", fieldtype: "Date", label: __("Date of birth"), reqd: 1 },
				{ fieldname: "column_break_patient", fieldtype: "Column Break" },
				{ fieldname: "patient_phone", fieldtype: "Data", label: __("Patient phone") },
				{ fieldname: "patient_email", fieldtype: "Data", label: __("Patient email"), options: "Email" },
				{ fieldname: "reason", fieldtype: "Data", label: __("Reason for the consultation") },
				{ fieldname: "section_supplement", fieldtype: "Section Break", label: __("SNP supplement") },
				{ fieldname: "patient_of_doctor", fieldtype: "Check", label: __("Patient followed by this doctor (médecin traitant)?") },
				{ fieldname: "column_break_supplement", fieldtype: "Column Break" },
				{ fieldname: "regulated", fieldtype: "Check", label: __("Regulated request (SAS/15)?") },
				{ fieldname: "section_call", fieldtype: "Section Break", label: __("Call") },
				...this.call_fields(),
			],
			primary_action_label: __("Book"),
			primary_action: (values) => {
				const patient = {};
				["patient_last_name", "patient_first_name", "patient_date_of_birth", "patient_phone", "patient_email"].forEach(
					(f) => (patient[f] = values[f])
				);
				const call = {
					caller_type: values.caller_type,
					caller_name: values.caller_name,
					reason_category: values.reason_category,
					has_gp: values.has_gp,
					gp_available: values.gp_available,
					commune: this.query_field.get_value(),
				};
				frappe
					.call({
						method: "cpts_snp.api.telesecretariat.book",
						args: {
							slot: slot.name,
							patient,
							call,
							reason: values.reason,
							regulated: values.regulated ? 1 : 0,
							patient_of_doctor: values.patient_of_doctor ? 1 : 0,
							callback: callback ? callback.name : null,
						},
						freeze: true,
					})
					.then((r) => {
						dialog.hide();
						frappe.msgprint({
							title: __("Appointment booked"),
							indicator: "green",
							message: __("{0} on {1}. Booking {2}, call {3}. {4}", [
								snp_html(r.message.professional_name),
								snp_html(snp_when(r.message.slot_start)),
								`<a href="/app/snp-booking/${encodeURIComponent(r.message.booking)}">${snp_html(r.message.booking)}</a>`,
								snp_html(r.message.call),
								snp_html(r.message.supplement_note),
							]),
						});
						this.refresh();
					})
					.catch(() => this.refresh());
			},
		});
		dialog.fields_dict.caller_type.df.onchange = () =>
			dialog.set_value("regulated", dialog.get_value("caller_type") === "SAS" ? 1 : 0);
		dialog.set_values(Object.fromEntries(Object.entries(identity).filter(([, v]) => v)));
		dialog.show();
	}

	log_call_dialog() {
		const dialog = new frappe.ui.Dialog({
			title: __("Call without appointment"),
			fields: [
				...this.call_fields(),
				{ fieldname: "section_outcome", fieldtype: "Section Break" },
				{ fieldname: "outcome", fieldtype: "Select", label: __("Outcome"), options: snp_options(snp_choices().lists.call_outcomes_without_booking), reqd: 1, default: this.slots && this.slots.length ? "Advice given" : "No slot available" },
				{ fieldname: "notes", fieldtype: "Small Text", label: __("Notes") },
			],
			primary_action_label: __("Log the call"),
			primary_action: (values) => {
				const { outcome, ...call } = values;
				call.commune = this.query_field.get_value();
				if (this.patient) call.patient = this.patient.name;
				frappe
					.call({ method: "cpts_snp.api.telesecretariat.log_call_without_booking", args: { call, outcome } })
					.then((r) => {
						dialog.hide();
						frappe.show_alert({ message: __("Call {0} logged", [snp_html(r.message)]), indicator: "green" });
					});
			},
		});
		dialog.show();
	}
}
