from cpts_snp.permissions import ChildRow


class SNPProfessionalSector(ChildRow):
	pass
