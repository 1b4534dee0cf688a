"""Indemnity payment runs, computed set-based: a fixed number of SQL statements per run, whatever the number of
doctors or items (tests/bench/bench_payment_run.py measures it).

How an item is never paid twice: every payable item (a slot made available, a consultation honoured, a no-show…)
has a key, and a run *claims* its items by inserting their keys as the primary key of `SNP Paid Item`
(INSERT IGNORE … SELECT). A key claimed by another run is skipped by the database itself. Runs are computed one
at a time (a row lock held until commit), so two runs computed at the same moment over overlapping periods
take disjoint sets of items. Cancelling a run deletes its claims: its items become payable again.

State machine, whatever the path (the « Calculer » endpoint, the background job, REST, frappe.client, workflow):
a run is computed only from Draft, Computed or Failed (docstatus 0), checked again under the run's row lock by the
computation itself, so a job never recomputes a run approved meanwhile. A slot or supervision shift counts only if
it was declared before it started, or late-declared by the coordination with a reason (services.late_declaration).
Payments take the doctors' confirmed IBAN only (services.bank_details); the run lists the doctors whose IBAN
changed since the previous approved run or awaits confirmation.
"""

from datetime import timedelta

import frappe
from frappe import _
from frappe.realtime import get_doc_room, get_doctype_room
from frappe.utils import add_days, cint, flt, get_datetime, getdate, now_datetime, today

from cpts_snp.exceptions import PaymentRunError
from cpts_snp.services import meetings
from cpts_snp.services.late_declaration import declared_in_time_sql

PAID_ITEM = "`tabSNP Paid Item`"
PAYMENT = "`tabSNP Indemnity Payment`"
LINE = "`tabSNP Indemnity Payment Line`"
SCHEME = "`tabSNP Indemnity Scheme`"
COMPUTABLE = ("Draft", "Computed", "Failed")

# Payable items: (item type, rate field of the scheme, key prefix, doctype, SELECT of name/professional/date
# AS item_date over the period [%(start)s, %(end_next)s)). Later modules (permanences, supervision) add their sources here.
ITEM_SOURCES = [
	(
		"Slot made available",
		"rate_per_slot",
		"slot",
		"SNP Slot",
		f"""SELECT name, professional, DATE(starts_at) AS item_date FROM `tabSNP Slot` sl
		WHERE status != 'Cancelled' AND starts_at >= %(start)s AND starts_at < %(end_next)s
			AND {declared_in_time_sql("sl")}""",
	),
	(
		"Consultation honoured",
		"rate_per_consultation",
		"consultation",
		"SNP Booking",
		"""SELECT name, professional, DATE(slot_start) AS item_date FROM `tabSNP Booking`
		WHERE status = 'Honoured' AND slot_start >= %(start)s AND slot_start < %(end_next)s""",
	),
	(
		"No-show",
		"rate_per_no_show",
		"no-show",
		"SNP Booking",
		"""SELECT name, professional, DATE(slot_start) AS item_date FROM `tabSNP Booking`
		WHERE status = 'No-show' AND slot_start >= %(start)s AND slot_start < %(end_next)s""",
	),
	# One item per supervisor and half-day (morning before 13:00, afternoon from 13:00) with part of a shift in it;
	# the key names the supervisor, the day and the half-day, so a half-day is paid once however many shifts.
	(
		"Supervision half-day",
		"rate_per_supervision_half_day",
		"supervision",
		"SNP Supervision Shift",
		f"""SELECT CONCAT(sh.supervisor, '/', DATE(sh.starts_at), '/', h.half) AS name, sh.supervisor AS professional,
			DATE(sh.starts_at) AS item_date
		FROM `tabSNP Supervision Shift` sh
		JOIN (SELECT 'AM' AS half, 0 AS from_minute, 780 AS to_minute
			UNION ALL SELECT 'PM', 780, 1440) h
			ON HOUR(sh.starts_at) * 60 + MINUTE(sh.starts_at) < h.to_minute
			AND TIMESTAMPDIFF(MINUTE, DATE(sh.starts_at), sh.ends_at) > h.from_minute
		WHERE sh.starts_at >= %(start)s AND sh.starts_at < %(end_next)s AND {declared_in_time_sql("sh")}
		GROUP BY sh.supervisor, DATE(sh.starts_at), h.half""",
	),
	(
		"Permanence hour",
		"rate_per_permanence_hour",
		"permanence",
		"SNP Permanence",
		"""SELECT name, professional, DATE(starts_at) AS item_date FROM `tabSNP Permanence`
		WHERE status = 'Scheduled' AND IFNULL(professional, '') != ''
			AND starts_at >= %(start)s AND starts_at < %(end_next)s""",
	),
	# One item per professional present at a meeting whose attendance the coordination confirmed; the key names
	# the meeting and the professional, so an attendance is paid once (services.meetings).
	(
		meetings.ITEM_TYPE,
		"meeting_rate_per_hour",
		meetings.KEY_PREFIX,
		meetings.MEETING,
		meetings.PAYABLE_SQL,
	),
]

