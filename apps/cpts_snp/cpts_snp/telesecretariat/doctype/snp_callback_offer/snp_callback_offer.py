from cpts_snp.permissions import ChildRow


class SNPCallbackOffer(ChildRow):
	pass
