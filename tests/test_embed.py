"""The packaged int8 ONNX sentence encoder: offline, no torch, normalised vectors."""
from __future__ import annotations

import sys

import numpy as np
import pytest

from sourcetrace.crossoutlet.embed import DIMENSIONS, MODEL_DIR, Embedder, get_embedder
from sourcetrace.errors import ModelError


@pytest.fixture(scope="session")
def embedder():
    return get_embedder()


def test_embed_model_files_ship_with_license_and_readme():
    for name in ("model.onnx", "tokenizer.json", "LICENSE", "README.md"):
        assert (MODEL_DIR / name).is_file(), name
    assert "Apache License" in (MODEL_DIR / "LICENSE").read_text(encoding="utf-8")
    assert (MODEL_DIR / "model.onnx").stat().st_size < 26_000_000


def test_embed_vectors_are_unit_length(embedder):
    v = embedder.encode(["Some 300 Russian troops refused to obey orders.", "It rained."])
    assert v.shape == (2, DIMENSIONS) and v.dtype == np.float32
    assert np.allclose(np.linalg.norm(v, axis=1), 1.0, atol=1e-4)


def test_embed_paraphrases_are_closer_than_other_topics(embedder):
    a, b, c = embedder.encode([
        "Some 300 Russian troops refused to obey orders near Avdiivka.",
        "About 300 Russian soldiers would not follow commands near Avdiivka.",
        "The central bank raised interest rates by a quarter point.",
    ])
    assert a @ b > 0.75 > a @ c


def test_embed_a_text_gets_the_same_vector_whatever_comes_with_it(embedder):
    texts = ["short", "a somewhat longer sentence about troops and orders", "mid length text"]
    alone = np.vstack([embedder.encode([t]) for t in texts])
    together = embedder.encode(list(reversed(texts)))[::-1]
    assert np.allclose(alone, together, atol=1e-5)


def test_embed_batches_stay_close_to_single_texts(embedder):
    texts = ["short", "a somewhat longer sentence about troops and orders", "mid length text"]
    single = embedder.encode(texts)
    batched = embedder.encode(texts, batch_size=8)
    assert (single * batched).sum(axis=1).min() > 0.97


def test_embed_empty_list_and_empty_string(embedder):
    assert embedder.encode([]).shape == (0, DIMENSIONS)
    v = embedder.encode([""])
    assert v.shape == (1, DIMENSIONS) and np.isfinite(v).all()


def test_embed_rejects_a_bare_string(embedder):
    with pytest.raises(TypeError):
        embedder.encode("one string")


def test_embed_long_text_is_truncated_not_an_error(embedder):
    v = embedder.encode(["word " * 2000])
    assert np.isfinite(v).all()


def test_embed_is_loaded_once(embedder):
    assert get_embedder() is embedder


def test_embed_needs_no_torch(embedder):
    assert "torch" not in sys.modules


def test_embed_missing_model_is_a_model_error(tmp_path):
    with pytest.raises(ModelError, match="missing"):
        Embedder(tmp_path)


def test_embed_broken_model_is_a_model_error(tmp_path):
    (tmp_path / "model.onnx").write_bytes(b"not a model")
    (tmp_path / "tokenizer.json").write_text((MODEL_DIR / "tokenizer.json").read_text("utf-8"))
    with pytest.raises(ModelError, match="cannot load"):
        Embedder(tmp_path)


def test_embed_reranker_without_its_calibration_is_a_model_error_naming_it(tmp_path):
    import shutil

    from sourcetrace.crossoutlet.rerank import MODEL_DIR as RERANKER_DIR, Reranker

    for name in ("model.onnx", "tokenizer.json"):
        shutil.copy(RERANKER_DIR / name, tmp_path / name)
    with pytest.raises(ModelError, match="calibration.json"):
        Reranker(tmp_path)
    (tmp_path / "calibration.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(ModelError, match="calibration"):
        Reranker(tmp_path)
