"""Building the understander the settings ask for, from a catalogue's procedures."""

from collections.abc import Sequence

from foundation.settings import Settings
from nlu.baseline import BaselineUnderstander
from nlu.pipeline import DefaultUnderstander, Thresholds
from nlu.rasa import RasaUnderstander
from nlu.training import load
from nlu.understanding import ProcedureEntry, Understander


def build(settings: Settings, procedures: Sequence[ProcedureEntry]) -> Understander:
    match settings.nlu.backend:
        case "baseline":
            return BaselineUnderstander(procedures)
        case "rasa":
            return RasaUnderstander(
                settings.rasa.url, settings.rasa.timeout, {p.id for p in procedures}
            )
    thresholds = Thresholds(
        procedure=settings.nlu.procedure_threshold,
        candidate=settings.nlu.candidate_threshold,
        margin=settings.nlu.ambiguity_margin,
    )
    return DefaultUnderstander(
        procedures, load(settings.nlu.data), thresholds, embeddings=settings.nlu.embeddings
    )
