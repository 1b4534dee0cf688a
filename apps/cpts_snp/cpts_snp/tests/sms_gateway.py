"""A small local HTTP server standing in for an SMS gateway: it records what it receives and answers as told."""

import threading
import time
import urllib.parse
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import frappe


class Gateway:
	def __init__(self):
		self.received: list[dict] = []
		self.status = 200
		self.body = "OK id=42"
		self.delay = 0.0
		self.url = ""


def _handler(gateway: Gateway):
	class Handler(BaseHTTPRequestHandler):
		def _answer(self, params: dict):
			gateway.received.append({"method": self.command, "path": self.path, **params})
			if gateway.delay:
				time.sleep(gateway.delay)
			body = gateway.body.encode()
			try:
				self.send_response(gateway.status)
				self.send_header("Content-Length", str(len(body)))
				self.end_headers()
				self.wfile.write(body)
			except OSError:
				pass  # the client gave up (timeout)

		def do_GET(self):
			query = urllib.parse.urlparse(self.path).query
			self._answer(dict(urllib.parse.parse_qsl(query)))

		def do_POST(self):
			length = int(self.headers.get("Content-Length") or 0)
			self._answer(dict(urllib.parse.parse_qsl(self.rfile.read(length).decode())))

		def log_message(self, *args):
			pass

	return Handler


@contextmanager
def sms_gateway(use_post: bool = True):
	"""Run the gateway and point SMS Settings at it (in the test's transaction, which the test rolls back)."""
	gateway = Gateway()
	server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(gateway))
	server.daemon_threads = True
	thread = threading.Thread(target=server.serve_forever, daemon=True)
	thread.start()
	gateway.url = f"http://127.0.0.1:{server.server_address[1]}/send"
	settings = frappe.get_single("SMS Settings")
	settings.sms_gateway_url = gateway.url
	settings.message_parameter = "text"
	settings.receiver_parameter = "to"
	settings.use_post = int(use_post)
	settings.set("parameters", [{"parameter": "api_key", "value": "secret-key", "header": 0}])
	settings.save()
	# frappe.db caches single values for the connection: forget them with the rollback that ends the test
	frappe.db.after_rollback.add(lambda: frappe.db.value_cache.pop("SMS Settings", None))
	try:
		yield gateway
	finally:
		server.shutdown()
		server.server_close()


def _forget_settings():
	frappe.clear_document_cache("SNP Settings", "SNP Settings")


@contextmanager
def snp_settings(**values):
	"""SNP Settings with `values` for the test's transaction. (Frappe caches the Single in Redis: saving it
	and rolling back would leave other tests the rolled-back values, so the cache is dropped after the
	rollback.)"""
	frappe.db.set_single_value("SNP Settings", values)
	_forget_settings()
	frappe.db.after_rollback.add(_forget_settings)
	yield
