"""Who writes: synthetic citizens with valid CURPs, their chat identities and conversations.

Identities come in blocks of `BLOCK` with a fixed pattern, so that the channel and the citizen
of identity `k` are arithmetic, not stored: 55 % WhatsApp, 25 % web, 20 % Telegram; 12 of 20
gave a CURP, 2 more are a second chat of one of those citizens (Cuenta Única Ciudadana), 6
never identified themselves. Identity `k` first wrote at position `k / count` of all activity,
so any moment can pick among the identities that existed by then.
"""

import random
from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
from stdnum.mx import curp as stdnum_curp

from bot.channels.registry import NAMES

# (channel, the block slot of the citizen it belongs to or None)
PATTERN: tuple[tuple[str, int | None], ...] = (
    ("whatsapp", 0), ("web", 1), ("telegram", 2), ("whatsapp", 3), ("whatsapp", None),
    ("web", 0), ("whatsapp", 4), ("whatsapp", 5), ("telegram", None), ("web", 6),
    ("whatsapp", 7), ("whatsapp", None), ("telegram", 8), ("whatsapp", 9), ("web", None),
    ("whatsapp", 10), ("telegram", 3), ("whatsapp", None), ("web", 11), ("whatsapp", None),
)  # fmt: skip
BLOCK = len(PATTERN)
CITIZENS_PER_BLOCK = 12
# The position in the block where each citizen slot first appears (its first chat).
FIRST_POSITION = tuple(
    next(i for i, (_, slot) in enumerate(PATTERN) if slot == s) for s in range(CITIZENS_PER_BLOCK)
)
CHANNELS = NAMES  # the channel registry's names; a name in PATTERN must be registered
CHANNEL_OF = np.array([CHANNELS.index(channel) for channel, _ in PATTERN])
SLOT_OF = np.array([-1 if slot is None else slot for _, slot in PATTERN])

FIRST_NAMES = (
    "María", "José", "Guadalupe", "Juan", "Ana", "Luis", "Rosa", "Carlos", "Verónica",
    "Miguel", "Patricia", "Jorge", "Alejandra", "Francisco", "Leticia", "Jesús", "Gabriela",
    "Antonio", "Claudia", "Fernando", "Daniela", "Ricardo", "Sofía", "Eduardo", "Fernanda",
)  # fmt: skip
SURNAMES = (
    "Hernández", "García", "Martínez", "López", "González", "Pérez", "Rodríguez", "Sánchez",
    "Ramírez", "Cruz", "Flores", "Gómez", "Morales", "Vázquez", "Reyes", "Jiménez", "Torres",
    "Díaz", "Gutiérrez", "Ruiz", "Mendoza", "Aguilar", "Ortiz", "Moreno", "Castillo",
)  # fmt: skip
STATES = ("GT",) * 14 + ("MC", "JC", "QT", "MN", "SP", "DF")
CONSONANTS = "BCDFGHJKLMNPQRSTVWXYZ"
VOWELS = "AEIOU"
BIRTH_FIRST = date(1945, 1, 1)
BIRTH_DAYS = (date(2007, 12, 31) - BIRTH_FIRST).days + 1
# CURPs are made unique by a bijection of the citizen id onto (birth date, inner consonants).
_SPACE = BIRTH_DAYS * len(CONSONANTS) ** 3
_MULTIPLIER = 2_654_435_761  # prime, does not divide _SPACE


def synthetic_curp(citizen_id: int, rng: random.Random) -> str:
    """A CURP that python-stdnum accepts (format, birth date, state, check digit), different
    for every citizen id below about 2·10⁸."""
    scrambled = (citizen_id * _MULTIPLIER + 12_345) % _SPACE
    day, inner = divmod(scrambled, len(CONSONANTS) ** 3)
    born = BIRTH_FIRST + timedelta(days=day)
    c1, rest = divmod(inner, len(CONSONANTS) ** 2)
    c2, c3 = divmod(rest, len(CONSONANTS))
    initials = (
        rng.choice("BCGHMRLPSTVDFJAEO")
        + rng.choice(VOWELS)
        + rng.choice("BCGHMRLPSTVDFJAEOZ")
        + rng.choice("AJMLGRFCESVDP")
    )
    if initials in stdnum_curp._name_blacklist:  # the rule RENAPO applies: X in second place
        initials = initials[0] + "X" + initials[2:]
    differentiator = (
        str(rng.randrange(10)) if born.year < 2000 else rng.choice("ABCDEFGHIJKLMNPQRSTUVWXYZ")
    )
    first17 = (
        f"{initials}{born:%y%m%d}{rng.choice('HM')}{rng.choice(STATES)}"
        f"{CONSONANTS[c1]}{CONSONANTS[c2]}{CONSONANTS[c3]}{differentiator}"
    )
    return first17 + stdnum_curp.calc_check_digit(first17)


@dataclass(frozen=True)
class People:
    """`count` identities (a multiple of BLOCK), each with its one conversation; ids follow
    `identity_base`, `conversation_base`, `citizen_base` (the largest id already used)."""

    count: int
    identity_base: int
    conversation_base: int
    citizen_base: int

    @classmethod
    def sized(cls, wanted: int, identity: int, conversation: int, citizen: int) -> "People":
        return cls(max(BLOCK, -(-wanted // BLOCK) * BLOCK), identity, conversation, citizen)

    @property
    def citizens(self) -> int:
        return self.count // BLOCK * CITIZENS_PER_BLOCK

    def pick(self, rng: np.random.Generator, position: np.ndarray, citizen: bool) -> np.ndarray:
        """For activity at these positions, an identity index that already existed; with
        `citizen`, one that gave a CURP (the first chat of a citizen of its block)."""
        existing = np.maximum(1, np.ceil(position * self.count)).astype(np.int64)
        chosen = np.minimum((rng.random(len(position)) * existing).astype(np.int64), existing - 1)
        if citizen:  # every anonymous position follows one that gave a CURP
            chosen = np.where(SLOT_OF[chosen % BLOCK] < 0, chosen - 1, chosen)
        return chosen

    def channel(self, index: np.ndarray) -> np.ndarray:
        """Index into CHANNELS."""
        return CHANNEL_OF[index % BLOCK]

    def citizen_id(self, index: np.ndarray) -> np.ndarray:
        """The citizen id, or 0 for an identity that never gave a CURP."""
        slot = SLOT_OF[index % BLOCK]
        ids = self.citizen_base + index // BLOCK * CITIZENS_PER_BLOCK + slot + 1
        return np.where(slot < 0, 0, ids)

    def citizen_identity(self, citizen_index: np.ndarray) -> np.ndarray:
        """The identity index of each citizen's first chat."""
        block, slot = np.divmod(citizen_index, CITIZENS_PER_BLOCK)
        return block * BLOCK + np.array(FIRST_POSITION)[slot]

    def address(self, channel: str, identity_id: int, rng: random.Random) -> str:
        if channel == "whatsapp":
            return f"52{4_770_000_000 + identity_id}"  # Guanajuato numbers, one per identity
        if channel == "telegram":
            return str(6_000_000_000 + identity_id)
        return f"{rng.getrandbits(96):024x}{identity_id:08x}"

    @staticmethod
    def display_name(channel: str, rng: random.Random) -> str | None:
        if channel == "web":
            return None
        name = rng.choice(FIRST_NAMES)
        return name if rng.random() < 0.4 else f"{name} {rng.choice(SURNAMES)}"
