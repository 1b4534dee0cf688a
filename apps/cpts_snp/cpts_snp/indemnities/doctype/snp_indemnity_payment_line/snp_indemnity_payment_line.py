from cpts_snp.indemnities.immutability import refuse
from cpts_snp.permissions import ChildRow


class SNPIndemnityPaymentLine(ChildRow):
	"""A line of a payment, written by the run's computation: never changed on its own (REST on the child)."""

	def validate(self):
		refuse(self)

	def on_trash(self):
		refuse(self)
