"""`sourcetrace train`: train the attribution model on PolNeAR, or fine-tune the shipped
one on corrections (shells over training.train and training.fine_tune)."""
from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from . import app, fail
from ..errors import ConfigError, SourcetraceError


@app.command()
def train(
    output: Optional[Path] = typer.Option(None, "--output", "-o", "--export",
                                          help="The folder the trained weights are written "
                                               "into (required; select them with --model "
                                               "DIR; src/sourcetrace/models/roles replaces "
                                               "the package's own)."),
    data: Path = typer.Option(Path("../shared/data/polnear/train.jsonl"), "--data",
                              help="PolNeAR-style JSONL ({id, text, attributions} a line): "
                                   "PolNeAR train, or corrections with --base."),
    base: Optional[str] = typer.Option(None, "--base",
                                       help="Fine-tune the shipped weights of this setting "
                                            "(fast or accurate) on --data instead of "
                                            "training from scratch."),
    mix: Optional[Path] = typer.Option(None, "--mix",
                                       help="With --base: PolNeAR train JSONL whose first "
                                            "--mix-limit articles are trained on too."),
    mix_limit: int = typer.Option(200, "--mix-limit", min=1,
                                  help="How many --mix articles to train on."),
    epochs: int = typer.Option(10, "--epochs", min=1, help="With --base: passes over the data "
                                                          "(the accurate setting: try 2)."),
    config: Optional[Path] = typer.Option(None, "--config",
                                          help="Training config (default: the packaged "
                                               "models/roles.cfg; --setting accurate: "
                                               "models/roles-transformer.json)."),
    corpus: Path = typer.Option(Path("train/corpus"), "--corpus",
                                help="Where the prepared corpus (train.spacy, val.spacy) is "
                                     "kept; prepared from --data when absent. Never commit it."),
    work_dir: Path = typer.Option(Path("train/output"), "--work-dir",
                                  help="The `spacy train` working folder (checkpoints, logs)."),
    variant: str = typer.Option("fast", "--setting",
                                help="fast (the default: parse speed; spaCy, models/roles.cfg) "
                                     "or accurate (MiniLM fine-tuned with torch under --python, "
                                     "exported to ONNX int8; models/roles-transformer.json; "
                                     "resumes from --work-dir/accurate when rerun), or "
                                     "coref (the in-article coreference ranker, numpy, "
                                     "trained on --gum's train split into OUTPUT/coref.json)."),
    seed: Optional[int] = typer.Option(None, "--seed",
                                       help="Random seed (fixed for reproducibility; 1234 for "
                                            "the role taggers, 0 for coref, as shipped)."),
    gum: Path = typer.Option(Path("../shared/data/gum-coref"), "--gum",
                             help="--setting coref: the GUM coreference folder (its conll/ "
                                  "train split is trained on, test and dev are scored)."),
    python: Optional[str] = typer.Option(None, "--python", envvar="SOURCETRACE_TRAIN_PYTHON",
                                         help="--setting accurate (and --base accurate): a "
                                              "Python with torch, transformers, onnx and "
                                              "the MiniLM weights (a throwaway training venv, "
                                              "see train/transformer_tagger.py); sourcetrace "
                                              "itself never imports torch."),
    init: Optional[Path] = typer.Option(None, "--init",
                                        help="--base accurate: the final.pt of the accurate "
                                             "training run (in its --work-dir) to fine-tune "
                                             "from; the package ships ONNX weights only."),
) -> None:
    """Train the attribution role tagger (PolNeAR train, 1 article in 10 held out), or
    fine-tune the shipped one on corrected articles (--base)."""
    from ..attribution import training

    try:
        if output is None:
            raise ConfigError("name the folder the weights go into with --output DIR",
                              hint="select them afterwards with --model DIR; "
                                   "--output src/sourcetrace/models/roles replaces the "
                                   "package's own fast weights")
        from ..output.files import check_output_folder

        check_output_folder(output, inputs=[data, mix, config])
        if any((output / part).exists() for part in (
                "meta.json", "config.cfg", "model-best", "fast/model-best",
                "accurate/model-best")):
            raise ConfigError(f"{output} is a `spacy train` folder, not a weights folder",
                              hint="--output is the folder the weights go into; the "
                                   "`spacy train` working folder is --work-dir")
        if variant == "coref":        # the in-article coreference ranker (numpy, GUM)
            if base is not None:
                raise ConfigError("--base applies to the role taggers, not to coref")
            _train_coref(gum, output, work_dir, 0 if seed is None else seed)
            return
        seed = 1234 if seed is None else seed
        if base is not None:
            if base not in ("fast", "accurate"):
                raise ConfigError(f"--base must be fast or accurate, got {base!r}")
            if base == "accurate":
                if init is None:
                    raise ConfigError("fine-tuning the accurate setting starts from torch "
                                      "weights: give --init WORK_DIR/accurate/final.pt",
                                      hint="`sourcetrace train --setting accurate` writes it")
                result = training.train_transformer(
                    data, output, work_dir / "accurate-fine-tune", python=python, seed=seed,
                    init=init, mix=mix, mix_limit=mix_limit, epochs=epochs)
                typer.echo(f"fine-tuned accurate ({result['steps']} steps); "
                           f"weights written to {result['output']}")
                return
            result = training.fine_tune(data, output, base=base, mix=mix, mix_limit=mix_limit,
                                        epochs=epochs, seed=seed)
            typer.echo(f"fine-tuned {base} on {result['articles']} articles, "
                       f"{epochs} epochs (loss {result['losses'][0]:.1f} -> "
                       f"{result['losses'][-1]:.1f})")
            typer.echo(f"weights written to {result['output']}")
            return
        if variant == "accurate":      # the fine-tuned MiniLM, trained with torch elsewhere
            result = training.train_transformer(data, output, work_dir / variant, python=python,
                                                seed=seed, config=config)
            typer.echo(f"trained {result['steps']} steps in {result['train_seconds']}s; "
                       f"validation {result['val']}")
            typer.echo(f"weights written to {result['output']}")
            return
        result = training.train(config or training.default_config(variant), corpus,
                                work_dir / variant, data=data, export_to=output,
                                variant=variant, seed=seed)
    except SourcetraceError as exc:
        raise fail(exc)
    typer.echo(f"best model: {result['output']}")
    for key, value in sorted((result.get("val_scores") or {}).items()):
        typer.echo(f"validation {key}: {value}")
    if result.get("exported"):
        typer.echo(f"weights written to {result['exported']}")


def _train_coref(gum: Path, output: Path, work_dir: Path, seed: int) -> None:
    """Train the coreference ranker into OUTPUT/coref.json (copy it over
    src/sourcetrace/models/coref.json to ship it); the parsed GUM features are cached in
    WORK_DIR/coref so that a stopped run resumes after the parse."""
    from ..output.files import safe_output
    from ..sources import coref_train

    if not (gum / "conll").is_dir():
        raise ConfigError(f"{gum} holds no GUM conll/ folder",
                          hint="give --gum the gum-coref folder (../shared/data/gum-coref)")
    output.mkdir(parents=True, exist_ok=True)
    cache = work_dir / "coref" / "train-features.pkl"
    with safe_output(output / "coref.json", force=True, inputs=[gum]) as tmp:
        report = coref_train.run(gum, tmp, cache=cache, seed=seed,
                                 log=lambda line: typer.echo(line, err=True))
    conll = report.get("with_singletons", {}).get("conll", {}).get("f1")
    typer.echo(f"GUM test CoNLL F1 (with singletons): {conll}; "
               f"pronoun accuracy: {report.get('pronoun_accuracy')}")
    typer.echo(f"weights written to {output / 'coref.json'}")
