"""The regulators' accounts the national SAS platform manages in the CPTS's software (guide ans.fhir.fr.sas,
« Gestion des comptes régulateurs », flow INT_R02, profile FrPractitionerRegul).

The platform creates an account (`POST [base]/Practitioner`) and updates it (`PUT [base]/Practitioner?identifier=
system|value`, which creates it when it does not exist yet: idempotent). An account is a website User with the
role Partenaire SNP and a row of the calling SAS / SAMU partner's users (SNP Partner User) carrying the platform's
identifiers: the national one (IDNPS, urn:oid:1.2.250.1.71.4.2.1) and/or the SAS technical one (INTRN,
urn:oid:1.2.250.1.213.3.6, for regulators without a CPS card; a later update may attach the national one).
There is no delete: `active` false disables the account (the row unauthorised, the User disabled, his sessions
ended and his API keys revoked).

Refusals are typed: MalformedRegulatorError (HTTP 400, the resource does not follow the profile) and
RegulatorRuleError (HTTP 422, a rule of the CPTS: an e-mail that belongs to someone who is not this partner's
regulator, two accounts for one person). Nothing is written before every check has passed.
"""

import re

import frappe
from frappe import _
from frappe.utils import cint, now_datetime, validate_email_address

from cpts_snp.exports.fhir import REGULATOR_PROFILE
from cpts_snp.permissions import server_write
from cpts_snp.services.partners import PARTNER_ROLE

PROFILE = REGULATOR_PROFILE  # declared once, with the CapabilityStatement that offers it
NATIONAL_SYSTEM = "urn:oid:1.2.250.1.71.4.2.1"
SAS_SYSTEM = "urn:oid:1.2.250.1.213.3.6"
SOURCE = SAS_SYSTEM  # meta.source of every request of the platform
TYPE_SYSTEM = "http://interopsante.org/fhir/CodeSystem/fr-v2-0203"
# identifier system -> (type code, field of SNP Partner User)
SLICES = {NATIONAL_SYSTEM: ("IDNPS", "national_id"), SAS_SYSTEM: ("INTRN", "sas_id")}
ID_PREFIX = (
	"regul-"  # Practitioner ids of regulators: never an SNP Professional's name (the doctors' directory)
)
NATIONAL_ID = re.compile(r"[0-9A-Za-z][0-9A-Za-z/\-]{0,63}")
SAS_ID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
ROW_FIELDS = ["name", "parent", "user", "full_name", "national_id", "sas_id", "active", "sas_managed"]


class RegulatorError(frappe.ValidationError):
	status, code = 400, "invalid"


class MalformedRegulatorError(RegulatorError):
	"""The resource does not follow FrPractitionerRegul (HTTP 400)."""


class RegulatorRuleError(RegulatorError):
	"""The account cannot be written because of a rule of the CPTS (HTTP 422)."""

	status, code = 422, "business-rule"


def malformed(message: str):
	frappe.throw(message, MalformedRegulatorError, title=_("Invalid regulator account"))


def refuse(message: str):
	frappe.throw(message, RegulatorRuleError, title=_("Regulator account refused"))


# --- The resource -------------------------------------------------------------------------------------------------


def parse(resource) -> frappe._dict:
	"""The account a FrPractitionerRegul resource describes: national_id, sas_id (one at least), active, family,
	given, email. MalformedRegulatorError when it does not follow the profile."""
	if not isinstance(resource, dict) or resource.get("resourceType") != "Practitioner":
		malformed(_("The body must be a FHIR Practitioner resource"))
	meta = resource.get("meta")
	if not isinstance(meta, dict) or meta.get("source") != SOURCE:
		malformed(_("meta.source must be {0}, the SAS platform").format(SOURCE))
	account = frappe._dict(national_id=None, sas_id=None)
	identifiers = resource.get("identifier")
	if not isinstance(identifiers, list) or not identifiers:
		malformed(_("The regulator's identifier is missing"))
	for identifier in identifiers:
		system, value = parse_identifier(identifier)
		if system not in SLICES:
			continue
		field = SLICES[system][1]
		if account[field]:
			malformed(_("The resource carries two identifiers of system {0}").format(system))
		account[field] = value
	if not (account.national_id or account.sas_id):
		malformed(
			_(
				"The regulator needs a national identifier (system {0}) or a SAS technical identifier (system {1})"
			).format(NATIONAL_SYSTEM, SAS_SYSTEM)
		)
	if not isinstance(resource.get("active"), bool):
		malformed(_("active (true or false) is missing"))
	account.active = resource["active"]
	names = resource.get("name")
	name = names[0] if isinstance(names, list) and names else None
	if not isinstance(name, dict):
		malformed(_("The regulator's name is missing"))
	account.family = text(name.get("family"))
	if not account.family:
		malformed(_("The regulator's family name (name.family) is missing"))
	given = name.get("given")
	account.given = text(given[0]) if isinstance(given, list) and len(given) == 1 else None
	if not account.given:
		malformed(_("The regulator's given name (name.given) is missing"))
	emails = [
		t
		for t in resource.get("telecom") or []
		if isinstance(t, dict) and t.get("system") == "email" and isinstance(t.get("value"), str)
	]
	account.email = emails[0]["value"].strip().lower() if len(emails) == 1 else None
	if not account.email or not validate_email_address(account.email):
		malformed(_("The regulator's e-mail address (telecom, system email) is missing or not valid"))
	return account


