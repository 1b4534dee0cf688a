from cpts_snp.permissions import ChildRow


class SNPAbsenceBooking(ChildRow):
	pass
