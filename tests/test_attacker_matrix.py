"""The attacker matrix (security issue 13): every non-staff identity × every app doctype and child table ×
every generic Frappe endpoint, over HTTP, against the access model below. The doctypes come from the
database (every DocType of a module of the app), so a new doctype is covered by default: nothing is readable
unless the model says so, and nothing at all is writable through a generic endpoint.

The model (the specification; the code must follow it):
- doctor, intern, supervisor: their own SNP Professional (user = him); the slots, bookings, templates,
  absences and indemnity payments of that professional; a supervisor also the bookings, SNP Intern records
  and debriefs of his interns; an intern his SNP Intern record, his debriefs and the shifts of his
  supervisors; a supervisor his shifts. Every doctor reads every SNP Sector, SNP Protocol and SNP Permanence,
  SNP Settings (not its CPTS bank details nor its approval settings) and the swaps he is one of the two
  doctors of. Child tables: the rows of the parents he reads. IBAN and BIC: on his own records only.
- active partner: free slots and the slots of its own bookings, its own bookings, its own SNP Partner; a
  view-only partner the same (it has no booking); an expired partner nothing at all.
- télésecrétaire: every slot, booking, call, professional (without IBAN/BIC), partner, sector, and the
  settings without their restricted fields; no payment, run, scheme, paid item or access log.
- anonymous: nothing.
- Writes: no non-staff identity creates, changes, deletes, renames, submits, cancels, comments on or attaches
  to any app record through a generic endpoint (the app's endpoints are their only way to write); the
  télésecrétaire never changes a booking's slot, professional, partner or channel, nor a professional.
"""

import csv
import io
import json
import os
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import frappe
import pytest
import requests
from cpts_snp.tests.attacker_world import MARKER, build_world
from cpts_snp.tests.factories import TEST_PASSWORD

WORKERS = 6
# `make test` runs the matrix on the attackers (the people of the second kind are there to be attacked) and one
# record of each side; CPTS_LONG=1 runs every identity, two records a side and every endpoint on each.
FULL = os.environ.get("CPTS_LONG") == "1"
BIG = 100000
STAFF_KINDS = {"telesecretary"}
PRO_KINDS = {"doctor", "intern", "supervisor"}
# Fields of SNP Settings no doctor nor télésecrétaire reads: the CPTS's bank details and approval settings.
RESTRICTED_SETTINGS = ("cpts_iban", "cpts_bic", "allow_self_approval")
BANK_FIELDS = ("iban", "bic")
# Columns Frappe updates on a mere read (seen by, view counters) or that only mirror a comment count.
# The list endpoints a doctor's own records must come through (the others may refuse him).
LISTS = ("GET /api/resource", "frappe.client.get_list", "frappe.desk.reportview.get")
NOISE_COLUMNS = {"_seen", "_comments", "_liked_by", "_assign", "_user_tags"}
LOGGED_IN = [
	"doctor_a",
	"doctor_b",
	"intern_a",
	"intern_b",
	"supervisor",
	"partner_view",
	"partner_1",
	"partner_2",
	"partner_expired",
	"telesecretary",
]
IDENTITIES = [*LOGGED_IN, "anonymous"]
PRINTED = (
	"SNP Booking",
	"SNP Slot",
	"SNP Professional",
	"SNP Indemnity Payment",
	"SNP Intern",
	"SNP Debrief",
)
# B, intern B and P2 are mostly there to be attacked: their writes mirror those of A, intern A and P1.
ATTACKERS = [
	"doctor_a",
	"intern_a",
	"supervisor",
	"partner_view",
	"partner_1",
	"partner_expired",
	"telesecretary",
	"anonymous",
]
CHECKED = IDENTITIES if FULL else ATTACKERS
# Writes are refused alike to every website user (no write right at all: tests/test_access_model.py checks the
# role permissions) and every partner: `make test` tries them as a doctor, a booking partner, the télésecrétaire
# and anonymous; CPTS_LONG=1 as every attacker.
WRITERS = ATTACKERS if FULL else ["doctor_a", "partner_1", "telesecretary", "anonymous"]


# --- the app's doctypes, from the database ---------------------------------------------------------------------
def app_doctypes() -> list[frappe._dict]:
	modules = frappe.get_all("Module Def", {"app_name": "cpts_snp"}, pluck="name")
	return frappe.get_all(
		"DocType",
		{"module": ["in", modules]},
		["name", "istable", "issingle", "is_submittable"],
		order_by="name",
	)


DOCTYPES = app_doctypes()
APP_DOCTYPE_NAMES = [d.name for d in DOCTYPES]


def table_parents(child: str) -> list[tuple[str, str]]:
	"""(parent doctype, table field) of every app doctype holding `child` as a table."""
	return [
		(row.parent, row.fieldname)
		for row in frappe.get_all(
			"DocField",
			{
				"options": child,
				"fieldtype": ["in", ["Table", "Table MultiSelect"]],
				"parent": ["in", APP_DOCTYPE_NAMES],
			},
			["parent", "fieldname"],
			order_by="parent",
		)
	]


PARENTS = {d.name: table_parents(d.name) for d in DOCTYPES if d.istable}


# --- the oracle: (identity kind, doctype) → the names the identity reads; a missing key reads nothing ---------
def names(doctype: str, filters=None) -> set[str]:
	return set(frappe.get_all(doctype, filters=filters or {}, pluck="name", limit_page_length=0))


def _in(values) -> list:
	return ["in", sorted(values) or [""]]


def supervised_interns(i) -> set[str]:
	return set(
		frappe.get_all(
			"SNP Intern Supervisor",
			{"parenttype": "SNP Intern", "supervisor": i.professional},
			pluck="parent",
			limit_page_length=0,
		)
	)


def own_interns(i) -> set[str]:
	return names("SNP Intern", {"professional": i.professional})


def interns_of_doctor(i) -> set[str]:
	return own_interns(i) | supervised_interns(i)