# Quantity of an item when it is not 1 (an expression over the claimed item `c`); amount = quantity × rate.
ITEM_QUANTITIES = {
	"Permanence hour": "(SELECT pm.hours FROM `tabSNP Permanence` pm WHERE pm.name = c.item_name)",
	meetings.ITEM_TYPE: meetings.QUANTITY_SQL,
}

# The scheme valid on a date: the one with the latest start on or before it.
SCHEME_ON = "(SELECT MAX(s2.valid_from) FROM `tabSNP Indemnity Scheme` s2 WHERE s2.valid_from <= {date})"


def _rate_case(alias: str = "c") -> str:
	whens = " ".join(
		f"WHEN '{item_type}' THEN sch.{rate_field}" for item_type, rate_field, *_ in ITEM_SOURCES
	)
	return f"(CASE {alias}.item_type {whens} ELSE 0 END)"


def _quantity_case(alias: str = "c") -> str:
	whens = " ".join(f"WHEN '{item_type}' THEN {sql}" for item_type, sql in ITEM_QUANTITIES.items())
	return f"(CASE {alias}.item_type {whens} ELSE 1 END)" if whens else "1"


def _type_order(alias: str = "c") -> str:
	return "FIELD({}.item_type, {})".format(alias, ", ".join(f"'{t}'" for t, *_ in ITEM_SOURCES))


def validate_period(run) -> None:
	if getdate(run.period_end) < getdate(run.period_start):
		frappe.throw(_("The end of the period cannot be before its start"), PaymentRunError)
	if getdate(run.period_end) >= getdate(today()):
		frappe.throw(
			_("A run pays a period that is over: its last day must be earlier than today"), PaymentRunError
		)


def estimate_items(run) -> int:
	"""How many items the period holds (one query), to decide whether to compute in the background."""
	params = _params(run)
	union = " UNION ALL ".join(f"SELECT 1 FROM ({sql}) x" for *_, sql in ITEM_SOURCES)
	return cint(frappe.db.sql(f"SELECT COUNT(*) FROM ({union}) items", params)[0][0])


def _params(run) -> dict:
	return {
		"run": run.name,
		"start": getdate(run.period_start),
		"end": getdate(run.period_end),
		"end_next": getdate(run.period_end) + timedelta(days=1),
		"user": frappe.session.user,
		"now": now_datetime(),
	}


PROGRESS_TTL = 6 * 3600  # seconds a run's last progress is kept (the form reads it when it opens or polls)


def progress_key(run_name: str) -> str:
	return f"cpts_snp:payment_run_progress:{run_name}"


def _progress(run, percent: int, step: str, publish: bool, total: int = 0) -> None:
	"""Tell the run's form how far the background computation is: a real-time « progress » event to the run's
	room (Frappe's progress dialog) and the same state in the cache, for a form opened or polling meanwhile."""
	if not publish:
		return
	processed = total * percent // 100
	description = _("{0}: {1} of {2} items").format(step, processed, total) if total else step
	state = {"percent": percent, "processed": processed, "total": total, "description": description}
	frappe.cache.set_value(progress_key(run.name), state, expires_in_sec=PROGRESS_TTL)
	# The room is named: inside a job Frappe would otherwise send it to the job's own room, which no form joins.
	frappe.publish_realtime(
		"progress",
		{"title": _("Computing {0}").format(run.name), **state},
		room=get_doc_room(run.doctype, run.name),
	)


