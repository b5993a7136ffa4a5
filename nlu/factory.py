"""Building the understander the settings ask for, from a catalogue's procedures."""

from collections.abc import Sequence

from foundation.settings import Settings
from nlu.baseline import BaselineUnderstander
from nlu.pipeline import DefaultUnderstander, Thresholds
from nlu.rasa import RasaUnderstander
from nlu.training import load
from nlu.understanding import ProcedureEntry, Understander


def build(settings: Settings, procedures: Sequence[ProcedureEntry]) -> Understander:
    match settings.nlu_backend:
        case "baseline":
            return BaselineUnderstander(procedures)
        case "rasa":
            return RasaUnderstander(
                settings.rasa_url, settings.rasa_timeout, {p.id for p in procedures}
            )
    thresholds = Thresholds(
        procedure=settings.nlu_procedure_threshold,
        candidate=settings.nlu_candidate_threshold,
        margin=settings.nlu_ambiguity_margin,
    )
    return DefaultUnderstander(
        procedures, load(settings.nlu_data), thresholds, embeddings=settings.nlu_embeddings
    )
