// The app's web pages (/snp doctors' portal, /permanences). The only script of these pages: they are served
// with a Content-Security-Policy that forbids inline script (cpts_snp/web_headers.py). Behaviour is keyed on
// data attributes and element ids; the strings it shows come translated in data-* attributes of the page.
//   <form data-method>: posts its fields to the whitelisted method;
//   <button data-method data-args data-confirm data-prompt data-prompt-arg>: posts data-args (JSON);
//   data-done: message shown on success; data-reload: reload the page after success;
//   data-redirect: go to the path the method returned (`redirect`); data-next: go to this path after success.
(() => {
	"use strict";

	const csrf_token = () => document.querySelector('meta[name="csrf-token"]')?.content || "";

	const snp = {
		async call(method, args) {
			const response = await fetch("/api/method/" + method, {
				method: "POST",
				credentials: "same-origin",
				headers: {
					"Content-Type": "application/json",
					Accept: "application/json",
					"X-Frappe-CSRF-Token": csrf_token(),
				},
				body: JSON.stringify(args || {}),
			});
			const data = await response.json().catch(() => ({}));
			if (!response.ok) throw new Error(snp.message_of(data) || response.statusText);
			return data.message;
		},
		message_of(data) {
			// Frappe's messages may hold markup: keep their text only (shown with textContent anyway).
			try {
				const text = JSON.parse(data._server_messages)
					.map((m) => JSON.parse(m).message)
					.join("\n");
				return new DOMParser().parseFromString(text, "text/html").body.textContent;
			} catch (e) {
				return data.exception || "";
			}
		},
		show(text, kind) {
			const box = document.getElementById("snp-alert");
			if (!box) return;
			box.textContent = text;
			box.className = "snp-alert " + kind;
			box.scrollIntoView({ block: "nearest" });
		},
		async run(element, args) {
			try {
				const result = await snp.call(element.dataset.method, args);
				if (element.dataset.done) snp.show(element.dataset.done, "ok");
				// data-next: go to this path of the site after success (the login form: the page asked for)
				if (element.dataset.next && /^\/(?![\/\\])/.test(element.dataset.next)) {
					window.location.assign(element.dataset.next);
					return result;
				}
				// data-redirect: go to the page the method names (a path of this site), e.g. a confirmation
				const target = result && result.redirect;
				if (element.dataset.redirect !== undefined && typeof target === "string" && /^\/(?![\/\\])/.test(target)) {
					window.location.assign(target);
					return result;
				}
				if (element.dataset.reload !== undefined) {
					setTimeout(() => window.location.reload(), element.dataset.done ? 700 : 0);
				}
				return result;
			} catch (error) {
				snp.show(error.message, "error");
			}
		},
	};
	window.snp = snp;

	// Per-page preparation of a form's values before it is sent (keyed on the form's id).
	const before_submit = {
		// /snp/creneaux: the form gives a day and a time; the endpoint takes one datetime.
		"publish-slot": (form, args) => {
			args.starts_at = form.elements.day.value + " " + form.elements.time.value + ":00";
			delete args.day;
			delete args.time;
		},
		// /snp/profil: the checked sectors travel as one JSON list.
		"profile-form": (form, args) => {
			args.sectors = JSON.stringify(
				[...form.querySelectorAll("input[name=sector]:checked")].map((box) => box.value)
			);
			delete args.sector;
		},
	};

	document.addEventListener("submit", (event) => {
		const form = event.target.closest("form[data-method]");
		if (!form) return;
		event.preventDefault();
		const args = Object.fromEntries(new FormData(form).entries());
		if (before_submit[form.id]) before_submit[form.id](form, args);
		snp.run(form, args);
	});

	document.addEventListener("click", (event) => {
		const button = event.target.closest("button[data-method]");
		if (!button) return;
		const args = JSON.parse(button.dataset.args || "{}");
		if (button.dataset.confirm && !window.confirm(button.dataset.confirm)) return;
		if (button.dataset.prompt) {
			const answer = window.prompt(button.dataset.prompt);
			if (!answer) return;
			args[button.dataset.promptArg || "reason"] = answer;
		}
		snp.run(button, args);
	});

	// /snp/absences: preview the booked appointments an absence hits, then confirm it.
	function setup_absence_preview() {
		const form = document.getElementById("absence-form");
		const preview = document.getElementById("absence-preview");
		if (!form || !preview) return;
		const confirm = document.getElementById("absence-confirm");
		const hits = document.getElementById("absence-hits");
		form.addEventListener("change", () => {
			confirm.disabled = true;
			hits.replaceChildren();
		});
		preview.addEventListener("click", async () => {
			try {
				const bookings = await snp.call("cpts_snp.api.portal.preview_absence", {
					from_date: form.elements.from_date.value,
					to_date: form.elements.to_date.value,
				});
				hits.replaceChildren();
				const title = document.createElement("p");
				title.textContent = bookings.length
					? hits.dataset.someHits.replace("{0}", bookings.length)
					: hits.dataset.noHit;
				hits.appendChild(title);
				for (const b of bookings) {
					const row = document.createElement("div");
					row.className = "snp-row";
					row.textContent =
						b.slot_start.slice(0, 16).replace("T", " ") + " · " + b.patient_first_name + " " + b.patient_last_name;
					hits.appendChild(row);
				}
				confirm.disabled = false;
			} catch (error) {
				snp.show(error.message, "error");
			}
		});
	}

	if (document.readyState === "loading") {
		document.addEventListener("DOMContentLoaded", setup_absence_preview);
	} else {
		setup_absence_preview();
	}
})();
