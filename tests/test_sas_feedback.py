"""INT_R03: bookings made through the SAS are reported back to the SAS platform (FrAppointmentSAS), through the
outbox `SNP SAS Message`, against a FHIR receiver started on loopback: a POST for the booking, a conditional PUT
on its identifier for each change, retries with backoff on 5xx (in order), no retry on 400, a booking that never
waits for nor fails because of the SAS, and « Réessayer maintenant » for the coordination only."""

import importlib.util
import json
import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

import frappe
import pytest
from cpts_snp.exports.sas_appointment import APPOINTMENT_PROFILE, appointment
from cpts_snp.services import sas_feedback
from cpts_snp.services.booking import book_slot
from cpts_snp.tests.factories import PATIENT, as_user, future_start, make_slot
from frappe.utils import get_datetime, now_datetime

MESSAGE = "SNP SAS Message"
OPERATOR = {
	"operator_id_type": "IDNPS",
	"operator_id": "3456780581/11242343",
	"operator_name": "Dr Régulateur",
}
SETTINGS = (
	"sas_feedback_enabled",
	"sas_appointment_endpoint",
	"sas_max_attempts",
	"sas_client_certificate",
	"sas_client_key",
	"sas_ca_bundle",
)
PARIS = ZoneInfo("Europe/Paris")


# --- The SAS platform's FHIR receiver, on loopback ------------------------------------------------------------


class Receiver:
	"""Records every request; answers from `script` (status, headers, body) first, then 201 / 200 with a
	Location header."""

	def __init__(self, tls=None):
		self.requests: list[dict] = []
		self.script: list[tuple[int, dict, str]] = []
		self.lock = threading.Lock()
		receiver = self

		class Handler(BaseHTTPRequestHandler):
			def _handle(self):
				body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
				url = urlsplit(self.path)
				peer = self.connection.getpeercert() if tls else None
				with receiver.lock:
					receiver.requests.append(
						{
							"client": dict(item[0] for item in peer["subject"]) if peer else None,
							"method": self.command,
							"path": url.path,
							"query": parse_qs(url.query),
							"headers": dict(self.headers),
							"body": json.loads(body) if body else None,
						}
					)
					number = len(receiver.requests)
					status, headers, text = (
						receiver.script.pop(0)
						if receiver.script
						else (201 if self.command == "POST" else 200, {}, "")
					)
				headers = {"Location": f"http://sas.test/fhir/Appointment/sas-{number}/_history/1", **headers}
				payload = (text or '{"resourceType": "Appointment"}').encode()
				self.send_response(status)
				for key, value in headers.items():
					self.send_header(key, value)
				self.send_header("Content-Type", "application/fhir+json")
				self.send_header("Content-Length", str(len(payload)))
				self.end_headers()
				self.wfile.write(payload)

			do_POST = do_PUT = _handle

			def log_message(self, *args):
				pass

		self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
		if tls:
			self.server.socket = tls.wrap_socket(self.server.socket, server_side=True)
		scheme = "https" if tls else "http"
		self.base = f"{scheme}://127.0.0.1:{self.server.server_address[1]}/fhir"
		self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
		self.thread.start()

	def of(self, booking: str) -> list[dict]:
		"""The requests about `booking` (other test runs may share the site)."""
		with self.lock:
			return [r for r in self.requests if r["body"]["identifier"][0]["value"] == booking]

	def stop(self):
		self.server.shutdown()
		self.server.server_close()


@pytest.fixture
def receiver():
	server = Receiver()
	yield server
	server.stop()


@pytest.fixture
def sas(receiver, committed):
	"""Feedback enabled towards the receiver (4 attempts at most); the messages, bookings and settings of the test
	removed afterwards (the sender commits)."""
	before = {field: frappe.db.get_single_value("SNP Settings", field) for field in SETTINGS}
	configure(enabled=1, endpoint=receiver.base, attempts=4)
	yield receiver
	frappe.db.rollback()
	for professional in committed.professionals:
		bookings = frappe.get_all("SNP Booking", filters={"professional": professional}, pluck="name")
		if bookings:
			frappe.db.delete(MESSAGE, {"booking": ("in", bookings)})
	frappe.db.set_single_value("SNP Settings", before)
	frappe.db.commit()


