"""The masking of comments on its corpus: leaks, over-masking and speed.

Masks every comment of tests/data/privacy_corpus.yml: the pieces of personal data left
(`leaks`, checked as tests/test_masking.py does), the share of comments without personal data
that came out changed (`over_masked`), and the time per comment, on the corpus and on long
comments (1,000 characters, the most a survey comment keeps). Prints one JSON line.

    uv run python benchmarks/masking.py [--repeat 200]
"""

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from casework.privacy.masking import mask_personal_data  # noqa: E402
from tests.test_masking import INNOCUOUS, PERSONAL, leaked  # noqa: E402


def microseconds(texts: list[str], repeat: int) -> float:
    began = time.perf_counter()
    for _ in range(repeat):
        for text in texts:
            mask_personal_data(text, ("Ana Torres Ruiz", None))
    return round((time.perf_counter() - began) / (repeat * len(texts)) * 1e6, 1)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=200)
    args = parser.parse_args()
    pieces = [(e, p) for e in PERSONAL for p in e["leaks"]]
    leaks = [p for e, p in pieces if leaked(mask_personal_data(e["text"], e.get("names", ())), p)]
    changed = [t for t in INNOCUOUS if mask_personal_data(t) != t]
    corpus = [e["text"] for e in PERSONAL] + INNOCUOUS
    long = [(t + " ") * (1000 // (len(t) + 1)) for t in corpus[::10]]
    report = {
        "benchmark": "masking",
        "personal_comments": len(PERSONAL),
        "pieces": len(pieces),
        "leaks": len(leaks),
        "innocuous_comments": len(INNOCUOUS),
        "over_masked": len(changed),
        "over_masked_share": round(len(changed) / len(INNOCUOUS), 3),
        "us_per_comment": microseconds(corpus, args.repeat),
        "us_per_1000_chars": microseconds(long, max(args.repeat // 10, 1)),
    }
    print(json.dumps(report))


if __name__ == "__main__":
    main()
