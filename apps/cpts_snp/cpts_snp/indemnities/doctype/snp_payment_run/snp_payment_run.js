frappe.ui.form.on("SNP Payment Run", {
	refresh(frm) {
		if (frm.is_new()) return;
		cpts_snp_watch_run(frm);
		if (frm.doc.docstatus === 0 && frappe.boot.cpts_snp_choices.lists.computable_run_statuses.includes(frm.doc.status) && frm.perm[0]?.create) {
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
		// The background job ends with a document update (after its commit): the form reloads by itself.
		frappe.realtime.on("doc_update", (data) => {
			if (data.doctype === frm.doctype && data.name === frm.doc?.name && !frm.is_dirty()) frm.reload_doc();
		});
	},
	onload_post_render(frm) {
		cpts_snp_watch_run(frm);
	},
	after_save(frm) {
		cpts_snp_watch_run(frm);
	},
});

const CPTS_SNP_POLL_MS = 2000;

function cpts_snp_progress_title(frm) {
	return __("Computing {0}", [frm.doc.name]);
}

// While the run is computed in the background: Frappe's progress dialog follows the job's « progress » events
// (real time, the run's room); the form also reads the job's last progress every 2 s, so that it completes even
// when the real-time connection is down, and reloads once the run is no longer « Computing ».
function cpts_snp_watch_run(frm) {
	if (frm.is_new()) return;
	if (frm.doc.status !== "Computing") {
		// the job ended (its document update reloaded the form): its progress dialog goes too
		if (frappe.cur_progress?.title === cpts_snp_progress_title(frm)) frappe.hide_progress();
		return;
	}
	if (frm.__cpts_snp_polling) return;
	frm.__cpts_snp_polling = true;
	const name = frm.doc.name;
	const poll = () =>
		frappe
			.call({
				method: "cpts_snp.indemnities.doctype.snp_payment_run.snp_payment_run.progress",
				type: "GET",
				args: { run: name },
			})
			.then((r) => {
				const state = r.message || {};
				if (frm.doc.name !== name) {
					frm.__cpts_snp_polling = false;
					return;
				}
				if (state.status === "Computing") {
					frappe.show_progress(cpts_snp_progress_title(frm), state.percent || 0, 100, state.description || "");
					setTimeout(poll, CPTS_SNP_POLL_MS);
					return;
				}
				frm.__cpts_snp_polling = false;
				if (state.status === "Computed") {
					frappe.show_progress(cpts_snp_progress_title(frm), 100, 100, __("Done"), true);
				} else {
					frappe.hide_progress();
				}
				frm.reload_doc();
			})
			.catch(() => setTimeout(poll, CPTS_SNP_POLL_MS * 2));
	poll();
}
