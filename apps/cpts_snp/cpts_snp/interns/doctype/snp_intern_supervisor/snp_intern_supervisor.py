from cpts_snp.permissions import ChildRow


class SNPInternSupervisor(ChildRow):
	pass
