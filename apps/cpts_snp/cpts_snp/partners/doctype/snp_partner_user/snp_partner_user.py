from cpts_snp.permissions import ChildRow


class SNPPartnerUser(ChildRow):
	pass