def parse_identifier(identifier) -> tuple[str, str]:
	"""(system, value) of an identifier; one of the profile's two slices must carry its type."""
	if not isinstance(identifier, dict):
		malformed(_("An identifier must be an object"))
	system, value = identifier.get("system"), identifier.get("value")
	if not (isinstance(system, str) and isinstance(value, str) and value.strip()):
		malformed(_("An identifier needs a system and a value"))
	if system in SLICES:
		code = SLICES[system][0]
		codings = (
			(identifier.get("type") or {}).get("coding") if isinstance(identifier.get("type"), dict) else None
		)
		if not any(
			isinstance(c, dict) and c.get("system") == TYPE_SYSTEM and c.get("code") == code
			for c in codings or []
		):
			malformed(_("An identifier of system {0} must be of type {1}").format(system, code))
		check_identifier_value(system, value)
	return system, value.strip()


def check_identifier_value(system: str, value: str) -> None:
	pattern = NATIONAL_ID if system == NATIONAL_SYSTEM else SAS_ID
	if not pattern.fullmatch(value.strip()):
		malformed(_("Identifier {0} is not valid for system {1}").format(value[:80], system))


def parse_match(value: str) -> tuple[str, str]:
	"""The `identifier=system|value` of a conditional update."""
	system, sep, identifier = (value or "").partition("|")
	if not sep or system not in SLICES or not identifier.strip():
		malformed(
			_("Give identifier={0}|<national id> or identifier={1}|<SAS technical id>").format(
				NATIONAL_SYSTEM, SAS_SYSTEM
			)
		)
	check_identifier_value(system, identifier)
	return system, identifier.strip()


def text(value) -> str | None:
	return value.strip()[:140] or None if isinstance(value, str) else None


# --- The account ----------------------------------------------------------------------------------------------


def upsert(resource, partner, match: tuple[str, str] | None = None) -> tuple[frappe._dict, bool]:
	"""Create or update the account `resource` (a FrPractitionerRegul dict) describes among `partner`'s users:
	found by `match` (the identifier of a conditional update) or, without it, by the resource's identifiers (a
	create of a known regulator updates him). Returns (the partner-user row as stored, created)."""
	account = parse(resource)
	if match:
		system, value = parse_match(f"{match[0]}|{match[1]}")
		if account[SLICES[system][1]] != value:
			malformed(_("The identifier of the address must be one of the resource's identifiers"))
	partner_doc = frappe.get_doc("SNP Partner", partner.name, for_update=True)
	row = find_row(partner_doc, account)
	user, row = check_email(partner_doc, row, account)
	created = row is None
	user = write_user(user, account)
	if created:
		row = partner_doc.append("users", {"user": user})
	row.update(
		{
			"full_name": " ".join(filter(None, [account.given, account.family])),
			"national_id": account.national_id or row.national_id,
			"sas_id": account.sas_id or row.sas_id,
			"active": cint(account.active),
			"sas_managed": 1,
			"sas_updated_on": now_datetime(),
		}
	)
	partner_doc.flags.ignore_permissions = True  # the caller was checked: an active SAS / SAMU partner's user
	server_write(partner_doc).save()
	return frappe._dict(row.as_dict()), created


def find_row(partner_doc, account):
	"""The partner's row of this regulator, by his identifiers; an identifier already given to a regulator of
	another partner, or identifiers naming two accounts, are refused."""
	found = {
		row.name: row
		for row in partner_doc.users
		if (account.national_id and row.national_id == account.national_id)
		or (account.sas_id and row.sas_id == account.sas_id)
	}
	if len(found) > 1:
		refuse(_("The national identifier and the SAS technical identifier name two different accounts"))
	row = next(iter(found.values()), None)
	if row:
		for field in ("national_id", "sas_id"):
			if account[field] and row.get(field) and row.get(field) != account[field]:
				refuse(_("This account already has another identifier of the same kind"))
	for field in ("national_id", "sas_id"):
		if not account[field]:
			continue
		other = frappe.db.get_value(
			"SNP Partner User",
			{"parenttype": "SNP Partner", field: account[field], "parent": ("!=", partner_doc.name)},
			"parent",
		)
		if other:
			refuse(_("This identifier belongs to a regulator of another partner"))
	return row


