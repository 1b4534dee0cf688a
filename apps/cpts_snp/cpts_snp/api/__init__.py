"""Thin whitelisted endpoints. Every public method is declared with `endpoint` (below `@frappe.whitelist`):
a missing parameter or an unreadable value (date, number, JSON) is a clear, translated 417 error, never a
server error (tests/test_fuzz_api.py feeds every method generated input)."""

import functools
import inspect
import random
import time

import frappe
from frappe import _

DEADLOCK_ATTEMPTS = 3


def endpoint(fn):
	signature = inspect.signature(fn)
	accepted = set(signature.parameters)
	required = [
		name
		for name, parameter in signature.parameters.items()
		if parameter.default is inspect.Parameter.empty
		and parameter.kind in (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
	]

	@functools.wraps(fn)
	def checked(*args, **kwargs):
		bound = signature.bind_partial(*args, **{k: v for k, v in kwargs.items() if k in accepted})
		missing = [name for name in required if bound.arguments.get(name) in (None, "")]
		if missing:
			frappe.throw(_("Missing parameter: {0}").format(", ".join(missing)), frappe.ValidationError)
		for attempt in range(1, DEADLOCK_ATTEMPTS + 1):
			try:
				return fn(*bound.args, **bound.kwargs)
			except frappe.QueryDeadlockError:
				# InnoDB chose this transaction as a deadlock victim: start the whole call again.
				frappe.db.rollback()
				frappe.local.message_log = []
				if attempt == DEADLOCK_ATTEMPTS:
					raise
				time.sleep(random.uniform(0.01, 0.05) * attempt)
			except frappe.ValidationError:
				raise
			except (ValueError, OverflowError) as error:
				# Unreadable input (a malformed date, number or JSON): the caller's mistake, not a server error.
				frappe.throw(_("Invalid value: {0}").format(error), frappe.ValidationError)

	return checked


def json_argument(value, expected: type, name: str):
	"""A JSON argument (sent as text by forms) of the expected type (list or dict), or a clear 417 error."""
	import json

	if value in (None, ""):
		return expected()
	if isinstance(value, str):
		try:
			value = json.loads(value)
		except ValueError:
			value = None
	if not isinstance(value, expected):
		frappe.throw(_("Invalid value for {0}").format(name), frappe.ValidationError)
	return value