def my_supervisors(i) -> set[str]:
	return set(
		frappe.get_all(
			"SNP Intern Supervisor",
			{"parenttype": "SNP Intern", "parent": _in(own_interns(i))},
			pluck="supervisor",
			limit_page_length=0,
		)
	)


def own(doctype: str) -> Callable:
	return lambda i: names(doctype, {"professional": i.professional})


def every(doctype: str) -> Callable:
	return lambda i: names(doctype)


def single(doctype: str) -> Callable:
	return lambda i: {doctype}


def doctor_bookings(i) -> set[str]:
	supervised_pros = frappe.get_all(
		"SNP Intern",
		{"name": _in(supervised_interns(i))},
		pluck="professional",
		limit_page_length=0,
	)
	return names("SNP Booking", {"professional": _in({i.professional, *supervised_pros})})


def doctor_swaps(i) -> set[str]:
	return names("SNP Permanence Swap", {"from_professional": i.professional}) | names(
		"SNP Permanence Swap", {"to_professional": i.professional}
	)


DOCTOR_READS = {
	"SNP Professional": lambda i: names("SNP Professional", {"user": i.user}),
	"SNP Slot": own("SNP Slot"),
	"SNP Availability Template": own("SNP Availability Template"),
	"SNP Absence": own("SNP Absence"),
	"SNP Indemnity Payment": own("SNP Indemnity Payment"),
	"SNP Booking": doctor_bookings,
	"SNP Intern": interns_of_doctor,
	"SNP Debrief": lambda i: names("SNP Debrief", {"intern": _in(interns_of_doctor(i))}),
	"SNP Supervision Shift": lambda i: names(
		"SNP Supervision Shift",
		{"supervisor": _in({i.professional, *my_supervisors(i)})},
	),
	"SNP Sector": every("SNP Sector"),
	"SNP Protocol": every("SNP Protocol"),
	"SNP Permanence": every("SNP Permanence"),
	"SNP Settings": single("SNP Settings"),
	"SNP Permanence Swap": doctor_swaps,
}


def partner_slots(i) -> set[str]:
	booked = frappe.get_all("SNP Booking", {"partner": i.partner}, pluck="slot", limit_page_length=0)
	return names("SNP Slot", {"status": "Available"}) | names("SNP Slot", {"name": _in(booked)})


PARTNER_READS = {
	"SNP Slot": partner_slots,
	"SNP Booking": lambda i: names("SNP Booking", {"partner": i.partner}),
	"SNP Partner": lambda i: {i.partner},
}
TELESECRETARY_READS = {
	doctype: every(doctype)
	for doctype in (
		"SNP Slot",
		"SNP Booking",
		"SNP Call",
		"SNP Professional",
		"SNP Partner",
		"SNP Sector",
		# the telesecretariat tells callers when a doctor is away and how his week is organised
		"SNP Absence",
		"SNP Availability Template",
		# where the consultation takes place, and what was reported to the SAS platform (no patient data)
		"SNP Place",
		"SNP SAS Message",
		# the patient found again on each call, and the call-back list (services.patients, services.callbacks)
		"SNP Patient",
		"SNP Callback",
		# the messages sent to the patients of the bookings she handles, and their failures (services.sms)
		"SNP Message Log",
	)
} | {"SNP Settings": single("SNP Settings")}
READS = {
	"doctor": DOCTOR_READS,
	"intern": DOCTOR_READS,
	"supervisor": DOCTOR_READS,
	"partner_book": PARTNER_READS,
	"partner_view": PARTNER_READS,
	"partner_expired": {},
	"telesecretary": TELESECRETARY_READS,
	"anonymous": {},
}


def readable(identity, doctype: str, parent: str | None = None) -> set[str]:
	"""What `identity` may read of `doctype` (for a child table: the rows of the parents it reads, of the
	parent doctype `parent` if given)."""
	if doctype in PARENTS:
		rows = set()
		for parent_doctype, fieldname in PARENTS[doctype]:
			if parent and parent != parent_doctype:
				continue
			parents = readable(identity, parent_doctype)
			if parents:
				rows |= names(
					doctype,
					{
						"parenttype": parent_doctype,
						"parentfield": fieldname,
						"parent": _in(parents),
					},
				)
		return rows
	rule = READS[identity.kind].get(doctype)
	return rule(identity) if rule else set()


# --- running checks in parallel, each with its own database connection -----------------------------------------
def in_parallel(tasks: list[Callable[[], list[str]]]) -> list[str]:
	"""Run `tasks` on WORKERS threads, each with its own site connection (opened once per thread)."""
	site, sites_path = frappe.local.site, frappe.local.sites_path

	def connect():
		frappe.init(site=site, sites_path=sites_path)
		frappe.connect()
		frappe.set_user("Administrator")

	def run(task):
		frappe.db.rollback()  # a fresh snapshot: what the server committed meanwhile
		try:
			return task()
		except Exception as error:  # a broken check is a failure to report, not a reason to stop the others
			return [f"{getattr(task, 'label', '?')} | CHECK CRASHED: {error!r}"]

	barrier = threading.Barrier(WORKERS)

	def disconnect():
		barrier.wait(timeout=60)  # one of these on each thread
		frappe.destroy()
		return []

	with ThreadPoolExecutor(WORKERS, initializer=connect) as pool:
		failures = [failure for result in pool.map(run, tasks) for failure in result]
		list(pool.map(lambda _i: disconnect(), range(WORKERS)))
	return failures


def clone(session: requests.Session) -> requests.Session:
	"""A session of the same user for one thread (a requests.Session is not to be shared between threads, and
	a reply that sets a cookie must not change the session of the other checks)."""
	own = requests.Session()
	own.cookies.update(session.cookies)
	return own


def report(failures: list[str], title: str) -> None:
	if failures:
		shown = "\n".join(sorted(failures)[:300])
		more = f"\n… and {len(failures) - 300} more" if len(failures) > 300 else ""
		pytest.fail(f"{title}: {len(failures)} failing cell(s)\n{shown}{more}", pytrace=False)


