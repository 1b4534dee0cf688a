app_name = "cpts_snp"
app_title = "CPTS SNP"
app_publisher = "CPTS SNP contributors"
app_description = (
	"Back-office of a French CPTS: shared SNP agenda, telesecretariat, doctors' portal, indemnities"
)
app_email = "dev@cpts-snp.example"
app_license = "agpl-3.0"

# Roles of the app, with their desk access (doctors are website users), and the onboarding workflow of
# professionals (its states and actions first: the workflow links to them).
fixtures = [
	{
		"dt": "Role",
		"filters": [
			[
				"role_name",
				"in",
				[
					"Coordinateur CPTS",
					"Télésecrétaire",
					"Médecin SNP",
					"Comptable CPTS",
					"Trésorier CPTS",
					"Interne SNP",
					"Partenaire SNP",
					"Délégué à la protection des données",
				],
			]
		],
	},
	{
		"dt": "Workflow State",
		"filters": [
			[
				"name",
				"in",
				[
					"Candidate",
					"Charter signed",
					"Active",
					"Suspended",
					"Draft",
					"Computing",
					"Computed",
					"Failed",
					"Approved",
					"Paid",
					"Cancelled",
					"Requested",
					"Accepted",
					"Refused",
				],
			]
		],
	},
	{
		"dt": "Workflow Action Master",
		"filters": [
			[
				"name",
				"in",
				[
					"Sign charter",
					"Activate",
					"Suspend",
					"Reactivate",
					"Approve",
					"Mark as paid",
					"Cancel",
					"Reset",
					"Accept",
					"Refuse",
				],
			]
		],
	},
	{
		"dt": "Workflow",
		"filters": [
			[
				"name",
				"in",
				["SNP Professional Onboarding", "SNP Payment Run Approval", "SNP Permanence Swap Approval"],
			]
		],
	},
	# the coordination's right to Frappe's Data Import (cpts_snp.services.imports)
	{"dt": "Custom DocPerm", "filters": [["parent", "in", ["Data Import", "Data Import Log"]]]},
]

# Doctors' portal: pretty French routes for pages whose files cannot hold a hyphen.
# FHIR R4 facade for the SAS platform (/fhir and /fhir/ps: the guide's two flows): JSON answers with real HTTP
# statuses. A page renderer of the app only: Frappe's own path resolver stays in charge of every address.
page_renderer = ["cpts_snp.api.fhir.FHIRRenderer"]
# Frappe routes no PUT to page renderers: the conditional update PUT [base]/Practitioner (INT_R02) is served here
before_request = ["cpts_snp.api.fhir.serve_put"]

website_route_rules = [
	{"from_route": "/snp/rendez-vous", "to_route": "snp/rendez_vous"},
	# the SAS booking link (Slot.comment of the FHIR facade): one doctor's agenda, cpts_snp.services.sas_booking
	{"from_route": "/sas/agenda/<professional>", "to_route": "sas/agenda"},
]

# the shared « Déplacer le rendez-vous » dialog (booking form, telesecretariat page)
app_include_js = ["/assets/cpts_snp/js/move_booking.js"]
# the booking form shows its messages that could not be sent (cpts_snp.services.sms)
doctype_js = {"SNP Booking": "public/js/booking_messages.js"}

scheduler_events = {
	"daily": [
		"cpts_snp.services.generation.generate_all",
		# call-back requests whose wanted dates are past leave the list (cpts_snp.services.callbacks)
		"cpts_snp.services.callbacks.expire",
		# in January, each doctor gets the previous year's statement of indemnities, once
		# (cpts_snp.services.annual_statement)
		"cpts_snp.services.annual_statement.send_january_statements",
		# RGPD: patient data older than SNP Settings' retention periods are anonymised, their copies purged
		# (cpts_snp.services.privacy)
		"cpts_snp.services.privacy.anonymise_expired",
		# the staff read audit past its retention period (cpts_snp.services.access_audit)
		"cpts_snp.services.access_audit.purge_expired",
	],
	# INT_R03: the outbox of bookings reported to the SAS platform, drained every minute (retries with backoff)
	"cron": {
		"* * * * *": ["cpts_snp.services.sas_feedback.send_due"],
		# the slot cascade: reserved slots still free open to partners, then alert (cpts_snp.services.cascade);
		# reminders of appointments, each sent once (cpts_snp.services.reminders)
		"*/5 * * * *": ["cpts_snp.services.cascade.run", "cpts_snp.services.reminders.send_due"],
	},
}