def progress_of(run_name: str) -> dict:
	"""The run's stored status and the last progress its background job published."""
	stored = frappe.db.get_value(
		"SNP Payment Run", run_name, ["status", "error_message", "modified"], as_dict=True
	)
	state = frappe.cache.get_value(progress_key(run_name)) or {}
	return {
		"status": stored.status,
		"error_message": stored.error_message,
		"modified": str(stored.modified),
		"percent": cint(state.get("percent")),
		"processed": cint(state.get("processed")),
		"total": cint(state.get("total")),
		"description": state.get("description"),
	}


def _notify_form(run_name: str) -> None:
	"""After the job's commit: the run's open forms reload (Frappe's « doc_update » to the run's room)."""
	modified = frappe.db.get_value("SNP Payment Run", run_name, "modified")
	frappe.publish_realtime(
		"doc_update",
		{"modified": str(modified), "doctype": "SNP Payment Run", "name": run_name},
		room=get_doc_room("SNP Payment Run", run_name),
	)
	frappe.publish_realtime(
		"list_update",
		{"doctype": "SNP Payment Run", "name": run_name, "user": frappe.session.user},
		room=get_doctype_room("SNP Payment Run"),
	)


def server_write(doc):
	"""Mark `doc` as written by the app's own code (cpts_snp.permissions.server_write when it exists)."""
	try:
		from cpts_snp.permissions import server_write as mark
	except ImportError:  # until the generic guard of server-owned fields exists
		doc.flags.cpts_server_write = True
		return doc
	return mark(doc)


def _refuse_state(run, status) -> None:
	frappe.throw(
		_("Run {0} is {1}: it cannot be computed again").format(run.name, _(status or "Draft")),
		PaymentRunError,
	)


def lock_computable(run, from_job: bool = False) -> None:
	"""Lock the run's row and check, on the stored run, that it may be computed: Draft, Computed or Failed and
	not submitted (the background job also takes the Computing run it was started for)."""
	stored = frappe.db.sql(
		"SELECT status, docstatus FROM `tabSNP Payment Run` WHERE name = %s FOR UPDATE",
		run.name,
		as_dict=True,
	)
	if not stored:
		frappe.throw(_("Run {0} does not exist").format(run.name), PaymentRunError)
	status, docstatus = stored[0].status, cint(stored[0].docstatus)
	allowed = COMPUTABLE + (("Computing",) if from_job else ())
	if docstatus != 0 or status not in allowed:
		_refuse_state(run, status)
	if cint(run.docstatus) != 0 or run.status not in allowed:
		_refuse_state(run, run.status)