def short(names_, limit: int = 6) -> str:
	names_ = sorted(names_)
	return ", ".join(names_[:limit]) + (f" (+{len(names_) - limit})" if len(names_) > limit else "")


# --- fixtures ---------------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def world(server):
	started = time.monotonic()
	world = build_world()
	print(f"\nattacker world built in {time.monotonic() - started:.1f} s")
	yield world
	world.cleanup()


@pytest.fixture(scope="module")
def sessions(server, world):
	result = {"anonymous": requests.Session()}
	for key in LOGGED_IN:
		session = requests.Session()
		response = session.post(
			f"{server}/api/method/login",
			data={"usr": world[key].user, "pwd": TEST_PASSWORD},
			timeout=30,
		)
		assert response.ok, f"{key} cannot log in: {response.text[:300]}"
		result[key] = session
	return result


def method(session, server, rpc: str, http="post", **data):
	data = {k: json.dumps(v) if isinstance(v, dict | list) else v for k, v in data.items()}
	call = session.post if http == "post" else session.get
	return call(
		f"{server}/api/method/{rpc}",
		data=data if http == "post" else None,
		params=data if http == "get" else None,
		timeout=120,
	)


def body(response):
	try:
		return response.json()
	except ValueError:
		return {}


def server_error(response) -> str | None:
	if response.status_code >= 500:
		text = body(response).get("exception") or response.text[:200]
		return f"server error {response.status_code}: {str(text)[:200]}"
	return None


# --- the doctype list itself ------------------------------------------------------------------------------------
def test_the_matrix_covers_every_doctype_of_the_app_including_child_tables_and_singles():
	assert {
		"SNP Booking",
		"SNP Slot",
		"SNP Indemnity Payment Line",
		"SNP Settings",
	} <= set(APP_DOCTYPE_NAMES)
	known = set(APP_DOCTYPE_NAMES)
	for kind, rules in READS.items():
		assert set(rules) <= known, f"{kind}: rules for doctypes the app does not have: {set(rules) - known}"
	assert all(PARENTS[d] for d in PARENTS), "a child table that no app doctype holds"


# --- lists and counts -------------------------------------------------------------------------------------------
def list_calls(doctype: str, parent: str | None, every_endpoint: bool):
	"""(endpoint, call(session, server) -> response, names(response)) of every way to list a doctype."""
	field = f"`tab{doctype}`.`name`"
	parent_args = {"parent": parent} if parent else {}

	def rows(response):
		data = body(response).get("message", body(response).get("data"))
		return {row["name"] if isinstance(row, dict) else row[0] for row in data or []}

	def compressed(response):
		message = body(response).get("message") or {}
		if not message:
			return set()
		index = message["keys"].index("name")
		return {row[index] for row in message["values"]}

	def csv_rows(response):
		if not response.ok or "json" in response.headers.get("Content-Type", ""):
			return set()
		lines = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
		return {line[1] for line in lines[1:] if len(line) > 1}

	def search(response):
		return {
			row["value"] if isinstance(row, dict) else row[0] for row in body(response).get("message") or []
		}

	everywhere = [
		(
			"GET /api/resource",
			lambda s, b: s.get(
				f"{b}/api/resource/{doctype}",
				params={"limit_page_length": 0, "fields": '["name"]', **parent_args},
				timeout=120,
			),
			rows,
		),
		(
			"frappe.client.get_list",
			lambda s, b: method(
				s,
				b,
				"frappe.client.get_list",
				doctype=doctype,
				fields=["name"],
				limit_page_length=0,
				**parent_args,
			),
			rows,
		),
		(
			"frappe.desk.reportview.get",
			lambda s, b: method(
				s,
				b,
				"frappe.desk.reportview.get",
				doctype=doctype,
				fields=[field],
				start=0,
				page_length=BIG,
				**({"parent_doctype": parent} if parent else {}),
			),
			compressed,
		),
	]
	if not every_endpoint:
		return everywhere
	calls = [
		*everywhere,
		(
			"frappe.desk.reportview.export_query",
			lambda s, b: method(
				s,
				b,
				"frappe.desk.reportview.export_query",
				doctype=doctype,
				fields=[field],
				file_format_type="CSV",
				title="matrice",
				**({"parent_doctype": parent} if parent else {}),
			),
			csv_rows,
		),
	]
	if not parent:
		calls += [
			(
				"frappe.desk.search.search_link",
				lambda s, b: method(
					s,
					b,
					"frappe.desk.search.search_link",
					doctype=doctype,
					txt="",
					page_length=BIG,
				),
				search,
			),
		]
	if not parent and FULL:  # search_link calls search_widget: in `make test`, through search_link only
		calls += [
			(
				"frappe.desk.search.search_widget",
				lambda s, b: method(
					s,
					b,
					"frappe.desk.search.search_widget",
					doctype=doctype,
					txt="",
					page_length=BIG,
				),
				search,
			),
		]
	return calls


def count_calls(doctype: str):
	return [
		(
			"frappe.client.get_count",
			lambda s, b: method(s, b, "frappe.client.get_count", doctype=doctype),
		),
		(
			"frappe.desk.reportview.get_count",
			lambda s, b: method(s, b, "frappe.desk.reportview.get_count", doctype=doctype),
		),
	]


def list_tasks(identity, session, server) -> list[Callable[[], list[str]]]:
	tasks = []
	for meta in DOCTYPES:
		if meta.issingle:
			continue
		doctype = meta.name
		parents = [None, *[p for p, _f in PARENTS.get(doctype, [])]] if meta.istable else [None]
		for parent in parents:
			every_endpoint = FULL or identity.key in ATTACKERS
			for endpoint, call, seen_names in list_calls(doctype, parent, every_endpoint):
				tasks.append(
					_list_task(
						identity,
						session,
						server,
						doctype,
						parent,
						endpoint,
						call,
						seen_names,
						meta,
					)
				)
		if not meta.istable:
			for endpoint, call in count_calls(doctype):
				tasks.append(_count_task(identity, session, server, doctype, endpoint, call))
	return tasks


