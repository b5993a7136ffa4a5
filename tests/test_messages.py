"""The channel-neutral message shapes: what the inbox stores comes back the same."""

from foundation.messages import Inbound, Location


def test_an_inbound_message_round_trips_through_its_stored_form() -> None:
    sent = Inbound(
        "whatsapp",
        "5214421234567",
        kind="location",
        external_id="wamid.1",
        location=Location(20.5, -100.4, "Jardín Principal"),
        display_name="Ana",
    )

    stored = sent.as_dict()

    assert "raw" not in stored
    assert Inbound.from_dict(stored) == sent


def test_a_payload_stored_by_an_older_version_with_raw_is_still_read() -> None:
    stored = {
        "channel": "whatsapp",
        "address": "5214421234567",
        "text": "hola",
        "kind": "text",
        "external_id": "wamid.2",
        "location": None,
        "media": None,
        "display_name": None,
        "raw": {"from": "5214421234567", "type": "text"},
    }

    message = Inbound.from_dict(stored)

    assert message == Inbound("whatsapp", "5214421234567", text="hola", external_id="wamid.2")
