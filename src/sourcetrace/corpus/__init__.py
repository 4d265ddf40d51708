"""The corpus: many articles analysed, stored and exported.

    runner    ``ingest``: collect -> analyse (local workers or Ray) -> store, resumable,
              idempotent by content hash, failures recorded; ``export`` of the corpus
    extract   ``extract_file``: spans only, one JSON line a record (the scorer's format)
    store/    the Store protocol and its backends (SQLite default, PostgreSQL, memory)
"""
