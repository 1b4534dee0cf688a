"""Names of the app's records come from one database sequence per doctype: same look as before, never reused,
no shared counter locked by every insert, and the sequences move past names that already exist."""

import re
import threading

import frappe
import pytest
from frappe.model.base_document import get_controller
from frappe.utils import now_datetime

from cpts_snp.services import naming
from cpts_snp.services.booking import book_slot
from cpts_snp.tests.factories import PATIENT, future_start, make_professional, make_slot


def test_every_format_autoname_of_the_app_is_named_by_a_sequence():
	named = naming.doctypes()
	assert {"SNP Booking", "SNP Slot", "SNP Call", "SNP Payment Run"} <= set(named)
	for doctype in named:
		assert "set_name" in get_controller(doctype).autoname.__code__.co_names, doctype
		assert naming.next_number(doctype) is not None, doctype


def test_names_keep_their_pattern_and_follow_each_other():
	professional = make_professional().name
	first = make_slot(professional, future_start(41, 9)).name
	second = make_slot(professional, future_start(41, 10)).name
	year = now_datetime().year
	# zero-padded to five digits (CR-2026-00042); past 99999 the number keeps all its digits (CR-2026-112694)
	assert re.fullmatch(rf"CR-{year}-(\d{{5}}|[1-9]\d{{5,}})", first), first
	assert int(second.rsplit("-", 1)[1]) == int(first.rsplit("-", 1)[1]) + 1
	booking = book_slot(first, PATIENT)
	assert booking.name.startswith(f"RDV-{year}-")


def test_a_refused_booking_uses_no_number():
	slot = make_slot(make_professional().name, future_start(41, 11)).name
	first = book_slot(slot, PATIENT).name
	with pytest.raises(frappe.ValidationError):
		book_slot(slot, PATIENT)
	other = make_slot(make_professional().name, future_start(41, 12)).name
	assert int(book_slot(other, PATIENT).name.rsplit("-", 1)[1]) == int(first.rsplit("-", 1)[1]) + 1


def test_the_sequence_moves_past_names_written_without_it():
	"""A restored backup or bulk-loaded records: the next name never collides with an existing one."""
	professional = make_professional().name
	ahead = max(naming.highest_number("SNP Slot"), naming.next_number("SNP Slot")) + 1000
	slot = make_slot(professional, future_start(42, 9))
	frappe.db.set_value("SNP Slot", slot.name, "status", "Cancelled")
	frappe.rename_doc("SNP Slot", slot.name, f"CR-2019-{ahead}", force=True)
	assert naming.highest_number("SNP Slot") == ahead
	assert naming.sequences_behind() == ["SNP Slot"]
	naming.ensure_sequences()  # DDL: commits; the renamed slot is removed below
	try:
		assert naming.sequences_behind() == []
		assert int(make_slot(professional, future_start(42, 10)).name.rsplit("-", 1)[1]) == ahead + 1
	finally:
		frappe.db.rollback()
		frappe.db.delete("SNP Slot", {"professional": professional})
		frappe.db.delete("SNP Professional", professional)
		frappe.db.commit()


def test_concurrent_inserts_do_not_wait_for_each_other_to_commit():
	"""With Frappe's shared counter a second insert waited for the first transaction to commit; a sequence
	hands out its number at once, whatever the other transactions do."""
	site, sites_path = frappe.local.site, frappe.local.sites_path
	names, errors = [], []
	first_has_a_name, second_done = threading.Event(), threading.Event()

	def insert(wait_for=None, then=None):
		frappe.init(site=site, sites_path=sites_path)
		frappe.connect()
		try:
			frappe.set_user("Administrator")
			frappe.local.lang = "fr"
			doc = frappe.get_doc(
				{
					"doctype": "SNP Call",
					"received_at": now_datetime(),
					"caller_type": "Patient",
					"outcome": "Advice given",
				}
			).insert()
			names.append(doc.name)
			if then:
				then.set()
			if wait_for:
				# keep the transaction open until the other insert is done (or 10 s)
				assert wait_for.wait(10), "the other insert waited for this transaction"
			frappe.db.rollback()
		except Exception as e:  # reported below
			errors.append(e)
		finally:
			frappe.destroy()

	first = threading.Thread(target=insert, kwargs={"wait_for": second_done, "then": first_has_a_name})
	first.start()
	assert first_has_a_name.wait(20)
	second = threading.Thread(target=insert, kwargs={"then": second_done})
	second.start()
	second.join(20)
	first.join(20)
	assert not errors, errors
	assert len(names) == 2 and names[0] != names[1]
