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
]

# Doctors' portal: pretty French routes for pages whose files cannot hold a hyphen.
# FHIR R4 facade for the SAS platform (/fhir/Slot, /fhir/Appointment): JSON answers with real HTTP statuses.
page_renderer = ["cpts_snp.api.fhir.FHIRRenderer"]
website_path_resolver = ["cpts_snp.api.fhir.resolve_website_path"]

website_route_rules = [
	{"from_route": "/snp/rendez-vous", "to_route": "snp/rendez_vous"},
]

scheduler_events = {
	"daily": ["cpts_snp.services.generation.generate_all"],
}

after_install = "cpts_snp.setup.install.after_install"
after_migrate = "cpts_snp.setup.install.after_migrate"

# Record-level rules: one function per doctype, all in cpts_snp.permissions, so the desk list,
# /api/resource, reports and the portal see the same rule.
permission_query_conditions = {
	"SNP Professional": "cpts_snp.permissions.professional_query",
	"SNP Slot": "cpts_snp.permissions.slot_query",
	"SNP Booking": "cpts_snp.permissions.booking_query",
	"SNP Availability Template": "cpts_snp.permissions.template_query",
	"SNP Absence": "cpts_snp.permissions.absence_query",
	"SNP Indemnity Payment": "cpts_snp.permissions.payment_query",
	"SNP Intern": "cpts_snp.permissions.intern_query",
	"SNP Supervision Shift": "cpts_snp.permissions.shift_query",
	"SNP Debrief": "cpts_snp.permissions.debrief_query",
	"SNP Permanence": "cpts_snp.permissions.permanence_query",
	"SNP Permanence Swap": "cpts_snp.permissions.swap_query",
	"SNP Partner": "cpts_snp.permissions.partner_query",
}
has_permission = {
	"SNP Professional": "cpts_snp.permissions.professional_has_permission",
	"SNP Slot": "cpts_snp.permissions.slot_has_permission",
	"SNP Booking": "cpts_snp.permissions.booking_has_permission",
	"SNP Availability Template": "cpts_snp.permissions.template_has_permission",
	"SNP Absence": "cpts_snp.permissions.absence_has_permission",
	"SNP Indemnity Payment": "cpts_snp.permissions.payment_has_permission",
	"SNP Intern": "cpts_snp.permissions.intern_has_permission",
	"SNP Supervision Shift": "cpts_snp.permissions.shift_has_permission",
	"SNP Debrief": "cpts_snp.permissions.debrief_has_permission",
	"SNP Permanence": "cpts_snp.permissions.permanence_has_permission",
	"SNP Permanence Swap": "cpts_snp.permissions.swap_has_permission",
	"SNP Partner": "cpts_snp.permissions.partner_has_permission",
}