def _list_task(identity, session, server, doctype, parent, endpoint, call, seen_names, meta):
	def task():
		label = f"{identity.key} | {doctype} | {endpoint}{f' parent={parent}' if parent else ''}"
		before = readable(identity, doctype, parent)
		response = call(clone(session), server)
		frappe.db.rollback()
		after = readable(identity, doctype, parent)
		if error := server_error(response):
			return [f"{label} | {error}"]
		seen = seen_names(response) if response.ok else set()
		failures = []
		if extra := seen - (before | after):
			failures.append(f"{label} | LEAK: {len(extra)} name(s) it may not read: {short(extra)}")
		# Where the rule gives something, a list of the parent doctype (or of the child rows under their
		# parent) shows all of it; a child table listed without its parent may be refused, and so may an
		# export or a search (which, when they answer, answer exactly too).
		exact = (not meta.istable or parent) and (endpoint in LISTS or response.ok)
		if exact and not endpoint.startswith("frappe.desk.search") and (missing := (before & after) - seen):
			failures.append(
				f"{label} | MISSING: {len(missing)} readable name(s) not listed (status {response.status_code}): "
				f"{short(missing)}"
			)
		return failures

	task.label = f"{identity.key} | {doctype} | {endpoint} {parent or ''}"
	return task


def _count_task(identity, session, server, doctype, endpoint, call):
	def task():
		label = f"{identity.key} | {doctype} | {endpoint}"
		before = len(readable(identity, doctype))
		response = call(clone(session), server)
		frappe.db.rollback()
		after = len(readable(identity, doctype))
		if error := server_error(response):
			return [f"{label} | {error}"]
		if not response.ok:
			return []  # a refused count tells nothing
		count = body(response).get("message")
		if not isinstance(count, int):
			return [f"{label} | not a count: {str(count)[:100]}"]
		if not min(before, after) <= count <= max(before, after):
			return [f"{label} | COUNT {count}, the rule allows {after}"]
		return []

	task.label = f"{identity.key} | {doctype} | {endpoint}"
	return task


@pytest.mark.parametrize("key", IDENTITIES)
def test_lists_and_counts_show_exactly_what_the_rule_allows(server, world, sessions, key):
	report(
		in_parallel(list_tasks(world[key], sessions[key], server)),
		f"lists and counts as {key}",
	)


# --- one record at a time ---------------------------------------------------------------------------------------
def world_rows(world, doctype: str) -> list[tuple[str, str | None]]:
	"""(name, parent doctype) of the world's records of `doctype` (child rows: those under its records)."""
	if doctype in PARENTS:
		rows = []
		for parent_doctype, fieldname in PARENTS[doctype]:
			parents = world.records.get(parent_doctype) or (
				[parent_doctype] if frappe.get_meta(parent_doctype).issingle else []
			)
			for name in sorted(
				names(
					doctype,
					{
						"parenttype": parent_doctype,
						"parentfield": fieldname,
						"parent": _in(parents),
					},
				)
			):
				rows.append((name, parent_doctype))
		return rows
	if frappe.get_meta(doctype).issingle:
		return [(doctype, None)]
	return [(name, None) for name in world.records.get(doctype, [])]


def targets(
	identity, world, doctype: str, per_side: int = 2 if FULL else 1
) -> list[tuple[str, str | None, bool]]:
	"""A few records of the world `identity` may read and a few it may not: (name, parent, may read)."""
	allowed = readable(identity, doctype)
	rows = world_rows(world, doctype)
	mine = [(n, p, True) for n, p in rows if n in allowed][:per_side]
	others = [(n, p, False) for n, p in rows if n not in allowed][:per_side]
	return mine + others


def readable_field(doctype: str) -> str:
	"""A field to ask frappe.client.get_value for: the name, or for a single its first plain field."""
	meta = frappe.get_meta(doctype)
	if not meta.issingle:
		return "name"
	return next(df.fieldname for df in meta.fields if not df.permlevel and df.fieldtype in ("Data", "Int"))


def record_calls(doctype: str, name: str, parent: str | None, may_read: bool):
	parent_args = {"parent": parent} if parent else {}
	field = readable_field(doctype)
	calls = [
		(
			"GET /api/resource/<name>",
			lambda s, b: s.get(f"{b}/api/resource/{doctype}/{name}", timeout=60),
		),
		(
			"frappe.client.get",
			lambda s, b: method(s, b, "frappe.client.get", doctype=doctype, name=name, **parent_args),
		),
		(
			"frappe.client.get_value",
			lambda s, b: method(
				s,
				b,
				"frappe.client.get_value",
				doctype=doctype,
				fieldname=field,
				filters={"name": name},
				**parent_args,
			),
		),
	]
	if not parent:
		calls.append(
			(
				"frappe.desk.form.load.getdoc",
				lambda s, b: method(
					s,
					b,
					"frappe.desk.form.load.getdoc",
					http="get",
					doctype=doctype,
					name=name,
				),
			)
		)
	if not parent and not may_read:  # rendering a PDF takes a second: only the refusals are checked
		calls.append(
			(
				"frappe.www.printview.get_html_and_style",
				lambda s, b: method(s, b, "frappe.www.printview.get_html_and_style", doc=doctype, name=name),
			)
		)
		if FULL or doctype in PRINTED:  # the page weighs 330 KB (Frappe's icon sprite): a few in `make test`
			calls.append(
				(
					"/printview",
					lambda s, b: s.get(
						f"{b}/printview", params={"doctype": doctype, "name": name}, timeout=60
					),
				)
			)
		calls += [
			(
				"frappe.utils.print_format.download_pdf",
				lambda s, b: method(
					s,
					b,
					"frappe.utils.print_format.download_pdf",
					http="get",
					doctype=doctype,
					name=name,
				),
			),
		]
	return calls