def compute_run(run, publish_progress: bool = False, from_job: bool = False) -> None:
	"""Compute `run` (a SNP Payment Run document in Draft, Computed or Failed): claim its items, build one
	payment per doctor with its lines, apply the monthly caps, and store the totals. Runs in the caller's
	transaction; the caller commits."""
	if cint(run.docstatus) != 0 or run.status not in COMPUTABLE + (("Computing",) if from_job else ()):
		_refuse_state(run, run.status)
	validate_period(run)
	if not frappe.db.count("SNP Indemnity Scheme", {"valid_from": ["<=", run.period_end]}):
		frappe.throw(_("No indemnity scheme covers this period: create one first"), PaymentRunError)
	params = _params(run)
	items = estimate_items(run) if publish_progress else 0
	_progress(run, 0, _("Waiting for the other computations"), publish_progress, items)

	# One run computed at a time: this row lock is held until the transaction ends. The run's state is checked
	# again under its own lock: nothing approved it (or started another computation) since it was read.
	frappe.db.sql("SELECT name FROM `tabDocType` WHERE name = 'SNP Payment Run' FOR UPDATE")
	lock_computable(run, from_job)
	release_items(run.name)
	_progress(run, 10, _("Claiming the items of the period"), publish_progress, items)

	for item_type, _rate, prefix, doctype, sql in ITEM_SOURCES:
		frappe.db.sql(
			f"""INSERT IGNORE INTO {PAID_ITEM}
				(name, item_type, item_doctype, item_name, professional, item_date, run,
				owner, modified_by, creation, modified, docstatus)
			SELECT CONCAT('{prefix}:', src.name), '{item_type}', '{doctype}', src.name, src.professional, src.item_date,
				%(run)s, %(user)s, %(user)s, %(now)s, %(now)s, 0
			FROM ({sql}) AS src""",
			params,
		)

	# Items without a rate (before the first scheme, or a rate of 0) are not payments: release them.
	frappe.db.sql(
		f"""DELETE c FROM {PAID_ITEM} c
		LEFT JOIN {SCHEME} sch ON sch.valid_from = {SCHEME_ON.format(date="c.item_date")}
		WHERE c.run = %(run)s AND (sch.name IS NULL OR IFNULL({_rate_case()}, 0) = 0)""",
		params,
	)
	_progress(run, 35, _("Checking bank details"), publish_progress, items)

	# Doctors of the run whose IBAN changed since the previous approved run, or whose new one awaits confirmation.
	params["previous_run"] = frappe.db.sql(
		"SELECT MAX(computed_at) FROM `tabSNP Payment Run` WHERE docstatus = 1 AND name != %(run)s", params
	)[0][0] or get_datetime("1900-01-01")
	iban_changes = frappe.db.sql(
		f"""SELECT p.name AS professional, p.full_name AS professional_name,
			IF(IFNULL(p.pending_iban, '') != '', 'Awaiting confirmation', 'Confirmed since the previous run') AS `change`,
			IF(IFNULL(p.pending_iban, '') != '', p.iban_changed_on, p.iban_confirmed_on) AS changed_on
		FROM `tabSNP Professional` p
		WHERE p.name IN (SELECT DISTINCT professional FROM {PAID_ITEM} WHERE run = %(run)s)
			AND (IFNULL(p.pending_iban, '') != '' OR p.iban_confirmed_on > %(previous_run)s)
		ORDER BY p.full_name""",
		params,
		as_dict=True,
	)

	exclusions = frappe.db.sql(
		f"""SELECT p.name AS professional, p.full_name AS professional_name, COUNT(*) AS items
		FROM {PAID_ITEM} c JOIN `tabSNP Professional` p ON p.name = c.professional
		WHERE c.run = %(run)s AND IFNULL(p.iban, '') = ''
		GROUP BY p.name, p.full_name ORDER BY p.full_name""",
		params,
		as_dict=True,
	)
	frappe.db.sql(
		f"""DELETE c FROM {PAID_ITEM} c JOIN `tabSNP Professional` p ON p.name = c.professional
		WHERE c.run = %(run)s AND IFNULL(p.iban, '') = ''""",
		params,
	)
	_progress(run, 50, _("Building one payment per doctor"), publish_progress, items)

	frappe.db.sql(
		f"""INSERT INTO {PAYMENT}
			(name, run, professional, professional_name, period_start, period_end, iban, bic, status, amount,
			docstatus, owner, modified_by, creation, modified)
		SELECT CONCAT(%(run)s, '-', p.name), %(run)s, p.name, p.full_name, %(start)s, %(end)s, p.iban, p.bic,
			'Computed', 0, 0, %(user)s, %(user)s, %(now)s, %(now)s
		FROM `tabSNP Professional` p
		WHERE p.name IN (SELECT DISTINCT professional FROM {PAID_ITEM} WHERE run = %(run)s)""",
		params,
	)
	frappe.db.sql(
		f"""INSERT INTO {LINE}
			(name, parent, parenttype, parentfield, idx, item_type, item_date, item_doctype, item_name, quantity,
			rate, amount, scheme, docstatus, owner, modified_by, creation, modified)
		SELECT CONCAT(%(run)s, ':', c.name), CONCAT(%(run)s, '-', c.professional), 'SNP Indemnity Payment', 'lines',
			ROW_NUMBER() OVER (PARTITION BY c.professional ORDER BY c.item_date, {_type_order()}, c.name),
			c.item_type, c.item_date, c.item_doctype, c.item_name, {_quantity_case()}, {_rate_case()},
			ROUND({_quantity_case()} * {_rate_case()}, 2), sch.name,
			0, %(user)s, %(user)s, %(now)s, %(now)s
		FROM {PAID_ITEM} c
		JOIN {SCHEME} sch ON sch.valid_from = {SCHEME_ON.format(date="c.item_date")}
		WHERE c.run = %(run)s""",
		params,
	)
	_progress(run, 70, _("Applying the monthly caps"), publish_progress, items)
	apply_monthly_caps(params)

	frappe.db.sql(
		f"""UPDATE {PAYMENT} p JOIN (
			SELECT parent, SUM(amount) AS total FROM {LINE}
			WHERE parent IN (SELECT name FROM {PAYMENT} WHERE run = %(run)s) GROUP BY parent
		) t ON t.parent = p.name
		SET p.amount = t.total
		WHERE p.run = %(run)s""",
		params,
	)
	total, payments = frappe.db.sql(
		f"SELECT IFNULL(SUM(amount), 0), COUNT(*) FROM {PAYMENT} WHERE run = %(run)s", params
	)[0]
	_progress(run, 90, _("Saving the totals"), publish_progress, items)

	run.total_amount = flt(total, 2)
	run.payment_count = cint(payments)
	run.item_count = cint(frappe.db.count("SNP Paid Item", {"run": run.name}))
	run.computed_by = frappe.session.user
	run.computed_at = params["now"]
	run.error_message = None
	run.status = "Computed"
	run.set("exclusions", [])
	for row in exclusions:
		row.reason = _("No IBAN: add the doctor's bank details, then compute again")
		run.append("exclusions", row)
	run.set("iban_changes", iban_changes)
	# The computation is the run's own operation (checked above under the run's lock), not a workflow transition.
	server_write(run)
	run.db_update()
	_store_rows(
		run, "exclusions", "SNP Run Exclusion", ("professional", "professional_name", "items", "reason")
	)
	_store_rows(
		run,
		"iban_changes",
		"SNP Run IBAN Change",
		("professional", "professional_name", "change", "changed_on"),
	)
	_progress(run, 100, _("Done"), publish_progress, items)


