from cpts_snp.permissions import ChildRow


class SNPBridgeDay(ChildRow):
	pass
