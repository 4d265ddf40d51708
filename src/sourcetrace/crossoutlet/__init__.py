"""Across outlets: the same claim in many articles, who carried it first, and how far it
is corroborated. Reads the corpus through the store interface only.

    claims         the claims of one analysed article (attributed contents, assertions)
    embed          the packaged sentence-embedding model (int8 ONNX, no torch)
    match          candidate claims from an HNSW index, checked on numbers, dates,
                   negation and names, scored
    syndication    near-duplicate articles (MinHash LSH): syndicated copies, one voice
    corroboration  clusters of matched claims, first appearance, relay chains, counts
"""
