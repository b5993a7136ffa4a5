"""Finding what citizens write in their own words: an address inside a longer message."""

import pytest

from bot.cues import find_address


@pytest.mark.parametrize(
    ("text", "address"),
    [
        ("calle Abasolo 18 col San Juan", "calle Abasolo 18 col San Juan"),
        ("hay un bache en av juarez 120 col centro", "av juarez 120 col centro"),
        ("calle 5 de mayo 230", "calle 5 de mayo 230"),
        # announced without a street word
        ("se fundio la lampara d mi calle, esta en hidalgo 23", "hidalgo 23"),
        ("queda en Hidalgo 23 col centro", "Hidalgo 23 col centro"),
        ("mi domicilio es Morelos 45", "Morelos 45"),
        ("está en Reforma 7", "Reforma 7"),
    ],
)
def test_an_address_is_found_inside_the_message(text: str, address: str) -> None:
    assert find_address(text) == address


@pytest.mark.parametrize(
    "text",
    [
        "esta en frente de la escuela",  # no number to go to
        "el bache esta en 2 lugares",  # no street name before the number
        "la calle tiene un bache desde hace 3 dias",  # a number that counts days
        "el poste esta en la entrada desde hace 3 semanas",
        "en la calle hay 4 baches",
        "calle hidalgo, llamen al 4151234567",  # a phone, not a house number
    ],
)
def test_no_address_is_made_up(text: str) -> None:
    assert find_address(text) is None