def configure(enabled=1, endpoint=None, attempts=4, certificate=None, key=None, ca_bundle=None):
	frappe.db.set_single_value(
		"SNP Settings",
		{
			"sas_feedback_enabled": enabled,
			"sas_appointment_endpoint": endpoint,
			"sas_max_attempts": attempts,
			"sas_client_certificate": certificate,
			"sas_client_key": key,
			"sas_ca_bundle": ca_bundle,
		},
	)
	frappe.db.commit()


def sas_booking(committed, start=None, channel="SAS"):
	"""A booking made through the SAS, the regulator recorded on it in the same transaction (as the booking-link
	page does), committed."""
	slot = make_slot(committed.professional(), start or future_start(3, 10))
	booking = book_slot(slot.name, PATIENT, reason="Fièvre depuis hier", channel=channel)
	if channel == "SAS":
		booking.db_set(OPERATOR, update_modified=False)
	frappe.db.commit()
	return booking


def messages(booking: str) -> list:
	frappe.db.rollback()  # a fresh read of what the sender committed
	return frappe.get_all(
		MESSAGE,
		filters={"booking": booking},
		fields=[
			"name",
			"operation",
			"status",
			"booking_status",
			"attempts",
			"http_status",
			"remote_id",
			"error",
		]
		+ ["next_attempt_at", "answer"],
		order_by="sequence asc",
	)


def due_now(booking: str) -> None:
	"""Time passes: every pending message of `booking` is due (rather than sleeping through the backoff)."""
	frappe.db.sql(
		f"UPDATE `tab{MESSAGE}` SET `next_attempt_at` = %s WHERE `booking` = %s AND `status` = 'Pending'",
		(now_datetime() - timedelta(seconds=1), booking),
	)
	frappe.db.commit()


# --- Conformance to FrAppointmentSAS --------------------------------------------------------------------------


def _validator():
	path = Path(__file__).with_name("fhir_conformance.py")
	if not path.exists():
		return None
	spec = importlib.util.spec_from_file_location("fhir_conformance", path)
	module = importlib.util.module_from_spec(spec)
	spec.loader.exec_module(module)
	return getattr(module, "validate", None)


VALIDATE = _validator()


def assert_conforms(resource: dict) -> None:
	"""The guide's profile holds: the shared validator when it is there, and the elements the SAS reads."""
	if VALIDATE:
		assert VALIDATE(resource, profile=APPOINTMENT_PROFILE) == []
	from fhir.resources.R4B.appointment import Appointment

	Appointment.model_validate(resource)  # a well-formed R4 Appointment
	assert resource["meta"]["profile"] == [APPOINTMENT_PROFILE]
	(operator,) = resource["extension"]
	assert operator["url"] == "http://interopsante.org/fhir/StructureDefinition/FrAppointmentOperator"
	assert operator["valueReference"]["identifier"]["type"]["coding"] == [
		{"system": "http://interopsante.org/fhir/CodeSystem/fr-v2-0203", "code": "IDNPS"}
	]
	assert operator["valueReference"]["identifier"]["system"] == "urn:oid:1.2.250.1.71.4.2.1"
	(identifier,) = resource["identifier"]
	assert identifier["system"] and identifier["value"]
	(participant,) = resource["participant"]
	assert participant["status"] in ("accepted", "needs-action")
	actor = participant["actor"]["identifier"]
	assert actor["type"]["coding"] == [
		{"system": "http://interopsante.org/fhir/CodeSystem/fr-v2-0203", "code": "IDNPS"}
	]
	assert actor["system"] == "urn:oid:1.2.250.1.71.4.2.1"
	assert resource["start"] < resource["end"]


