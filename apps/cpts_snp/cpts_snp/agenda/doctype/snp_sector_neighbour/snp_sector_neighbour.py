from cpts_snp.permissions import ChildRow


class SNPSectorNeighbour(ChildRow):
	pass
