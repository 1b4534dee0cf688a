from cpts_snp.permissions import ChildRow


class SNPDataSubjectRecord(ChildRow):
	"""A record found for a data subject request (cpts_snp.services.privacy.search)."""