after_install = [
	"cpts_snp.setup.install.after_install",
	# the Email Templates « SNP - … », created when missing, never overwritten (cpts_snp.services.notifications)
	"cpts_snp.services.notifications.ensure_email_templates",
]
after_migrate = [
	"cpts_snp.setup.install.after_migrate",
	"cpts_snp.services.notifications.ensure_email_templates",
	# the Social Login Key « Pro Santé Connect », created disabled when missing (cpts_snp.integrations.psc)
	"cpts_snp.integrations.psc.ensure_social_login_key",
]

# The access model (cpts_snp.permissions): every doctype of the app, child tables included, gets the record-rule
# dispatchers and the guard of its server-owned fields, generated from the app's doctype files so that a new
# doctype is covered (staff only) until it is given a rule.
from cpts_snp.permissions import hooks as _permission_hooks

_access = _permission_hooks()
permission_query_conditions = _access["permission_query_conditions"]
has_permission = _access["has_permission"]
doc_events = _access["doc_events"]
# INT_R03: a booking made through the SAS, and each later change of its status, is reported to the SAS platform
# (an outbox message written in the booking's transaction, sent after the commit: cpts_snp.services.sas_feedback).
# a slot published or made free again: the call-back list's matching job, after commit (cpts_snp.services.callbacks)
doc_events["SNP Slot"] |= {
	"after_insert": "cpts_snp.services.callbacks.slot_changed",
	"on_update": "cpts_snp.services.callbacks.slot_changed",
}
# Data Import of the app's records: only a doctype the user may import (cpts_snp.services.imports)
doc_events["Data Import"] = {"validate": "cpts_snp.services.imports.check_import_permission"}
# an « SNP - … » Email Template names only its message's variables (a typo would be mailed as a blank)
doc_events["Email Template"] = {"validate": "cpts_snp.services.notifications.validate_email_template"}
# The lists of choices and status colours, from their one definition, for the desk's JavaScript (cpts_snp.choices)
extend_bootinfo = ["cpts_snp.choices.boot"]
# A desk for each role: a User's landing workspace and sidebar modules follow his roles (cpts_snp.desks)
doc_events.setdefault("User", {})["validate"] = "cpts_snp.desks.apply_role_desk"
doc_events["SNP Booking"] |= {
	"after_insert": "cpts_snp.services.sas_feedback.booking_inserted",
	"on_update": "cpts_snp.services.sas_feedback.booking_updated",
}

# Frappe methods that ignore record rules, made to apply them for the app's doctypes.
override_whitelisted_methods = {
	"frappe.client.get_count": "cpts_snp.permissions.get_count",
	"frappe.client.get_value": "cpts_snp.permissions.get_value",
	"frappe.client.get_single_value": "cpts_snp.permissions.get_single_value",
	"frappe.desk.form.load.getdoc": "cpts_snp.permissions.getdoc",
	"frappe.desk.form.load.get_docinfo": "cpts_snp.permissions.get_docinfo",
	"frappe.desk.form.utils.add_comment": "cpts_snp.permissions.add_comment",
}

# --- Security headers of the app's web pages (portal /snp/*, public /permanences) ---------------------------
# A Content-Security-Policy without inline script, nosniff and same-origin referrers, only on those paths
# (cpts_snp.web_headers); every other response is left as Frappe makes it.
after_request = [
	"cpts_snp.web_headers.add_security_headers",
	# the staff's reads of patient data noted during the request, written in one insert as it ends
	# (cpts_snp.services.access_audit)
	"cpts_snp.services.access_audit.write_pending",
]
