"""Sites set up before: amounts in euros written « 1 234,50 € »."""

from cpts_snp.setup.install import french_euro_format


def execute():
	french_euro_format()