# --- The cases ----------------------------------------------------------------------------------------------


def test_a_sas_booking_is_posted_to_the_sas_as_a_conforming_appointment(sas, committed):
	booking = sas_booking(committed)
	sas_feedback.send_due()

	(request,) = sas.of(booking.name)
	assert (request["method"], request["path"]) == ("POST", "/fhir/Appointment")
	assert request["headers"]["Content-Type"].startswith("application/fhir+json")
	resource = request["body"]
	assert_conforms(resource)
	rpps = frappe.db.get_value("SNP Professional", booking.professional, "rpps")
	assert resource["participant"][0]["actor"]["identifier"]["value"] == "8" + rpps
	assert resource["extension"][0]["valueReference"]["identifier"]["value"] == OPERATOR["operator_id"]
	assert resource["status"] == "booked"
	assert resource["identifier"][0]["value"] == booking.name
	assert resource["slot"] == [{"reference": f"Slot/{booking.slot}"}]
	start = get_datetime(booking.slot_start).replace(tzinfo=PARIS)
	assert resource["start"] == start.isoformat(timespec="milliseconds")  # "…T10:00:00.000+01:00"
	# Data minimisation: nothing of the patient leaves the CPTS in this message
	text = json.dumps(resource, ensure_ascii=False)
	assert not any(value in text for value in ("Durand", "Louise", "1987-03-12", "Fièvre", "06 11"))

	(message,) = messages(booking.name)
	assert (message.operation, message.status, message.booking_status) == ("create", "Sent", "Booked")
	assert (message.http_status, message.remote_id, message.attempts) == (201, "sas-1", 1)


def test_an_honoured_booking_is_updated_on_its_identifier(sas, committed):
	booking = sas_booking(committed, (now_datetime() - timedelta(hours=2)).replace(second=0, microsecond=0))
	sas_feedback.send_for_booking(booking.name)
	booking.reload()
	booking.status = "Honoured"
	booking.save()
	frappe.db.commit()
	sas_feedback.send_for_booking(booking.name)

	assert len(sas.of(booking.name)) == 2, messages(booking.name)
	create, update = sas.of(booking.name)
	assert create["method"] == "POST"
	system = create["body"]["identifier"][0]["system"]
	assert (update["method"], update["path"]) == ("PUT", "/fhir/Appointment")
	assert update["query"] == {"identifier": [f"{system}|{booking.name}"]}
	assert update["body"]["status"] == "fulfilled"
	assert_conforms(update["body"])
	assert [(m.operation, m.booking_status, m.status) for m in messages(booking.name)] == [
		("create", "Booked", "Sent"),
		("update", "Honoured", "Sent"),
	]


def test_a_cancellation_is_put_as_cancelled(sas, committed):
	booking = sas_booking(committed)
	sas_feedback.send_for_booking(booking.name)
	booking.reload()
	booking.status = "Cancelled"
	booking.cancellation_reason = "Le patient va mieux"
	booking.save()
	frappe.db.commit()
	sas_feedback.send_due()

	methods = [(r["method"], r["body"]["status"]) for r in sas.of(booking.name)]
	assert methods == [("POST", "booked"), ("PUT", "cancelled")]
	assert "Le patient va mieux" not in json.dumps(sas.of(booking.name)[1]["body"], ensure_ascii=False)


