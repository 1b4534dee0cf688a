"""Helpers for tests that talk HTTP to the test server."""

import json


def server_messages(response) -> str:
	"""The user-facing messages of a Frappe error response, decoded (accents included)."""
	body = response.json()
	try:
		return "\n".join(
			json.loads(m).get("message", "") for m in json.loads(body.get("_server_messages", "[]"))
		)
	except (TypeError, ValueError):
		return body.get("exception", "")
