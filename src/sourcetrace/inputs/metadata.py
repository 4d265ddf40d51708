"""Article metadata that survives ingest: field names, outlet and dates.

    canonical_record(record, fields)   a record (JSON object, CSV row) with its fields renamed
                                       to ours (text, title, outlet, date, url)
    apply_defaults(meta, outlet, date) --outlet / --date for inputs that carry neither
    parse_date(value)                  -> (ISO 8601 date or None, warning or None)
    outlet_of(url)                     the registered domain of a URL, the outlet it stands for
    parse_fields(["text=body", ...])   the --field mapping of the command line
    finish(document, options)          a Document with canonical, parsed metadata
    valid_meta(meta), valid_text(s)    metadata as valid Unicode (lone surrogates and NUL
                                       become U+FFFD): applied to every input at the edge

Recognised field names (case-insensitive, first match wins), in FIELD_NAMES:

    text     text, body, content, article, maintext
    title    title, headline
    outlet   outlet, publisher, site, source_name, domain, sitename
    date     date, published, published_at, pubdate
    url      url, link
    id       id, record_id, article_id

An explicit mapping (``--field date=published``) wins over the recognised names.
Dates are parsed with python-dateutil into ISO 8601 (``YYYY-MM-DD``; ``YYYY-MM`` or
``YYYY`` when the input gives no more); the original text is kept in
``meta["date_original"]``. A date that cannot be parsed is never stored as text: the
article keeps no date, ``date_original`` keeps what was written, and the Document
carries a warning that is stored with the article's analysis. Where a record gives
no outlet, the corpus and the claims take the registered domain of its URL (``outlet_of``).
"""
from __future__ import annotations

import dataclasses
import datetime as _dt
import re
from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping

from ..errors import ConfigError

__all__ = ["FIELD_NAMES", "MetaOptions", "apply_defaults", "canonical_record", "finish", "outlet_of",
           "parse_date", "parse_fields", "fields_help", "valid_meta", "valid_text"]

#: our field -> the input field names recognised for it, in order of preference
FIELD_NAMES: dict[str, tuple[str, ...]] = {
    "text": ("text", "body", "content", "article", "maintext"),
    "title": ("title", "headline"),
    "outlet": ("outlet", "publisher", "site", "source_name", "domain", "sitename"),
    "date": ("date", "published", "published_at", "pubdate"),
    "url": ("url", "link"),
    "id": ("id", "record_id", "article_id"),
}

_PARTIAL = re.compile(r"\A\s*(\d{4})(?:[-/.](\d{1,2}))?\s*\Z")
_D1 = _dt.datetime(2001, 1, 1)
_D2 = _dt.datetime(2002, 2, 2)


_SURROGATE = re.compile("[\ud800-\udfff]")


def valid_text(value: str) -> str:
    """``value`` as valid Unicode: a lone surrogate (``"\\udc80"`` from a JSON escape or
    undecodable bytes) becomes U+FFFD, a surrogate pair the character it stands for, a
    NUL (no store keeps one) U+FFFD; any other text is given back unchanged."""
    if _SURROGATE.search(value):
        value = value.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")
    return value.replace("\x00", "\ufffd") if "\x00" in value else value


