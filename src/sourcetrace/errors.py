"""Exceptions raised by sourcetrace. Every message says what to do next.

    SourcetraceError                 base: catch this to handle any of ours
    ├── InputError                   the input cannot be analysed
    │   ├── EmptyInputError          nothing but whitespace / no article text
    │   ├── BinaryInputError         not text (an image, a PDF, a zip, ...)
    │   ├── EncodingError            bytes that decode in no known encoding
    │   ├── InputTooLargeError       over the configured size cap
    │   ├── UnsupportedLanguageError the text is not English
    │   ├── RecordError              a .json/.jsonl record without a text field
    │   └── DocumentTimeoutError     one document took longer than Config.time_budget
    ├── FetchError                   a URL could not be fetched (dead, timeout, HTTP error)
    │   └── BlockedAddressError      a private/loopback/link-local address, refused by policy
    ├── ModelError                   the spaCy pipeline or a trained model is missing/broken
    ├── StoreError                   the corpus store failed (bad path, schema, connection)
    │   └── ClaimsChangedError       claims were stored by another writer meanwhile (caught
    │                                and retried by crossoutlet.corroboration, never shown)
    └── ConfigError                  an option has an invalid value
"""
from __future__ import annotations


class SourcetraceError(Exception):
    """Base class of every error sourcetrace raises on purpose."""

    code = "error"

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return f"{self.message} ({self.hint})" if self.hint else self.message


class InputError(SourcetraceError):
    code = "bad_input"


class EmptyInputError(InputError):
    code = "empty_input"


class BinaryInputError(InputError):
    code = "binary_input"


class EncodingError(InputError):
    code = "bad_encoding"


class InputTooLargeError(InputError):
    code = "input_too_large"


class UnsupportedLanguageError(InputError):
    code = "unsupported_language"


class RecordError(InputError):
    code = "bad_record"


class DocumentTimeoutError(InputError):
    code = "timeout"


class FetchError(SourcetraceError):
    code = "fetch_failed"


class BlockedAddressError(FetchError):
    code = "blocked_address"


class ModelError(SourcetraceError):
    code = "model_error"


class StoreError(SourcetraceError):
    code = "store_error"


class ClaimsChangedError(StoreError):
    """A claim batch was refused because another writer stored one since the writer
    last read them (``Store.add_claim_batch(after=)``): read the new ones, match
    against them too, and write again."""

    code = "claims_changed"


class ConfigError(SourcetraceError):
    code = "bad_config"


def os_reason(exc: BaseException) -> str:
    """The cause of an OSError in words a user can act on: a full disk (or quota) is
    "disk full", anything else its system message."""
    import errno

    if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, getattr(errno, "EDQUOT", -1)):
        return "disk full (no space left on the device): free some space and run it again"
    if isinstance(exc, OSError):
        return exc.strerror or str(exc)
    return str(exc)
