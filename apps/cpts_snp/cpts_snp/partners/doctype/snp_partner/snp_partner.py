import re

import frappe
from frappe import _
from frappe.model.document import Document
from frappe.utils import getdate

from cpts_snp.exceptions import InvalidCodeError, InvalidRPPSError
from cpts_snp.rules.identifiers import clean_rpps, is_valid_rpps, is_valid_siret
from cpts_snp.services.text import clean_name_fields

PARTNER_ROLE = "Partenaire SNP"
FINESS = re.compile(r"(\d{2}|2A|2B)\d{7}")


class SNPPartner(Document):
	def validate(self):
		clean_name_fields(self, "partner_name", "contact_name")
		self.validate_identifiers()
		self.validate_period()
		self.validate_users()
		self.validate_user_rpps()
		self.validate_certificate()

	def on_update(self):
		self.give_users_the_partner_role()

	def validate_identifiers(self):
		self.finess = re.sub(r"\s", "", self.finess or "").upper() or None
		self.siret = re.sub(r"\s", "", self.siret or "") or None
		if not (self.finess or self.siret):
			frappe.throw(_("Give the partner's FINESS number or its SIRET"), InvalidCodeError)
		if self.finess and not FINESS.fullmatch(self.finess):
			frappe.throw(
				_("FINESS number {0} is not valid: it has 9 characters").format(self.finess), InvalidCodeError
			)
		if self.siret and not is_valid_siret(self.siret):
			frappe.throw(
				_("SIRET {0} is not valid: it has 14 digits and a check digit").format(self.siret),
				InvalidCodeError,
			)

	def validate_period(self):
		if self.active_from and self.active_to and getdate(self.active_to) < getdate(self.active_from):
			frappe.throw(_("The end of the access period cannot be before its start"))

	def validate_users(self):
		"""A user belongs to one partner at most: his bookings are his partner's."""
		users = [row.user for row in self.users]
		duplicates = {user for user in users if users.count(user) > 1}
		if duplicates:
			frappe.throw(_("User {0} is listed twice").format(", ".join(sorted(duplicates))))
		if not users:
			return
		Row = frappe.qb.DocType("SNP Partner User")
		elsewhere = (
			frappe.qb.from_(Row)
			.select(Row.user, Row.parent)
			.where(Row.parenttype == "SNP Partner")
			.where(Row.user.isin(users))
			.where(Row.parent != (self.name or ""))
			.run()
		)
		if elsewhere:
			user, partner = elsewhere[0]
			frappe.throw(_("User {0} already belongs to the partner {1}").format(user, partner))

	def validate_user_rpps(self):
		"""A partner user's RPPS (11 digits) names one regulator: Pro Santé Connect logs him in by it
		(cpts_snp.integrations.psc), so two rows, of this partner or another, cannot carry the same."""
		for row in self.users:
			row.rpps = clean_rpps(row.rpps) or None
			if row.rpps and not is_valid_rpps(row.rpps):
				frappe.throw(
					_("The RPPS number must have exactly 11 digits (received: {0})").format(row.rpps),
					InvalidRPPSError,
					title=_("Invalid RPPS number"),
				)
		numbers = [row.rpps for row in self.users if row.rpps]
		Row = frappe.qb.DocType("SNP Partner User")
		taken = numbers and (
			frappe.qb.from_(Row)
			.select(Row.rpps, Row.parent)
			.where(Row.parenttype == "SNP Partner")
			.where(Row.rpps.isin(numbers))
			.where(Row.parent != (self.name or ""))
			.limit(1)
			.run()
		)
		duplicate = next((number for number in numbers if numbers.count(number) > 1), None)
		if duplicate or taken:
			rpps, partner = (duplicate, self.name) if duplicate else taken[0]
			frappe.throw(
				_("RPPS {0} is already given to a user of the partner {1}").format(rpps, partner),
				InvalidRPPSError,
			)

	def validate_certificate(self):
		"""The SAS platform's client certificate (mTLS, cpts_snp.services.client_certificates): its CN and OU
		together name one partner, which it acts for as one of the partner's users."""
		self.certificate_cn = (self.certificate_cn or "").strip() or None
		self.certificate_ou = (self.certificate_ou or "").strip() or None
		if not (self.certificate_cn or self.certificate_ou or self.certificate_user):
			return
		if not (self.certificate_cn and self.certificate_ou):
			frappe.throw(_("Give both the CN and the OU of the client certificate"))
		if not self.certificate_user:
			frappe.throw(_("Choose the partner user the client certificate acts as"))
		if self.certificate_user not in [row.user for row in self.users]:
			frappe.throw(
				_("The certificate user {0} must be one of the partner users").format(self.certificate_user)
			)
		other = frappe.db.get_value(
			"SNP Partner",
			{
				"certificate_cn": self.certificate_cn,
				"certificate_ou": self.certificate_ou,
				"name": ("!=", self.name or ""),
			},
		)
		if other:
			frappe.throw(
				_("The client certificate CN {0} and OU {1} already belong to the partner {2}").format(
					self.certificate_cn, self.certificate_ou, other
				)
			)

	def give_users_the_partner_role(self):
		"""Every user of a partner has the role Partenaire SNP (a coordinator adds users here, not in User)."""
		users = [row.user for row in self.users]
		if not users:
			return
		HasRole = frappe.qb.DocType("Has Role")
		having = set(
			frappe.qb.from_(HasRole)
			.select(HasRole.parent)
			.where(HasRole.parenttype == "User")
			.where(HasRole.role == PARTNER_ROLE)
			.where(HasRole.parent.isin(users))
			.run(pluck=True)
		)
		for user in users:
			if user not in having:
				# The coordinator may manage partners without the right to edit users: the role follows
				# the partner's list of users, which he is allowed to change.
				user_doc = frappe.get_doc("User", user)
				user_doc.flags.ignore_permissions = True
				user_doc.add_roles(PARTNER_ROLE)