def valid_meta(meta: Mapping[str, Any]) -> dict[str, Any]:
    """Metadata whose every key and string value (in lists and objects too) is valid
    Unicode (``valid_text``), so that every store, JSON writer and terminal takes it."""
    def clean(value: Any) -> Any:
        if isinstance(value, str):
            return valid_text(value)
        if isinstance(value, dict):
            return {clean(k): clean(v) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return type(value)(clean(v) for v in value)
        return value

    return {clean(k): clean(v) for k, v in meta.items()}


def fields_help() -> str:
    """One line per field, for `ingest --help` and the README."""
    return "; ".join(f"{k}: {', '.join(v)}" for k, v in FIELD_NAMES.items())


@dataclass(frozen=True)
class MetaOptions:
    """How an input's metadata is read: ``fields`` maps our field (text, title, outlet,
    date, url, id) to the input's field name; ``outlet`` and ``date`` are given to
    articles that carry none; ``dayfirst`` reads 09/12/2016 as 9 December."""

    fields: Mapping[str, str] = field(default_factory=dict)
    outlet: str | None = None
    date: str | None = None
    dayfirst: bool = False

    def __post_init__(self) -> None:
        unknown = sorted(set(self.fields) - set(FIELD_NAMES))
        if unknown:
            raise ConfigError(f"unknown field {unknown[0]!r} in the field mapping",
                              hint=f"map one of {', '.join(FIELD_NAMES)}, e.g. --field text=body")
        if self.date is not None:
            iso, warning = parse_date(self.date, dayfirst=self.dayfirst)
            if iso is None:
                raise ConfigError(f"--date {self.date!r} is not a date",
                                  hint="give YYYY-MM-DD (or another unambiguous date)")


def parse_fields(pairs: Iterable[str]) -> dict[str, str]:
    """``["text=body", "date=published"]`` -> ``{"text": "body", "date": "published"}``."""
    out: dict[str, str] = {}
    for pair in pairs:
        ours, sep, theirs = pair.partition("=")
        ours, theirs = ours.strip().lower(), theirs.strip()
        if not sep or not ours or not theirs:
            raise ConfigError(f"--field {pair!r} is not FIELD=NAME",
                              hint="e.g. --field text=body --field date=published")
        if ours not in FIELD_NAMES:
            raise ConfigError(f"--field {pair!r}: unknown field {ours!r}",
                              hint=f"map one of {', '.join(FIELD_NAMES)}")
        out[ours] = theirs
    return out


def _find(record: Mapping[str, Any], name: str) -> str | None:
    if name in record:
        return name
    lower = name.lower()
    return next((k for k in record if isinstance(k, str) and k.strip().lower() == lower), None)


def canonical_record(record: Mapping[str, Any], fields: Mapping[str, str] | None = None
                     ) -> dict[str, Any]:
    """``record`` with the fields it names for text, title, outlet, date, url and id under
    our names (the explicit ``fields`` first, then FIELD_NAMES); other fields are kept as
    they are. The input's own name of each renamed field is kept in ``<field>_field``
    when it differs, so that nothing is lost."""
    out = dict(record)
    fields = fields or {}
    for ours, names in FIELD_NAMES.items():
        wanted = (fields[ours],) if ours in fields else names
        key = next((k for k in (_find(record, n) for n in wanted) if k is not None
                    and record.get(k) not in (None, "")), None)
        if key is None:
            continue
        if key != ours:
            value = out.pop(key)
            if ours in out and out[ours] not in (None, ""):
                out.setdefault(f"{ours}_input", out[ours])
            out[ours] = value
            out[f"{ours}_field"] = key
    return out


def outlet_of(url: str | None) -> str | None:
    """The registered domain of a URL ("https://www.bbc.co.uk/..." -> "bbc.co.uk"), or None."""
    if not url:
        return None
    try:
        from courlan import extract_domain

        return extract_domain(url) or None
    except Exception:  # courlan raises on malformed URLs in several ways
        return None


def parse_date(value: Any, *, dayfirst: bool = False) -> tuple[str | None, str | None]:
    """(ISO 8601 date, None) or (None, a warning). ``YYYY`` and ``YYYY-MM`` stay partial;
    a date with no year is refused (it cannot be placed)."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None, None
    if isinstance(value, (_dt.date, _dt.datetime)):
        return value.strftime("%Y-%m-%d"), None
    text = str(value).strip()
    m = _PARTIAL.match(text)
    if m:
        year, month = int(m.group(1)), m.group(2)
        if month is None:
            return f"{year:04d}", None
        if 1 <= int(month) <= 12:
            return f"{year:04d}-{int(month):02d}", None
    from dateutil import parser

    try:
        a = parser.parse(text, default=_D1, dayfirst=dayfirst)
        b = parser.parse(text, default=_D2, dayfirst=dayfirst)
    except (ValueError, OverflowError, TypeError):
        return None, f"date {text[:80]!r} could not be read: the article is stored without a date"
    if a.year != b.year:
        return None, f"date {text[:80]!r} has no year: the article is stored without a date"
    if a.month != b.month:
        return f"{a.year:04d}", None
    if a.day != b.day:
        return f"{a.year:04d}-{a.month:02d}", None
    return a.strftime("%Y-%m-%d"), None


def apply_defaults(meta: dict[str, Any], options: MetaOptions) -> dict[str, Any]:
    """--outlet and --date for an article that carries neither."""
    if options.outlet and not _filled(meta.get("outlet")):
        meta["outlet"] = options.outlet
        meta["outlet_from"] = "option"
    if options.date and not _filled(meta.get("date")):
        meta["date"] = options.date
    return meta


def _filled(value: Any) -> bool:
    return value is not None and (not isinstance(value, str) or bool(value.strip()))


def finish(document: Any, options: MetaOptions | None = None, *, record: bool = False) -> Any:
    """A Document whose metadata uses our names, with the defaults of ``options`` and the
    date parsed (original kept; a warning when it cannot be read). ``record``: the
    metadata came from a record or a CSV row, so a field named outlet there is the
    outlet the user gave (it wins over the URL's domain)."""
    options = options or MetaOptions()
    meta = canonical_record(document.meta, options.fields) if record else dict(document.meta)
    if record and _filled(meta.get("outlet")):
        meta["outlet_from"] = f"field:{meta.get('outlet_field', 'outlet')}"
    apply_defaults(meta, options)
    warnings = list(document.warnings)
    raw = meta.get("date")
    if _filled(raw) and "date_original" not in meta:
        iso, warning = parse_date(raw, dayfirst=options.dayfirst)
        meta["date_original"] = raw if isinstance(raw, str) else str(raw)
        if iso is None:
            meta.pop("date", None)
            if warning:
                warnings.append(warning)
        else:
            meta["date"] = iso
    return dataclasses.replace(document, meta=meta, warnings=tuple(warnings))