def test_a_moved_sas_booking_is_put_with_its_new_time_and_doctor(sas, committed):
	from cpts_snp.services.booking import move_booking

	booking = sas_booking(committed)
	sas_feedback.send_for_booking(booking.name)
	other = committed.professional()
	new_slot = make_slot(other, future_start(4, 15)).name
	move_booking(booking.name, new_slot)
	frappe.db.commit()
	sas_feedback.send_due()

	create, update = sas.of(booking.name)
	assert (update["method"], update["body"]["status"]) == ("PUT", "booked")
	assert update["body"]["slot"] == [{"reference": f"Slot/{new_slot}"}]
	assert update["body"]["start"] == get_datetime(future_start(4, 15)).replace(tzinfo=PARIS).isoformat(
		timespec="milliseconds"
	)
	rpps = frappe.db.get_value("SNP Professional", other, "rpps")
	assert update["body"]["participant"][0]["actor"]["identifier"]["value"] == "8" + rpps
	assert_conforms(update["body"])
	assert [(m.operation, m.status) for m in messages(booking.name)] == [
		("create", "Sent"),
		("update", "Sent"),
	]


def test_a_sas_outage_is_retried_with_backoff_and_updates_wait_for_the_create(sas, committed):
	sas.script = [(503, {}, ""), (503, {}, "")]
	booking = sas_booking(committed)
	sas_feedback.send_for_booking(booking.name)
	(first,) = messages(booking.name)
	assert (first.status, first.attempts, first.http_status) == ("Pending", 1, 503)
	wait = get_datetime(first.next_attempt_at) - now_datetime()
	assert timedelta(seconds=50) < wait <= timedelta(minutes=1)

	booking.reload()
	booking.status = "Cancelled"
	booking.cancellation_reason = "Rendez-vous pris ailleurs"
	booking.save()
	frappe.db.commit()
	sas_feedback.send_due()  # the create is not due yet, and the update waits for it
	assert len(sas.of(booking.name)) == 1

	due_now(booking.name)
	sas_feedback.send_due()
	second = messages(booking.name)[0]
	assert (second.status, second.attempts) == ("Pending", 2)
	wait = get_datetime(second.next_attempt_at) - now_datetime()
	assert timedelta(minutes=1, seconds=50) < wait <= timedelta(minutes=2)  # 1, then 2 minutes
	assert len(sas.of(booking.name)) == 2  # the update still waits

	due_now(booking.name)
	sas_feedback.send_due()
	assert [(r["method"], r["body"]["status"]) for r in sas.of(booking.name)] == [
		("POST", "booked"),
		("POST", "booked"),
		("POST", "booked"),
		("PUT", "cancelled"),
	]
	assert [(m.status, m.attempts) for m in messages(booking.name)] == [("Sent", 3), ("Sent", 1)]


def test_a_message_is_given_up_after_the_maximum_attempts(sas, committed):
	configure(enabled=1, endpoint=sas.base, attempts=2)
	sas.script = [(500, {}, ""), (502, {}, "")]
	booking = sas_booking(committed)
	sas_feedback.send_for_booking(booking.name)
	due_now(booking.name)
	sas_feedback.send_for_booking(booking.name)
	(message,) = messages(booking.name)
	assert (message.status, message.attempts, message.next_attempt_at) == ("Given up", 2, None)


def test_a_refused_message_is_failed_not_retried_and_shown_in_the_outbox(sas, committed):
	outcome = '{"resourceType": "OperationOutcome", "issue": [{"severity": "error", "code": "invalid"}]}'
	sas.script = [(400, {}, outcome)]
	booking = sas_booking(committed)
	sas_feedback.send_due()
	due_now(booking.name)
	sas_feedback.send_due()

	assert len(sas.of(booking.name)) == 1
	(message,) = messages(booking.name)
	assert (message.status, message.http_status, message.attempts) == ("Failed", 400, 1)
	assert "OperationOutcome" in message.answer and "400" in message.error
	coordinator = committed.user(["Coordinateur CPTS"])
	with as_user(coordinator):
		listed = frappe.get_list(MESSAGE, filters={"booking": booking.name}, fields=["status", "error"])
	assert [row.status for row in listed] == ["Failed"]


