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

const SNP_DISTANCE_LABELS = {
	0: () => __("Same sector"),
	1: () => __("Neighbouring sector"),
	2: () => __("Other sector"),
};

const SNP_CALLER_TYPES = ["Patient", "Pharmacist", "Nurse", "SAS", "Emergency department", "Other"];
const SNP_OUTCOMES_WITHOUT_BOOKING = [
	"Advice given",
	"Referred to the 15",
	"Referred to PDSA",
	"Referred to the emergency department",
	"No slot available",
];
const SNP_REASON_CATEGORIES = [
	"",
	"Fever or infection",
	"Pain",
	"Minor injury",
	"Skin",
	"Ear, nose and throat",
	"Urinary problem",
	"Prescription",
	"Other",
];

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
		this.$summary = $('<div class="snp-desk-summary text-muted mb-3"></div>').appendTo(page.main);
		this.$results = $('<div class="snp-desk-results"></div>').appendTo(page.main);
		this.$results.on("click", "[data-slot]", (e) => {
			const slot = this.slots.find((s) => s.name === $(e.currentTarget).attr("data-slot"));
			slot && this.book_dialog(slot);
		});
		this.refresh();
	}

	refresh() {
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
		const until = snp_when(data.horizon_end);
		this.$summary.text(
			data.slots.length
				? __("{0} free slots until {1}", [data.slots.length, until])
				: __("No free slot until {0}: log the call with the outcome « No slot available ».", [until])
		);
		const rows = data.slots.map((slot) => {
			const distance =
				slot.distance === null || slot.distance === undefined
					? ""
					: `<span class="indicator-pill ${slot.distance === 0 ? "green" : slot.distance === 1 ? "blue" : "gray"}">${SNP_DISTANCE_LABELS[slot.distance]()}</span>`;
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
			{ fieldname: "caller_type", fieldtype: "Select", label: __("Caller"), options: snp_options(SNP_CALLER_TYPES), default: "Patient", reqd: 1 },
			{ fieldname: "caller_name", fieldtype: "Data", label: __("Caller name") },
			{ fieldname: "reason_category", fieldtype: "Select", label: __("Reason category"), options: snp_options(SNP_REASON_CATEGORIES) },
			{ fieldname: "column_break_call", fieldtype: "Column Break" },
			{ fieldname: "has_gp", fieldtype: "Check", label: __("The patient has a médecin traitant") },
			{ fieldname: "gp_available", fieldtype: "Select", label: __("Is the médecin traitant available?"), options: snp_options(["", "Yes", "No", "Unknown"]), depends_on: "has_gp" },
		];
	}

	book_dialog(slot) {
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
				{ fieldname: "section_call", fieldtype: "Section Break", label: __("Call") },
				...this.call_fields(),
				{ fieldname: "regulated", fieldtype: "Check", label: __("Regulated request (SAS or 15)") },
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
						args: { slot: slot.name, patient, call, reason: values.reason, regulated: values.regulated ? 1 : 0 },
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
		dialog.show();
	}

	log_call_dialog() {
		const dialog = new frappe.ui.Dialog({
			title: __("Call without appointment"),
			fields: [
				...this.call_fields(),
				{ fieldname: "section_outcome", fieldtype: "Section Break" },
				{ fieldname: "outcome", fieldtype: "Select", label: __("Outcome"), options: snp_options(SNP_OUTCOMES_WITHOUT_BOOKING), reqd: 1, default: this.slots && this.slots.length ? "Advice given" : "No slot available" },
				{ fieldname: "notes", fieldtype: "Small Text", label: __("Notes") },
			],
			primary_action_label: __("Log the call"),
			primary_action: (values) => {
				const { outcome, ...call } = values;
				call.commune = this.query_field.get_value();
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
