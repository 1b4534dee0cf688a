from cpts_snp.indemnities.immutability import refuse
from cpts_snp.permissions import ChildRow


class SNPRunExclusion(ChildRow):
	"""Written by the run's computation: never changed on its own (REST on the child doctype)."""

	def validate(self):
		refuse(self)

	def on_trash(self):
		refuse(self)
