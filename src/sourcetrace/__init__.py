"""sourcetrace: who says what in the news, and how well each claim is sourced.

    >>> import sourcetrace
    >>> a = sourcetrace.analyze('"We won," Ann Lee said.')
    >>> [(x.cue[0].text, x.speaker) for x in a.attributions]
    [('said', 'Ann Lee')]
"""
from .config import Config
from .errors import (
    BinaryInputError,
    BlockedAddressError,
    ConfigError,
    DocumentTimeoutError,
    EmptyInputError,
    EncodingError,
    FetchError,
    InputError,
    InputTooLargeError,
    ModelError,
    RecordError,
    SourcetraceError,
    StoreError,
    UnsupportedLanguageError,
)
from .model import Analysis, Assertion, Attribution, Source, Span
from .output import html as _notebook_view  # noqa: F401  registers Analysis._repr_html_
from .pipeline import analyze, analyze_documents, analyze_target

__version__ = "0.1.0"

__all__ = [
    "Analysis",
    "Assertion",
    "Attribution",
    "BinaryInputError",
    "BlockedAddressError",
    "Config",
    "ConfigError",
    "DocumentTimeoutError",
    "EmptyInputError",
    "EncodingError",
    "FetchError",
    "InputError",
    "InputTooLargeError",
    "ModelError",
    "RecordError",
    "Source",
    "SourcetraceError",
    "Span",
    "StoreError",
    "UnsupportedLanguageError",
    "analyze",
    "analyze_documents",
    "analyze_target",
]
