"""Sites set up before SNP Patient: each distinct identity of the bookings (dedup key: normalised phone, birth date
and names) becomes one patient, and the bookings and their calls are linked to it. Run again, it links only the
bookings still without a patient, to the patients already made when their key is the same."""

from cpts_snp.services.naming import ensure_sequences
from cpts_snp.services.patients import link_unlinked_bookings


def execute():
	ensure_sequences()  # SNP Patient's numbering sequence (made after migrate otherwise: too late for this patch)
	link_unlinked_bookings()
