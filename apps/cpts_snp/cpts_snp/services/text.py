"""Names and phone numbers typed by people (patients, callers, doctors, interns, partners) cleaned before they are
saved."""

import frappe
from frappe import _

from cpts_snp.exceptions import InvalidNameError, InvalidPhoneError
from cpts_snp.rules.identifiers import normalise_phone
from cpts_snp.rules.text import clean_name, has_markup


def clean_name_fields(doc, *fieldnames: str) -> None:
	"""Clean each name field of `doc` (cpts_snp.rules.text) and refuse one holding markup, naming the field.

	Only new or changed values are checked: a record saved before this rule still takes its other changes (a
	booking's outcome…); its name is escaped wherever it is shown."""
	for fieldname in fieldnames:
		value = doc.get(fieldname)
		if not value or not doc.has_value_changed(fieldname):
			continue
		if has_markup(value):
			label = _(doc.meta.get_label(fieldname))
			frappe.throw(
				_("{0} cannot contain angle brackets (the less-than and greater-than signs)").format(label),
				InvalidNameError,
				title=_("Invalid name"),
			)
		doc.set(fieldname, clean_name(value))


def checked_phone(value: str | None) -> str | None:
	"""A typed phone number in its international form (cpts_snp.rules.identifiers.normalise_phone), or a clear
	French refusal; nothing typed stays nothing."""
	if not value:
		return value
	normalised = normalise_phone(value)
	if not normalised:
		frappe.throw(
			_("Phone number {0} is not valid").format(value),
			InvalidPhoneError,
			title=_("Invalid phone number"),
		)
	return normalised
