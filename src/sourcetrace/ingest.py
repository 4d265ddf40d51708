"""Input: a path, a URL, stdin or a string -> ingest.Document (text + metadata).

(Minimal version; the input stage is being completed: HTML via trafilatura,
.json/.jsonl records, URLs, and the bad-input checks.)
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .config import DEFAULT, Config
from .errors import EmptyInputError


@dataclass(frozen=True)
class Document:
    """An article ready for analysis: ``text`` is what every offset points into."""

    text: str
    meta: dict[str, Any] = field(default_factory=dict, hash=False)
    warnings: tuple[str, ...] = ()


def from_string(data: str | bytes, *, config: Config = DEFAULT,
                meta: dict[str, Any] | None = None) -> Document:
    text = data.decode("utf-8") if isinstance(data, bytes) else data
    if not text.strip():
        raise EmptyInputError("the input is empty", hint="give an article's text or HTML")
    return Document(text=text, meta=dict(meta or {}))


def load(target: str, *, config: Config = DEFAULT) -> Document:
    with open(target, "rb") as f:
        return from_string(f.read(), config=config, meta={"path": target})
