"""Office hours written as catalogue text ("Lunes a viernes de 8:30 a 15:00 h; sábados de 9:00
a 13:00 h") read into something a program can check against the clock.

Only the first part of the text (before the first ";") counts: that is the office itself; what
follows usually describes another unit or an emergency line. Text that cannot be read gives
None, and callers then treat the office as open rather than turn a citizen away by mistake.
"""

import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime, time

from foundation.calendar import is_business_day, local

DAYS = {"lunes": 0, "martes": 1, "miercoles": 2, "jueves": 3, "viernes": 4, "sabado": 5}
DAYS["domingo"] = 6
_DAY = r"(lunes|martes|miercoles|jueves|viernes|sabado|domingo)s?"
_TIME = r"(\d{1,2})(?::(\d{2}))?"
_SPAN = re.compile(rf"{_DAY}(?:\s+a\s+{_DAY})?\s+(?:de\s+)?{_TIME}\s*a\s*{_TIME}")


@dataclass(frozen=True)
class Span:
    days: frozenset[int]  # 0 = Monday
    opens: time
    closes: time


@dataclass(frozen=True)
class OpeningHours:
    spans: tuple[Span, ...]

    def is_open(self, at: datetime) -> bool:
        """Whether `at` (any time zone) falls in a span on a day that is not a holiday."""
        moment = local(at)
        if moment.weekday() < 5 and not is_business_day(moment.date()):
            return False  # an official holiday on a weekday
        return any(
            moment.weekday() in span.days and span.opens <= moment.time() < span.closes
            for span in self.spans
        )


def parse_hours(text: str) -> OpeningHours | None:
    folded = unicodedata.normalize("NFKD", text.casefold()).encode("ascii", "ignore").decode()
    office = folded.split(";", 1)[0]
    spans = []
    for match in _SPAN.finditer(office):
        first, last, h1, m1, h2, m2 = match.groups()
        start, end = DAYS[first], DAYS[last or first]
        days = frozenset(range(start, end + 1)) if start <= end else frozenset()
        if not days or int(h1) > 23 or int(h2) > 24:
            continue
        closes = time(23, 59, 59) if int(h2) == 24 else time(int(h2), int(m2 or 0))
        spans.append(Span(days, time(int(h1), int(m1 or 0)), closes))
    return OpeningHours(tuple(spans)) if spans else None