def test_the_booking_succeeds_when_the_sas_is_down(sas, committed):
	configure(enabled=1, endpoint="http://127.0.0.1:9/fhir", attempts=4)  # nothing listens on port 9
	booking = sas_booking(committed)
	assert frappe.db.get_value("SNP Booking", booking.name, "status") == "Booked"
	assert frappe.db.get_value("SNP Slot", booking.slot, "status") == "Booked"
	(queued,) = messages(booking.name)
	assert (queued.status, queued.attempts) == ("Pending", 0)  # the booking itself never called the SAS

	sas_feedback.send_for_booking(booking.name)
	(message,) = messages(booking.name)
	assert (message.status, message.attempts) == ("Pending", 1)
	assert "n'a pas pu être jointe" in message.error


def test_nothing_is_queued_when_the_feedback_is_disabled_or_the_booking_is_not_from_the_sas(sas, committed):
	desk = sas_booking(committed, channel="Telesecretariat")
	assert messages(desk.name) == []
	configure(enabled=0, endpoint=sas.base)
	from_sas = sas_booking(committed)
	assert messages(from_sas.name) == []
	sas_feedback.send_due()
	assert sas.of(desk.name) == sas.of(from_sas.name) == []


def test_a_booking_without_regulator_or_national_id_is_failed_with_the_reason(sas, committed):
	slot = make_slot(committed.professional(), future_start(3, 11))
	booking = book_slot(slot.name, PATIENT, channel="SAS")
	frappe.db.commit()
	sas_feedback.send_for_booking(booking.name)
	(message,) = messages(booking.name)
	assert message.status == "Failed" and message.attempts == 0
	assert message.error == frappe._("The booking does not name the SAS regulator who made it")
	assert sas.of(booking.name) == []


def test_the_coordination_retries_a_failed_message_and_a_telesecretary_cannot(sas, committed):
	from cpts_snp.partners.doctype.snp_sas_message.snp_sas_message import retry_now

	sas.script = [(422, {}, '{"resourceType": "OperationOutcome"}')]
	booking = sas_booking(committed)
	sas_feedback.send_for_booking(booking.name)
	(failed,) = messages(booking.name)
	assert failed.status == "Failed"

	telesecretary = committed.user(["Télésecrétaire"])
	coordinator = committed.user(["Coordinateur CPTS"])
	frappe.db.commit()
	with as_user(telesecretary), pytest.raises(frappe.PermissionError):
		retry_now(failed.name)
	assert messages(booking.name)[0].status == "Failed"
	assert len(sas.of(booking.name)) == 1

	with as_user(coordinator):
		answer = retry_now(failed.name)
	assert answer["status"] == "Sent"
	(message,) = messages(booking.name)
	assert (message.status, message.http_status, message.attempts) == ("Sent", 201, 2)
	assert [r["method"] for r in sas.of(booking.name)] == ["POST", "POST"]


# --- Mutual TLS -----------------------------------------------------------------------------------------------


def _pki(directory: Path) -> dict:
	"""A test CA, the SAS server's certificate (127.0.0.1) and the CPTS's client certificate, as PEM files."""
	from datetime import datetime, timezone
	from ipaddress import IPv4Address

	from cryptography import x509
	from cryptography.hazmat.primitives import hashes, serialization
	from cryptography.hazmat.primitives.asymmetric import ec
	from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

	now = datetime.now(timezone.utc)

	def name(cn):
		return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])

	def issue(cn, issuer_name, issuer_key, ca=False, usage=None, san=None):
		key = ec.generate_private_key(ec.SECP256R1())
		builder = (
			x509.CertificateBuilder()
			.subject_name(name(cn))
			.issuer_name(issuer_name or name(cn))
			.public_key(key.public_key())
			.serial_number(x509.random_serial_number())
			.not_valid_before(now - timedelta(minutes=5))
			.not_valid_after(now + timedelta(days=1))
			.add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
		)
		if usage:
			builder = builder.add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
		if san:
			builder = builder.add_extension(x509.SubjectAlternativeName(san), critical=False)
		return key, builder.sign(issuer_key or key, hashes.SHA256())

	ca_key, ca = issue("Test CA SAS", None, None, ca=True)
	files = {}

	def write(label, key, cert):
		files[label] = directory / f"{label}.pem"
		files[label].write_bytes(cert.public_bytes(serialization.Encoding.PEM))
		files[f"{label}_key"] = directory / f"{label}.key"
		files[f"{label}_key"].write_bytes(
			key.private_bytes(
				serialization.Encoding.PEM,
				serialization.PrivateFormat.PKCS8,
				serialization.NoEncryption(),
			)
		)

	write("ca", ca_key, ca)
	server_key, server = issue(
		"sas.test",
		ca.subject,
		ca_key,
		usage=ExtendedKeyUsageOID.SERVER_AUTH,
		san=[x509.IPAddress(IPv4Address("127.0.0.1"))],
	)
	write("server", server_key, server)
	client_key, client = issue("cpts-test", ca.subject, ca_key, usage=ExtendedKeyUsageOID.CLIENT_AUTH)
	write("client", client_key, client)
	return {label: str(path) for label, path in files.items()}


