"""Unattributed assertions: what the outlet states in its own voice.

(Minimal version; being completed.)
"""
from __future__ import annotations

from .model import Assertion


def find_assertions(doc, attributions, boilerplate) -> tuple[Assertion, ...]:
    return ()
