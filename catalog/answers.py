"""What the bot says about a procedure: a summary or one aspect, straight from the catalogue."""

from catalog.models import Municipality, Procedure
from foundation import texts


def _bullets(items: list[str]) -> str:
    return "\n".join(f"• {item}" for item in items)


def summary(p: Procedure) -> str:
    d = p.department
    return texts.t(
        "info.summary",
        name=p.name,
        description=p.description,
        cost=p.cost,
        response_time=p.response_time,
        department=d.name,
        address=d.address,
        hours=d.hours,
        modality=", ".join(texts.label("modality", m) for m in p.modality),
    )


def aspect(p: Procedure, which: str) -> str:
    d = p.department
    match which:
        case "requirements":
            if not p.requirements:
                return texts.t("info.no_requirements", name=p.name)
            return texts.t("info.requirements", name=p.name, items=_bullets(p.requirements))
        case "cost":
            return texts.t("info.cost", name=p.name, cost=p.cost)
        case "hours":
            return texts.t("info.hours", department=d.name, hours=d.hours, phone=d.phone)
        case "location":
            return texts.t(
                "info.location",
                name=p.name,
                department=d.name,
                address=d.address,
                phone=d.phone,
                email=d.email,
            )
        case "duration":
            return texts.t("info.duration", name=p.name, response_time=p.response_time)
        case "validity":
            return texts.t("info.validity", name=p.name, validity=p.validity)
        case "online":
            if p.online_url:
                return texts.t("info.online", name=p.name, url=p.online_url)
            return f"{texts.t('info.not_online', name=p.name)}\n{office(p)}"
        case "legal_basis":
            return texts.t("info.legal_basis", name=p.name, items=_bullets(p.legal_basis))
    raise ValueError(f"unknown aspect {which!r}")


def office(p: Procedure) -> str:
    """Where and when the procedure is done in person, with its phone and link: what the bot
    says instead of a dead end."""
    d = p.department
    text = texts.t(
        "info.office", department=d.name, address=d.address, hours=d.hours, phone=d.phone
    )
    if p.online_url:
        text += "\n" + texts.t("info.office_link", url=p.online_url)
    return text


def town_hall(m: Municipality | None) -> str:
    """The municipality's own contact, when no procedure is known."""
    if m is None:
        return ""
    return texts.t("info.town_hall", municipality=m.name, phone=m.phone, website=m.website)
