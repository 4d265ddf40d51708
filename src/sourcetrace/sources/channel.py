"""Channels and hearsay: the channel named around an attribution (Telegram, a tweet,
"told Al-Jazeera") and each attribution's nesting depth."""
from __future__ import annotations

from ..model import Attribution, extent, parent_chain
from .context import _DocContext
from .wordlists import lexicons

def attribution_channel(ctx: _DocContext, a: Attribution) -> tuple[str, str] | None:
    """The channel named around an attribution: its sentence(s) minus its content."""
    lex = lexicons()
    roles = [*a.source, *a.cue, *((a.speaker_span,) if a.speaker_span is not None else ())]
    if not roles:
        return None
    lo = min(s.start for s in roles)
    hi = max(s.end for s in roles)
    start = ctx.sentence_of(lo)[0]
    end = ctx.sentence_of(max(hi - 1, lo))[1]
    if a.parent is not None and 0 <= a.parent < len(ctx.attributions):
        parent = extent(ctx.attributions[a.parent].content)
        if parent is not None:
            start, end = max(start, parent.start), min(end, parent.end)
            if end <= start:
                return None
    chars = list(ctx.text[start:end])
    for s in a.content:
        for k in range(max(s.start, start), min(s.end, end)):
            chars[k - start] = " "
    window = "".join(chars)
    for rx, channel, note in lex.channels:
        hit = rx.search(window)
        if hit is None:
            continue
        if "{outlet}" in channel:
            outlet = hit.group("outlet")
            # keep the outlet as the text writes it
            channel = outlet
        return channel, f"{hit.group(0).strip()!r}: {note}"
    return None


def hearsay_depths(attributions: tuple[Attribution, ...]) -> list[int]:
    """1 + the number of attributions each one is nested in (parent chain)."""
    return [1 + len(parent_chain(attributions, i)) for i in range(len(attributions))]