def answered_record(endpoint: str, response, name: str) -> bool:
	"""Whether the answer gives the record (its name, its data, its page or its PDF)."""
	if not response.ok:
		return False
	if endpoint in ("/printview", "frappe.utils.print_format.download_pdf"):
		return response.content.startswith(b"%PDF") or "print-format" in response.text
	data = body(response)
	message = data.get("message", data.get("data"))
	if endpoint == "frappe.desk.form.load.getdoc":
		return bool(data.get("docs"))
	if endpoint == "frappe.www.printview.get_html_and_style":
		return bool(isinstance(message, dict) and message.get("html"))
	if isinstance(message, dict):
		return message.get("name") == name or (endpoint == "frappe.client.get_value" and bool(message))
	return bool(message)


def record_tasks(identity, world, session, server):
	tasks = []
	for meta in DOCTYPES:
		for name, parent, may_read in targets(identity, world, meta.name):
			for endpoint, call in record_calls(meta.name, name, parent, may_read):
				tasks.append(
					_record_task(
						identity,
						session,
						server,
						meta.name,
						name,
						parent,
						may_read,
						endpoint,
						call,
					)
				)
	return tasks


def _record_task(identity, session, server, doctype, name, parent, may_read, endpoint, call):
	def task():
		label = f"{identity.key} | {doctype} {name}{f' (in {parent})' if parent else ''} | {endpoint}"
		response = call(clone(session), server)
		if error := server_error(response):
			return [f"{label} | {error}"]
		got = answered_record(endpoint, response, name)
		if got and not may_read:
			return [f"{label} | LEAK: another's record answered (status {response.status_code})"]
		if may_read and not got and not parent:
			return [f"{label} | MISSING: a record it may read refused (status {response.status_code})"]
		return []

	task.label = f"{identity.key} | {doctype} {name} | {endpoint}"
	return task


@pytest.mark.parametrize("key", CHECKED)
def test_a_record_opens_prints_and_exports_only_for_whom_the_rule_allows(server, world, sessions, key):
	report(
		in_parallel(record_tasks(world[key], world, sessions[key], server)),
		f"records as {key}",
	)


# --- fields: bank details, restricted settings ------------------------------------------------------------------
def _values(response) -> list[dict]:
	data = body(response)
	message = data.get("message", data.get("data"))
	if data.get("docs"):
		return data["docs"]
	if isinstance(message, dict):
		if "keys" in message:
			return [dict(zip(message["keys"], row, strict=False)) for row in message["values"]]
		return [message]
	return [row for row in message or [] if isinstance(row, dict)]


@pytest.mark.parametrize("key", CHECKED)
def test_bank_details_show_only_on_ones_own_record_and_restricted_settings_never(
	server, world, sessions, key
):
	identity, session = world[key], sessions[key]
	failures = []
	professionals = world.records["SNP Professional"]
	for doctype, owner_field in (
		("SNP Professional", "user"),
		("SNP Indemnity Payment", "professional"),
	):
		mine = identity.user if owner_field == "user" else identity.professional
		calls = [
			(
				"frappe.client.get_list",
				method(
					session,
					server,
					"frappe.client.get_list",
					doctype=doctype,
					fields=["name", owner_field, *BANK_FIELDS],
					limit_page_length=0,
				),
			),
			(
				"frappe.desk.reportview.get",
				method(
					session,
					server,
					"frappe.desk.reportview.get",
					doctype=doctype,
					fields=[f"`tab{doctype}`.`{f}`" for f in ("name", owner_field, *BANK_FIELDS)],
					page_length=BIG,
				),
			),
			(
				"GET /api/resource",
				session.get(
					f"{server}/api/resource/{doctype}",
					params={
						"limit_page_length": 0,
						"fields": json.dumps(["name", owner_field, *BANK_FIELDS]),
					},
				),
			),
		]
		for name in professionals if doctype == "SNP Professional" else world.records[doctype]:
			calls += [
				(
					f"GET /api/resource/<{name}>",
					session.get(f"{server}/api/resource/{doctype}/{name}"),
				),
				(
					f"frappe.client.get <{name}>",
					method(session, server, "frappe.client.get", doctype=doctype, name=name),
				),
				(
					f"getdoc <{name}>",
					method(
						session,
						server,
						"frappe.desk.form.load.getdoc",
						http="get",
						doctype=doctype,
						name=name,
					),
				),
			]
			for field in BANK_FIELDS:
				response = method(
					session,
					server,
					"frappe.client.get_value",
					doctype=doctype,
					fieldname=field,
					filters={"name": name},
				)
				value = (body(response).get("message") or {}).get(field) if response.ok else None
				owner = frappe.db.get_value(doctype, name, owner_field)
				if value and owner != mine:
					failures.append(
						f"{key} | {doctype} {name} | frappe.client.get_value({field}) | LEAK: {value}"
					)
		for endpoint, response in calls:
			if error := server_error(response):
				failures.append(f"{key} | {doctype} | {endpoint} | {error}")
			for row in _values(response) if response.ok else []:
				owner = row.get(owner_field) or frappe.db.get_value(doctype, row.get("name"), owner_field)
				leaked = {f: row.get(f) for f in BANK_FIELDS if row.get(f)}
				if leaked and owner != mine:
					failures.append(f"{key} | {doctype} {row.get('name')} | {endpoint} | LEAK of {leaked}")

	restricted = set(RESTRICTED_SETTINGS) | {
		df.fieldname for df in frappe.get_meta("SNP Settings").fields if df.permlevel and df.fieldname
	}
	settings_calls = [
		(
			"GET /api/resource",
			session.get(f"{server}/api/resource/SNP Settings/SNP Settings"),
		),
		(
			"frappe.client.get",
			method(
				session,
				server,
				"frappe.client.get",
				doctype="SNP Settings",
				name="SNP Settings",
			),
		),
		(
			"getdoc",
			method(
				session,
				server,
				"frappe.desk.form.load.getdoc",
				http="get",
				doctype="SNP Settings",
				name="SNP Settings",
			),
		),
	]
	for field in sorted(restricted):
		settings_calls.append(
			(
				f"frappe.client.get_value({field})",
				method(
					session,
					server,
					"frappe.client.get_value",
					doctype="SNP Settings",
					fieldname=field,
					filters={"name": "SNP Settings"},
				),
			)
		)
		settings_calls.append(
			(
				f"frappe.client.get_single_value({field})",
				method(
					session,
					server,
					"frappe.client.get_single_value",
					doctype="SNP Settings",
					field=field,
				),
			)
		)
	for endpoint, response in settings_calls:
		if error := server_error(response):
			failures.append(f"{key} | SNP Settings | {endpoint} | {error}")
		if not response.ok:
			continue
		message = body(response).get("message")
		if "get_single_value" in endpoint:
			if message is not None:  # even a 0 tells the value
				failures.append(f"{key} | SNP Settings | {endpoint} | LEAK: {message!r}")
			continue
		for row in _values(response):
			# Frappe sends a hidden number or tick as 0 whatever its value: that tells nothing
			leaked = {f: row[f] for f in restricted if f in row and row[f] not in (None, 0, "")}
			if leaked:
				failures.append(f"{key} | SNP Settings | {endpoint} | LEAK of {leaked}")
	report(failures, f"fields as {key}")