def check_email(partner_doc, row, account) -> tuple:
	"""The User of the account and its row (None, None: to create; a row of this partner's found by the e-mail
	is the same regulator, known by another of his identifiers). An e-mail is never taken over from a user who is
	not one of this partner's regulators (staff, a doctor, another partner's user...), nor from the partner's own
	technical account (the caller, the certificate user)."""
	owner = frappe.db.get_value("User", {"email": account.email}, "name") or (
		account.email if frappe.db.exists("User", account.email) else None
	)
	if row:
		if row.user in (frappe.session.user, partner_doc.certificate_user):
			refuse(_("The partner's own technical account cannot be managed as a regulator"))
		if owner and owner != row.user:
			refuse(_("This e-mail address already belongs to another user of the CPTS"))
		return row.user, row
	if not owner:
		return None, None
	mine = next((r for r in partner_doc.users if r.user == owner), None)
	if not mine or owner in (frappe.session.user, partner_doc.certificate_user):
		refuse(_("This e-mail address already belongs to another user of the CPTS"))
	for field in ("national_id", "sas_id"):
		if account[field] and mine.get(field) and mine.get(field) != account[field]:
			refuse(_("This e-mail address already belongs to another regulator account"))
	return owner, mine


def write_user(name: str | None, account) -> str:
	"""Create or update the website User of the account: e-mail, names, role Partenaire SNP, enabled = active.
	A new user gets no e-mail (he logs in through the SAS, Pro Santé Connect or a password reset)."""
	if name:
		user = frappe.get_doc("User", name)
	else:
		user = frappe.new_doc("User")
		user.update({"send_welcome_email": 0, "language": "fr", "user_type": "System User"})
	was_enabled = bool(user.enabled) if name else True
	user.update(
		{
			"email": account.email,
			"first_name": account.given,
			"last_name": account.family,
			"enabled": cint(account.active),
		}
	)
	if not account.active:
		# his API keys stop working (Frappe checks a key, not whether its user is enabled)
		user.api_key = None
		user.api_secret = None
	user.flags.ignore_permissions = True
	user.flags.no_welcome_mail = True
	if name and frappe.db.exists("Notification Settings", name):
		# what Frappe's User would save as the caller (who may not): his notifications follow his account
		frappe.db.set_value("Notification Settings", name, "enabled", cint(account.active))
	user.save() if name else user.insert()
	if PARTNER_ROLE not in [r.role for r in user.roles]:
		user.add_roles(PARTNER_ROLE)
	if was_enabled and not account.active:
		from frappe.sessions import clear_sessions

		clear_sessions(user.name, keep_current=False, force=True)
	return user.name


# --- The resource as stored ---------------------------------------------------------------------------------------


def practitioner_id(row_name: str) -> str:
	return f"{ID_PREFIX}{row_name}"


def row_of(partner, resource_id: str) -> frappe._dict | None:
	"""The regulator row of `partner` a Practitioner id names (ID_PREFIX + row name), if any."""
	if not partner or not resource_id.startswith(ID_PREFIX):
		return None
	row = frappe.db.get_value(
		"SNP Partner User",
		{
			"name": resource_id[len(ID_PREFIX) :],
			"parenttype": "SNP Partner",
			"parent": partner.name,
			"sas_managed": 1,
		},
		ROW_FIELDS,
		as_dict=True,
	)
	return row


def practitioner(row) -> dict:
	"""The FrPractitionerRegul resource of a regulator row, as stored."""
	user = frappe.db.get_value("User", row.user, ["email", "first_name", "last_name"], as_dict=True) or {}
	identifiers = []
	for system, (code, field) in SLICES.items():
		if row.get(field):
			identifiers.append(
				{
					"type": {"coding": [{"system": TYPE_SYSTEM, "code": code}]},
					"system": system,
					"value": row.get(field),
				}
			)
	name = {"family": user.get("last_name") or row.full_name or row.user}
	if user.get("first_name"):
		name["given"] = [user["first_name"]]
	return {
		"resourceType": "Practitioner",
		"id": practitioner_id(row.name),
		"meta": {"profile": [PROFILE], "source": SOURCE},
		"identifier": identifiers,
		"active": bool(cint(row.active)),
		"name": [name],
		"telecom": [{"system": "email", "value": user.get("email") or row.user}],
	}


def is_active_row(user: str, partner) -> bool:
	"""Whether `user`'s row in `partner`'s users is authorised (rows the SAS never disabled are)."""
	if not partner:
		return True
	active = frappe.db.get_value(
		"SNP Partner User", {"parenttype": "SNP Partner", "parent": partner.name, "user": user}, "active"
	)
	return active is None or bool(cint(active))
