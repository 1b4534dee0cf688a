import pytest

from cpts_snp.exceptions import InvalidCodeError
from cpts_snp.tests.factories import make_sector


def test_a_sector_keeps_its_insee_and_postal_codes():
	sector = make_sector(insee_code="2a004", postal_code="20000")
	assert sector.insee_code == "2A004"


def test_an_unknown_insee_code_format_is_refused_in_french():
	with pytest.raises(InvalidCodeError, match="Le code INSEE 4414 n'est pas valide"):
		make_sector(insee_code="4414")


def test_a_bad_postal_code_is_refused_in_french():
	with pytest.raises(InvalidCodeError, match="Le code postal 444 n'est pas valide"):
		make_sector(postal_code="444")
