"""`sourcetrace train`: train the attribution model on PolNeAR (a shell over training.train)."""
from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from . import app, fail
from ..errors import SourcetraceError


@app.command()
def train(
    data: Path = typer.Option(Path("../shared/data/polnear/train.jsonl"), "--data",
                              help="PolNeAR train JSONL ({id, text, attributions} a line)."),
    config: Optional[Path] = typer.Option(None, "--config",
                                          help="spaCy training config (default: train/roles.cfg)."),
    corpus: Path = typer.Option(Path("train/corpus"), "--corpus",
                                help="Where the prepared corpus (train.spacy, val.spacy) is "
                                     "kept; prepared from --data when absent. Never commit it."),
    output: Path = typer.Option(Path("train/output"), "--output", "-o",
                                help="The `spacy train` output folder."),
    export: Optional[Path] = typer.Option(Path("src/sourcetrace/models"), "--export",
                                          help="Copy the best model into this models folder "
                                               "(the package's weights by default)."),
    variant: str = typer.Option("fast", "--setting",
                                help="fast (the default: parse speed) or accurate (a wider, "
                                     "slower network); picks train/roles[-accurate].cfg and "
                                     "the models/ folder it is exported to."),
    seed: int = typer.Option(1234, "--seed", help="Random seed (fixed for reproducibility)."),
) -> None:
    """Train the attribution role tagger (PolNeAR train, 1 article in 10 held out)."""
    from ..attribution import training

    try:
        result = training.train(config or training.default_config(variant), corpus,
                                output / variant, data=data, export_to=export, variant=variant,
                                seed=seed)
    except SourcetraceError as exc:
        raise fail(exc)
    typer.echo(f"best model: {result['output']}")
    for key, value in sorted((result.get("val_scores") or {}).items()):
        typer.echo(f"validation {key}: {value}")
    if result.get("exported"):
        typer.echo(f"weights exported to {result['exported']}")
