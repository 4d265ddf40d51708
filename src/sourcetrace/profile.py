"""The sourcing profile of one article.

(Minimal version; being completed.)
"""
from __future__ import annotations

from typing import Any


def build_profile(analysis) -> dict[str, Any] | None:
    return None