def test_messages_leave_over_mutual_tls_with_the_cpts_client_certificate(committed, tmp_path):
	import ssl

	pki = _pki(tmp_path)
	context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
	context.load_cert_chain(pki["server"], pki["server_key"])
	context.load_verify_locations(pki["ca"])
	context.verify_mode = ssl.CERT_REQUIRED  # the SAS platform requires the CPTS's certificate
	server = Receiver(tls=context)
	before = {field: frappe.db.get_single_value("SNP Settings", field) for field in SETTINGS}
	try:
		configure(endpoint=server.base, ca_bundle=pki["ca"])  # no client certificate yet
		booking = sas_booking(committed)
		sas_feedback.send_for_booking(booking.name)
		(refused,) = messages(booking.name)
		assert (refused.status, refused.attempts) == ("Pending", 1) and server.of(booking.name) == []

		configure(endpoint=server.base, certificate=pki["client"], key=pki["client_key"], ca_bundle=pki["ca"])
		due_now(booking.name)
		sas_feedback.send_for_booking(booking.name)
		(request,) = server.of(booking.name)
		assert request["client"] == {"commonName": "cpts-test"}
		assert messages(booking.name)[0].status == "Sent"
	finally:
		server.stop()
		frappe.db.rollback()
		frappe.db.delete(
			MESSAGE,
			{
				"booking": (
					"in",
					frappe.get_all(
						"SNP Booking", filters={"professional": ("in", committed.professionals)}, pluck="name"
					)
					or [""],
				)
			},
		)
		frappe.db.set_single_value("SNP Settings", before)
		frappe.db.commit()


# --- The mapping alone -----------------------------------------------------------------------------------------


def test_a_regulator_without_national_id_and_a_doctor_by_adeli_are_named_as_the_guide_says():
	from datetime import datetime

	resource = appointment(
		{
			"name": "RDV-2026-00042",
			"status": "No-show",
			"slot": "SLOT-1",
			"start": datetime(2026, 7, 1, 14, 0),
			"end": datetime(2026, 7, 1, 14, 20),
			"created": datetime(2026, 7, 1, 9, 30, 5),
			"practitioner_id": "0123456789",
			"operator_id_type": "INTRN",
			"operator_id": "6f1c2d3e-1111-4222-8333-944455556666",
			"identifier_system": "https://cpts.example.fr/fhir/Appointment",
		},
		PARIS,
	)
	operator = resource["extension"][0]["valueReference"]["identifier"]
	assert (operator["type"]["coding"][0]["code"], operator["system"]) == (
		"INTRN",
		"urn:oid:1.2.250.1.213.3.6",
	)
	assert resource["participant"][0]["actor"]["identifier"]["value"] == "0123456789"
	assert resource["status"] == "noshow"
	assert (resource["start"], resource["created"]) == (
		"2026-07-01T14:00:00.000+02:00",
		"2026-07-01T09:30:05.000+02:00",
	)