# --- comments, versions and files of app records ----------------------------------------------------------------
TRAILS = (
	("Comment", "reference_doctype", "reference_name"),
	("Version", "ref_doctype", "docname"),
	("File", "attached_to_doctype", "attached_to_name"),
)


@pytest.mark.parametrize("key", CHECKED)
def test_comments_versions_and_files_of_app_records_are_listed_only_with_their_record(
	server, world, sessions, key
):
	identity, session = world[key], sessions[key]
	failures = []
	allowed = {doctype: readable(identity, doctype) for doctype in APP_DOCTYPE_NAMES}
	for trail, doctype_field, name_field in TRAILS:
		filters = [[doctype_field, "in", APP_DOCTYPE_NAMES]]
		fields = ["name", doctype_field, name_field]
		calls = [
			(
				"GET /api/resource",
				session.get(
					f"{server}/api/resource/{trail}",
					params={
						"filters": json.dumps(filters),
						"fields": json.dumps(fields),
						"limit_page_length": 0,
					},
				),
			),
			(
				"frappe.client.get_list",
				method(
					session,
					server,
					"frappe.client.get_list",
					doctype=trail,
					filters=filters,
					fields=fields,
					limit_page_length=0,
				),
			),
			(
				"frappe.desk.reportview.get",
				method(
					session,
					server,
					"frappe.desk.reportview.get",
					doctype=trail,
					filters=filters,
					fields=[f"`tab{trail}`.`{f}`" for f in fields],
					page_length=BIG,
				),
			),
		]
		for endpoint, response in calls:
			if error := server_error(response):
				failures.append(f"{key} | {trail} | {endpoint} | {error}")
			rows = _values(response) if response.ok else []
			leaked = [
				f"{row[doctype_field]} {row[name_field]}"
				for row in rows
				if row.get(name_field) not in allowed.get(row.get(doctype_field), set())
			]
			if leaked:
				failures.append(
					f"{key} | {trail} | {endpoint} | LEAK: {len(leaked)} row(s) of records it may not read: {short(leaked)}"
				)
		frappe.db.rollback()
		response = method(session, server, "frappe.client.get_count", doctype=trail, filters=filters)
		visible = len(
			[
				r
				for r in frappe.get_all(
					trail,
					{doctype_field: ["in", APP_DOCTYPE_NAMES]},
					[doctype_field, name_field],
					limit_page_length=0,
				)
				if r[name_field] in allowed.get(r[doctype_field], set())
			]
		)
		count = body(response).get("message") if response.ok else 0
		if isinstance(count, int) and count > visible:
			failures.append(
				f"{key} | {trail} | frappe.client.get_count | COUNT {count}, at most {visible} readable"
			)
	report(failures, f"comments, versions and files as {key}")


# --- writes: nothing through a generic endpoint -----------------------------------------------------------------
OWNER_LINKS = (
	"SNP Professional",
	"SNP Partner",
	"User",
	"SNP Intern",
	"SNP Slot",
	"SNP Payment Run",
	"SNP Booking",
)
TEXT_TYPES = ("Data", "Small Text", "Text", "Long Text")


def row_snapshot(doctype: str, name: str):
	if frappe.get_meta(doctype).issingle:
		return frappe.db.get_singles_dict(doctype)
	rows = frappe.db.sql(f"SELECT * FROM `tab{doctype}` WHERE name = %s", name, as_dict=True)
	return {k: v for k, v in rows[0].items() if k not in NOISE_COLUMNS} if rows else None


def added_rows(doctype: str, user: str) -> dict:
	"""Rows `user` owns of `doctype`, and the comments, files and versions he made on its records."""
	return {
		doctype: 0 if frappe.get_meta(doctype).issingle else frappe.db.count(doctype, {"owner": user}),
		"Comment": frappe.db.count("Comment", {"owner": user, "reference_doctype": doctype}),
		"File": frappe.db.count("File", {"owner": user, "attached_to_doctype": doctype}),
		"Version": frappe.db.count("Version", {"owner": user, "ref_doctype": doctype}),
	}


