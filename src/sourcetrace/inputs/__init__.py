"""Inputs: everything that turns what a user gives into ``read.Document`` records.

    fetch     one URL over HTTP(S), with size caps, timeouts and the address checks
    read      one article: a string, bytes, a file path, a URL or "-" (stdin) -> Document
    collect   many articles: folders, JSON lines, CSV, WARC, feeds, URL lists -> Collected
    clean     boilerplate lines (aggregator residue) marked, never rewritten

Nothing here runs spaCy; the pipeline (pipeline.py) takes the Documents from here.
"""
