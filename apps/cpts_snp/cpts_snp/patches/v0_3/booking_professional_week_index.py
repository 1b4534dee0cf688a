"""Sites created before the index on SNP Booking (professional, slot start) get it."""

from cpts_snp.agenda.doctype.snp_booking.snp_booking import on_doctype_update


def execute():
	on_doctype_update()