def attacker_values(identity, world, meta) -> dict:
	"""The owner fields of `meta` pointed at the attacker (or at doctor A for those with no record of their
	own), and a marked text: the change an attacker would like to make."""
	changes = {}
	fallback = world["doctor_a"]
	for df in meta.fields:
		if df.fieldtype == "Link" and df.options in OWNER_LINKS and not df.read_only:
			value = {
				"SNP Professional": identity.professional or fallback.professional,
				"SNP Partner": identity.partner or world["partner_1"].partner,
				"User": identity.user or fallback.user,
				"SNP Intern": identity.intern or world["intern_a"].intern,
			}.get(df.options)
			if value:
				changes[df.fieldname] = value
	for df in meta.fields:
		if (
			df.fieldtype in TEXT_TYPES
			and not df.read_only
			and not df.unique
			and df.fieldname not in BANK_FIELDS
		):
			changes[df.fieldname] = f"{MARKER} {identity.key}"
			break
	return changes


def new_record(doctype: str, source: str, changes: dict) -> dict:
	"""A copy of `source` (as Administrator reads it) with `changes`, unnamed: what a create would send."""
	doc = frappe.get_doc(doctype, source).as_dict(no_default_fields=True, convert_dates_to_str=True)
	for value in doc.values():
		if isinstance(value, list):
			for row in value:
				for field in (
					"name",
					"parent",
					"owner",
					"creation",
					"modified",
					"modified_by",
					"docstatus",
				):
					row.pop(field, None)
	doc.update(changes)
	meta = frappe.get_meta(doctype)
	if meta.autoname and meta.autoname.startswith("field:"):
		doc[meta.autoname[len("field:") :]] = f"{MARKER} {frappe.generate_hash(length=6)}"
	doc.pop("amended_from", None)
	doc["docstatus"] = 0
	return {"doctype": doctype, **doc}


def whole_doc(doctype: str, name: str, changes: dict) -> dict:
	doc = frappe.get_doc(doctype, name).as_dict(convert_dates_to_str=True)
	doc.update(changes)
	return json.loads(frappe.as_json(doc))


def write_calls(meta, name: str, parent: str | None, changes: dict, world):
	"""(endpoint, call(session, server)) of every generic way to write `name` of `meta`."""
	doctype = meta.name
	payload = lambda: new_record(doctype, name, changes) if not meta.istable else None  # noqa: E731
	calls = [
		(
			"PUT /api/resource",
			lambda s, b: s.put(f"{b}/api/resource/{doctype}/{name}", json=changes, timeout=60),
		),
		(
			"frappe.client.set_value",
			lambda s, b: method(
				s,
				b,
				"frappe.client.set_value",
				doctype=doctype,
				name=name,
				fieldname=changes,
			),
		),
		(
			"frappe.client.save",
			lambda s, b: method(s, b, "frappe.client.save", doc=whole_doc(doctype, name, changes)),
		),
		(
			"frappe.desk.form.save.savedocs",
			lambda s, b: method(
				s,
				b,
				"frappe.desk.form.save.savedocs",
				doc=whole_doc(doctype, name, changes),
				action="Save",
			),
		),
	]
	if not meta.istable:
		calls += [
			(
				"frappe.desk.form.utils.add_comment",
				lambda s, b: method(
					s,
					b,
					"frappe.desk.form.utils.add_comment",
					reference_doctype=doctype,
					reference_name=name,
					content=MARKER,
					comment_email="pirate@example.com",
					comment_by="Pirate",
				),
			),
			(
				"frappe.handler.upload_file",
				lambda s, b: s.post(
					f"{b}/api/method/frappe.handler.upload_file",
					files={"file": ("pirate.txt", b"pirate")},
					data={"doctype": doctype, "docname": name, "is_private": 1},
					timeout=60,
				),
			),
		]
	if meta.issingle:
		return calls
	calls += [
		(
			"bulk_update",
			lambda s, b: method(
				s,
				b,
				"frappe.desk.doctype.bulk_update.bulk_update.submit_cancel_or_update_docs",
				doctype=doctype,
				docnames=[name],
				action="update",
				data=changes,
			),
		),
	]
	if meta.is_submittable:
		calls += [
			(
				"frappe.client.cancel",
				lambda s, b: method(s, b, "frappe.client.cancel", doctype=doctype, name=name),
			),
			(
				"frappe.client.submit",
				lambda s, b: method(s, b, "frappe.client.submit", doc=whole_doc(doctype, name, {})),
			),
			(
				"bulk_update cancel",
				lambda s, b: method(
					s,
					b,
					"frappe.desk.doctype.bulk_update.bulk_update.submit_cancel_or_update_docs",
					doctype=doctype,
					docnames=[name],
					action="cancel",
				),
			),
			(
				"savedocs Submit",
				lambda s, b: method(
					s,
					b,
					"frappe.desk.form.save.savedocs",
					doc=whole_doc(doctype, name, {}),
					action="Submit",
				),
			),
		]
	if meta.istable:
		row = frappe.db.get_value(doctype, name, ["parent", "parenttype", "parentfield"], as_dict=True)
		calls.append(
			(
				"frappe.client.insert (row)",
				lambda s, b: method(
					s,
					b,
					"frappe.client.insert",
					doc={
						"doctype": doctype,
						**{k: v for k, v in changes.items()},
						"parent": row.parent,
						"parenttype": row.parenttype,
						"parentfield": row.parentfield,
					},
				),
			)
		)
	else:
		calls += [
			(
				"POST /api/resource",
				lambda s, b: s.post(f"{b}/api/resource/{doctype}", json=payload(), timeout=60),
			),
			(
				"frappe.client.insert",
				lambda s, b: method(s, b, "frappe.client.insert", doc=payload()),
			),
			(
				"frappe.client.rename_doc",
				lambda s, b: method(
					s,
					b,
					"frappe.client.rename_doc",
					doctype=doctype,
					old_name=name,
					new_name=f"{name}-pirate",
				),
			),
		]
	# the deletions last: they end the record's life
	calls += [
		(
			"frappe.desk.reportview.delete_items",
			lambda s, b: method(
				s,
				b,
				"frappe.desk.reportview.delete_items",
				doctype=doctype,
				items=[name],
			),
		),
		(
			"frappe.client.delete",
			lambda s, b: method(s, b, "frappe.client.delete", doctype=doctype, name=name),
		),
		(
			"DELETE /api/resource",
			lambda s, b: s.delete(f"{b}/api/resource/{doctype}/{name}", timeout=60),
		),
	]
	return calls


