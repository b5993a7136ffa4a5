"""A public Rasa NLU dataset in Spanish as (text, intent) pairs, for measuring FAQ intents.

Reads one Rasa NLU training file, in Rasa's YAML format (`version: "3.x"`, `nlu:` with
`- intent: NAME` and `examples: |`) or in the Markdown format of Rasa 1.x (`## intent:NAME`
followed by `- example` lines, plus `## synonym:`, `## regex:` and `## lookup:` sections), and
prints its counts as one JSON line. With `--out FILE.yml` it also writes the data as Rasa YAML
3.1, which `ventanilla nlu train --data` reads.

Cleaning, counted in the JSON line: button payloads (`/intent{...}` lines) are not utterances
and are dropped; an example repeated within an intent is kept once; a Markdown lookup that
names a file (`./data/names.txt`) is dropped, because that file is not part of the one file
read. Entity annotations (`[text](entity)`) are kept in the YAML written and reduced to their
text in the pairs, exactly as `nlu/training.py` reads them.

Which dataset, where it comes from and its licence: `nlu/eval/README.md`. It is never
committed here; a copy lives outside the repository:

    git -C MIRROR show COMMIT:Jarvis/data/es/nlu.md > /tmp/public-rasa-es.md
    uv run python benchmarks/faq_public_dataset.py /tmp/public-rasa-es.md \\
        --out /work/data/public-rasa-es/nlu.yml
"""

import argparse
import json
import re
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import yaml

from nlu.training import parse

KINDS = ("intent", "synonym", "regex", "lookup")
_SECTION = re.compile(r"^##\s*(intent|synonym|regex|lookup)\s*:\s*(.+?)\s*$")
_OTHER_SECTION = re.compile(r"^#{1,6}\s")
_ITEM = re.compile(r"^\s*[-*+]\s+(.*)$")
_COMMENT = re.compile(r"<!--.*?-->", re.S)
_PLAIN = re.compile(r"^[A-Za-z_][\w./ -]*$")


def markdown_document(text: str) -> dict[str, Any]:
    """Rasa 1.x Markdown NLU data as the `nlu:` list of a Rasa YAML document."""
    blocks: list[dict[str, Any]] = []
    current: dict[str, Any] | None = None
    for line in _COMMENT.sub("", text).splitlines():
        section = _SECTION.match(line)
        if section:
            current = {section.group(1): section.group(2), "examples": []}
            blocks.append(current)
        elif _OTHER_SECTION.match(line):
            current = None  # a section of another kind (a story, a title): not NLU data
        elif current is not None and line.strip():
            item = _ITEM.match(line)
            current["examples"].append(item.group(1).strip() if item else line.strip())
    return {"version": "3.1", "nlu": blocks}


def read_document(path: Path) -> tuple[dict[str, Any], str]:
    """The file as a Rasa YAML document, and which format it was written in."""
    text = path.read_text(encoding="utf-8")
    if path.suffix.lower() == ".md" or re.search(r"^##\s*intent\s*:", text, re.M):
        return markdown_document(text), "markdown"
    document = yaml.safe_load(text) or {}
    if not isinstance(document, dict) or not isinstance(document.get("nlu", []), list):
        raise SystemExit(f"{path}: se esperaba un archivo de Rasa con 'nlu:'")
    return document, "yaml"


def _example_lines(block: object) -> list[str]:
    """Examples as strings, from a `|` block, a list of strings or a list of {text: ...}."""
    if isinstance(block, str):
        lines = [line.strip() for line in block.splitlines()]
        return [line[2:].strip() if line.startswith("- ") else line for line in lines if line]
    if isinstance(block, list):
        items = [item.get("text", "") if isinstance(item, dict) else item for item in block]
        return [str(item).strip() for item in items if str(item).strip()]
    return []


def clean(document: dict[str, Any]) -> tuple[list[dict[str, Any]], Counter[str]]:
    """The NLU blocks with examples as lists, payloads, repeats and file lookups removed."""
    dropped: Counter[str] = Counter()
    blocks: list[dict[str, Any]] = []
    for item in document.get("nlu") or []:
        kind = next((k for k in KINDS if isinstance(item, dict) and k in item), None)
        if kind is None:
            continue
        examples: list[str] = []
        for example in _example_lines(item.get("examples", "")):
            if kind == "intent" and example.startswith("/"):
                dropped["payloads"] += 1
            elif example in examples:
                dropped["repeats"] += 1
            else:
                examples.append(example)
        if kind == "lookup" and any(e.endswith(".txt") and " " not in e for e in examples):
            dropped["file_lookups"] += 1
            continue
        if examples:
            blocks.append({kind: str(item[kind]), "examples": examples})
    return blocks, dropped


def _scalar(value: str) -> str:
    plain = _PLAIN.match(value) and yaml.safe_load(value) == value
    return value if plain else json.dumps(value, ensure_ascii=False)


def to_yaml(blocks: list[dict[str, Any]]) -> str:
    """Rasa YAML 3.1 (`examples: |` blocks), as Rasa writes it."""
    lines = ['version: "3.1"', "", "nlu:"]
    for block in blocks:
        kind = next(k for k in KINDS if k in block)
        lines.append(f"- {kind}: {_scalar(block[kind])}")
        lines.append("  examples: |")
        lines.extend(f"    - {example}" for example in block["examples"])
        lines.append("")
    return "\n".join(lines)


def pairs(yaml_text: str) -> list[tuple[str, str]]:
    """(text, intent) pairs, annotations reduced to their text by Ventanilla's own reader."""
    data = parse(yaml_text, "public-rasa-es")
    return [(text, intent) for intent, texts in data.intents.items() for text in texts]


def summary(found: list[tuple[str, str]], blocks: list[dict[str, Any]]) -> dict[str, Any]:
    per_intent = Counter(intent for _, intent in found)
    intents_of: dict[str, set[str]] = {}
    for text, intent in found:
        intents_of.setdefault(text.casefold(), set()).add(intent)
    kinds = Counter(next(k for k in KINDS if k in block) for block in blocks)
    return {
        "intents": len(per_intent),
        "examples": len(found),
        "min_per_intent": min(per_intent.values(), default=0),
        "max_per_intent": max(per_intent.values(), default=0),
        "texts_in_several_intents": sum(len(v) > 1 for v in intents_of.values()),
        "synonyms": kinds["synonym"],
        "regexes": kinds["regex"],
        "lookups": kinds["lookup"],
        "per_intent": dict(sorted(per_intent.items())),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("source", type=Path, help="nlu.yml (Rasa 3.x) or nlu.md (Rasa 1.x)")
    parser.add_argument("--out", type=Path, help="write the data here as Rasa YAML 3.1")
    args = parser.parse_args()

    document, source_format = read_document(args.source)
    blocks, dropped = clean(document)
    yaml_text = to_yaml(blocks)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(yaml_text, encoding="utf-8")
    result = {"source": str(args.source), "format": source_format}
    result |= {f"dropped_{reason}": dropped[reason] for reason in ("payloads", "repeats")}
    result["dropped_file_lookups"] = dropped["file_lookups"]
    result |= summary(pairs(yaml_text), blocks)
    result["out"] = str(args.out) if args.out else None
    json.dump(result, sys.stdout, ensure_ascii=False)
    print()


if __name__ == "__main__":
    main()
