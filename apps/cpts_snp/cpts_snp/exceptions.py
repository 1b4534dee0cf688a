"""Typed refusals of the app: each is a ValidationError, so the desk and the API show its translated message."""

import frappe


class InvalidRPPSError(frappe.ValidationError):
	pass


class InvalidPhoneError(frappe.ValidationError):
	pass


class InvalidCodeError(frappe.ValidationError):
	pass


class InvalidDurationError(frappe.ValidationError):
	pass


class SlotOverlapError(frappe.ValidationError):
	pass


class InactiveProfessionalError(frappe.ValidationError):
	pass


class SlotLockedError(frappe.ValidationError):
	"""A slot with a booking cannot be moved, withdrawn or deleted."""


class SlotUnavailableError(frappe.ValidationError):
	"""The slot was taken (or withdrawn) before this booking."""


class InvalidStatusChangeError(frappe.ValidationError):
	pass


class UnknownCommuneError(frappe.ValidationError):
	"""What the caller typed matches no sector of the CPTS."""


class InvalidBankDetailsError(frappe.ValidationError):
	pass


class WithdrawalTooLateError(frappe.ValidationError):
	"""A doctor withdraws a free slot himself only up to 24 hours before it."""


class PaymentRunError(frappe.ValidationError):
	pass


class PartnerAccessError(frappe.PermissionError):
	"""A partner user acts beyond his partner's access (view-only, outside its access period, no partner)."""


class PartnerRateLimitError(frappe.RateLimitExceededError):
	"""A partner user sent more requests to the partner API than his partner's limit per minute."""


class SupervisionError(frappe.ValidationError):
	"""A SASPAS intern works only while one of his supervisors is reachable, within his semester and caps."""


class PermanenceSwapError(frappe.ValidationError):
	pass


class InvalidNameError(frappe.ValidationError):
	"""A person's or organisation's name holding markup (`<`, `>`)."""


class InvalidINSError(frappe.ValidationError):
	"""An INS matricule whose shape or key is wrong."""


class DuplicatePatientError(frappe.ValidationError):
	"""Another patient record has the same identity (name, date of birth, phone)."""


class MergeError(frappe.ValidationError):
	"""Two patient records that cannot be merged (the same one, or one already merged)."""


class MeetingError(frappe.ValidationError):
	"""A meeting whose duration, participants or attendance breaks its rules (cpts_snp.services.meetings)."""


class DataRequestError(frappe.ValidationError):
	"""A data subject request (RGPD) that cannot be searched, exported or erased as asked."""
