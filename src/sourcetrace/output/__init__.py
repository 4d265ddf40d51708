"""Output for one article: the renderers of an Analysis.

    formats   the format names and ``write``: json, jsonl, brat, text, html
    text      the terminal view (highlighted article and tables, through rich)
    html      the self-contained HTML view (also the web UI's fragment and Jupyter's view)

The corpus's own exports (JSON lines, CSV, Parquet) live in corpus/.
"""