def write_targets(identity, world, meta) -> list[tuple[str, str | None]]:
	"""Someone else's record and, for a doctor, one of his own (generic endpoints may change neither)."""
	picks = targets(identity, world, meta.name, per_side=1)
	if identity.kind not in PRO_KINDS:
		picks = [p for p in picks if not p[2]] or picks[:1]
	return [(name, parent) for name, parent, _may in sorted(picks, key=lambda pick: pick[2])]  # others' first


def _write_task(identity, session, server, world, meta, picks, change_sets):
	"""Every write endpoint on the records of one doctype, one after the other (each call checked against the
	database: rows added to the doctype or on its records are counted by owner, so not in parallel)."""

	def task():
		own_session = clone(session)
		user = identity.user or "Guest"
		failures = []
		for (name, parent), changes in ((pick, changes) for pick in picks for changes in change_sets):
			for endpoint, call in write_calls(meta, name, parent, changes, world):
				if (
					identity.kind == "telesecretary"
					and meta.name == "SNP Booking"
					and endpoint in TELESECRETARY_BOOKING_WORK
				):
					continue
				label = (
					f"{identity.key} | {meta.name} {name}{f' (in {parent})' if parent else ''} | {endpoint}"
				)
				frappe.db.rollback()
				before, added = (
					row_snapshot(meta.name, name),
					added_rows(meta.name, user),
				)
				if before is None:
					failures.append(f"{label} | record gone before this call (an earlier call deleted it)")
					break
				response = call(own_session, server)
				frappe.db.rollback()
				after, now_added = (
					row_snapshot(meta.name, name),
					added_rows(meta.name, user),
				)
				if error := server_error(response):
					failures.append(f"{label} | {error}")
				if after != before:
					changed = (
						"DELETED/RENAMED"
						if after is None
						else {k: (before.get(k), v) for k, v in after.items() if before.get(k) != v}
					)
					failures.append(
						f"{label} | WRITTEN (status {response.status_code}): {str(changed)[:300]}"
					)
					if meta.issingle and after is not None:  # put the shared settings back at once
						frappe.db.set_single_value(
							meta.name,
							{k: before.get(k) for k in changed if k != "modified"},
						)
						frappe.db.commit()
				if now_added != added:
					new = {k: v - added[k] for k, v in now_added.items() if v != added[k]}
					failures.append(f"{label} | ROW ADDED (status {response.status_code}): {new}")
		return failures

	task.label = f"{identity.key} | {meta.name}"
	return task


def write_tasks(identity, world, session, server, tables: bool):
	tasks = []
	for meta_row in DOCTYPES:
		if bool(meta_row.istable) != tables:
			continue
		meta = frappe.get_meta(meta_row.name)
		base = attacker_values(identity, world, meta)
		if identity.kind == "telesecretary" and not telesecretary_checked(meta.name):
			continue  # staff work on what she reads (calls, slots…): the model forbids her no more than below
		change_sets = [base]
		if identity.kind == "telesecretary" and meta.name == "SNP Booking":
			change_sets = [{field: value} for field, value in telesecretary_booking_changes(world).items()]
		tasks.append(
			_write_task(
				identity, session, server, world, meta, write_targets(identity, world, meta), change_sets
			)
		)
	return tasks


def telesecretary_checked(doctype: str) -> bool:
	"""The télésecrétaire's forbidden writes: a booking's owner fields, any professional, and whatever she may
	not even read (payments, runs, schemes, paid items, access logs…)."""
	if doctype in ("SNP Booking", "SNP Professional", "SNP Professional Sector"):
		return True
	if doctype in PARENTS:
		return not all(parent in TELESECRETARY_READS for parent, _f in PARENTS[doctype])
	return doctype not in TELESECRETARY_READS


# What she does on a booking through the desk: create it, comment on it, attach to it.
TELESECRETARY_BOOKING_WORK = (
	"POST /api/resource",
	"frappe.client.insert",
	"frappe.desk.form.utils.add_comment",
	"frappe.handler.upload_file",
)


def telesecretary_booking_changes(world) -> dict:
	"""What a télésecrétaire may never change on a booking: its slot, doctor, partner and channel."""
	other_slot = frappe.db.get_value(
		"SNP Slot",
		{"professional": world["doctor_b"].professional, "status": "Available"},
		"name",
	)
	return {
		"slot": other_slot,
		"professional": world["doctor_b"].professional,
		"partner": world["partner_1"].partner,
		"channel": "SAS",
	}


@pytest.mark.parametrize("key", WRITERS)
def test_no_generic_endpoint_writes_an_app_record_and_a_refused_call_writes_nothing(
	server, world, sessions, key
):
	# the records first, then their child rows (a parent's save rewrites its rows: not at the same time)
	failures = in_parallel(write_tasks(world[key], world, sessions[key], server, tables=False))
	failures += in_parallel(write_tasks(world[key], world, sessions[key], server, tables=True))
	report(failures, f"writes as {key}")


def test_the_telesecretary_still_updates_a_booking_and_records_a_call(server, world, sessions):
	"""The only generic writes the model allows a non-doctor: the télésecrétaire's bookings and calls."""
	session = sessions["telesecretary"]
	booking = world.records["SNP Booking"][0]
	response = session.put(
		f"{server}/api/resource/SNP Booking/{booking}",
		json={"reason": "Fièvre depuis 2 jours"},
	)
	assert response.ok, response.text[:500]
	call = world.records["SNP Call"][0]
	response = session.put(f"{server}/api/resource/SNP Call/{call}", json={"notes": "Rappel à 14 h"})
	assert response.ok, response.text[:500]
	frappe.db.rollback()
	assert frappe.db.get_value("SNP Booking", booking, "reason") == "Fièvre depuis 2 jours"