def _store_rows(run, fieldname: str, doctype: str, fields: tuple[str, ...]) -> None:
	"""Replace the rows of the run's child table `fieldname` (one DELETE, one INSERT)."""
	frappe.db.delete(doctype, {"parent": run.name, "parenttype": "SNP Payment Run"})
	rows = run.get(fieldname)
	for index, row in enumerate(rows, 1):
		row.idx = index
	if rows:
		frappe.db.bulk_insert(
			doctype,
			["name", "parent", "parenttype", "parentfield", "idx", *fields],
			[
				(
					frappe.generate_hash(length=10),
					run.name,
					"SNP Payment Run",
					fieldname,
					row.idx,
					*(row.get(field) for field in fields),
				)
				for row in rows
			],
		)


def apply_monthly_caps(params: dict) -> None:
	"""A negative « Monthly cap » line for each doctor and month where the month's indemnities (this run plus
	the other runs not cancelled) exceed the cap of the scheme valid on the first day of that month."""
	frappe.db.sql(
		f"""INSERT INTO {LINE}
			(name, parent, parenttype, parentfield, idx, item_type, item_date, quantity, rate, amount, scheme,
			docstatus, owner, modified_by, creation, modified)
		SELECT CONCAT(%(run)s, ':cap:', m.professional, ':', m.month_start), m.payment, 'SNP Indemnity Payment',
			'lines', 100000 + m.month_index, 'Monthly cap', LAST_DAY(m.month_start), 1,
			-LEAST(m.here, m.here + m.elsewhere - sch.monthly_cap), -LEAST(m.here, m.here + m.elsewhere - sch.monthly_cap),
			sch.name, 0, %(user)s, %(user)s, %(now)s, %(now)s
		FROM (
			SELECT p.name AS payment, p.professional, DATE_FORMAT(l.item_date, '%%Y-%%m-01') AS month_start,
				DENSE_RANK() OVER (PARTITION BY p.name ORDER BY DATE_FORMAT(l.item_date, '%%Y-%%m-01')) AS month_index,
				SUM(l.amount) AS here,
				IFNULL((
					SELECT SUM(l2.amount) FROM {LINE} l2
					JOIN {PAYMENT} p2 ON p2.name = l2.parent
					JOIN `tabSNP Payment Run` r2 ON r2.name = p2.run
					WHERE p2.professional = p.professional AND p2.run != %(run)s AND r2.docstatus < 2
						AND r2.status NOT IN ('Draft', 'Failed', 'Cancelled')
						AND DATE_FORMAT(l2.item_date, '%%Y-%%m-01') = DATE_FORMAT(l.item_date, '%%Y-%%m-01')
				), 0) AS elsewhere
			FROM {LINE} l JOIN {PAYMENT} p ON p.name = l.parent
			WHERE p.run = %(run)s
			GROUP BY p.name, p.professional, DATE_FORMAT(l.item_date, '%%Y-%%m-01')
		) m
		JOIN {SCHEME} sch ON sch.valid_from = {SCHEME_ON.format(date="m.month_start")}
		WHERE sch.monthly_cap > 0 AND m.here + m.elsewhere > sch.monthly_cap""",
		params,
	)


