"""Slot publication checks that need the database."""

import frappe
from frappe import _
from frappe.utils import format_datetime

from cpts_snp.exceptions import SlotOverlapError


def assert_no_overlap(slot) -> None:
	"""Refuse a slot that overlaps another non-cancelled slot of the same professional.

	The professional's row is locked first, so two slots of one professional created at the same moment
	are checked one after the other; the check itself is a locking read, which sees the rows committed by
	the transaction we waited for (a plain SELECT would read this transaction's older snapshot).
	"""
	frappe.db.get_value("SNP Professional", slot.professional, "name", for_update=True)
	Slot = frappe.qb.DocType("SNP Slot")
	clash = (
		frappe.qb.from_(Slot)
		.select(Slot.name, Slot.starts_at, Slot.ends_at)
		.where(Slot.professional == slot.professional)
		.where(Slot.name != (slot.name or ""))
		.where(Slot.status != "Cancelled")
		.where(Slot.starts_at < slot.ends_at)
		.where(Slot.ends_at > slot.starts_at)
		.limit(1)
		.for_update()
		.run(as_dict=True)
	)
	if clash:
		other = clash[0]
		frappe.throw(
			_("This slot overlaps slot {0} of the same professional ({1} – {2})").format(
				other.name,
				format_datetime(other.starts_at, "dd/MM/yyyy HH:mm"),
				format_datetime(other.ends_at, "HH:mm"),
			),
			SlotOverlapError,
			title=_("Overlapping slots"),
		)