def release_items(run_name: str) -> None:
	"""Forget what a run computed: its lines, payments and claims (its items become payable again)."""
	params = {"run": run_name}
	frappe.db.sql(
		f"DELETE FROM {LINE} WHERE parent IN (SELECT name FROM {PAYMENT} WHERE run = %(run)s)", params
	)
	frappe.db.sql(f"DELETE FROM {PAYMENT} WHERE run = %(run)s", params)
	frappe.db.sql(f"DELETE FROM {PAID_ITEM} WHERE run = %(run)s", params)


def set_payments_status(run_name: str, status: str, docstatus: int, paid_on=None) -> None:
	frappe.db.sql(
		f"UPDATE {PAYMENT} SET status = %(status)s, docstatus = %(docstatus)s, paid_on = %(paid_on)s WHERE run = %(run)s",
		{"status": status, "docstatus": docstatus, "paid_on": paid_on, "run": run_name},
	)
	frappe.db.sql(
		f"UPDATE {LINE} SET docstatus = %(docstatus)s WHERE parent IN (SELECT name FROM {PAYMENT} WHERE run = %(run)s)",
		{"docstatus": docstatus, "run": run_name},
	)


def compute_in_background(run_name: str, user: str) -> None:
	"""Background job: compute, or mark the run Failed with the error; computing again is always safe. Either
	way the run's open forms are told (its progress, then a document update once committed)."""
	frappe.set_user(user)
	run = frappe.get_doc("SNP Payment Run", run_name)
	try:
		compute_run(run, publish_progress=True, from_job=True)
		frappe.db.commit()
	except Exception as error:
		frappe.db.rollback()
		message = str(error) or error.__class__.__name__
		# Only a run still computable becomes Failed (never an approved, paid or cancelled run).
		frappe.db.sql(
			"""UPDATE `tabSNP Payment Run` SET status = 'Failed', error_message = %s, modified = %s
			WHERE name = %s AND docstatus = 0 AND status IN ('Draft', 'Computing', 'Computed', 'Failed')""",
			(message, now_datetime(), run_name),
		)
		frappe.db.commit()
		frappe.cache.delete_value(progress_key(run_name))
		frappe.log_error(title=f"Payment run {run_name} failed")
	_notify_form(run_name)


def start_computation(run) -> str:
	"""Compute now, or in the background for large runs (only a Draft, Computed or Failed run, checked on the
	stored run under its lock). Returns the resulting status."""
	lock_computable(run)
	validate_period(run)
	threshold = cint(frappe.db.get_single_value("SNP Settings", "background_threshold")) or 5000
	if estimate_items(run) <= threshold:
		compute_run(run)
		return run.status
	frappe.db.sql(
		"""UPDATE `tabSNP Payment Run` SET status = 'Computing', error_message = NULL, modified = %s
		WHERE name = %s AND docstatus = 0 AND status IN ('Draft', 'Computed', 'Failed')""",
		(now_datetime(), run.name),
	)
	frappe.cache.set_value(
		progress_key(run.name),
		{"percent": 0, "processed": 0, "total": 0, "description": _("Waiting for a background worker")},
		expires_in_sec=PROGRESS_TTL,
	)
	frappe.enqueue(
		"cpts_snp.services.payment_run.compute_in_background",
		queue="long",
		timeout=3600,
		run_name=run.name,
		user=frappe.session.user,
		enqueue_after_commit=True,
	)
	return "Computing"


def default_period() -> tuple:
	"""The previous calendar month."""
	first_of_month = getdate(today()).replace(day=1)
	return getdate(add_days(first_of_month, -1)).replace(day=1), add_days(first_of_month, -1)
