"""`sourcetrace corrections export|import`: an article's analysis out to Label Studio or
BRAT for correction, and the corrected file back as training data (shells over
output/labelstudio.py)."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import typer

from . import app, db_option, fail, open_existing_store
from ..errors import ConfigError, InputError, SourcetraceError, os_reason

corrections_app = typer.Typer(help="Correct analyses in Label Studio or BRAT and import "
                                   "them back as training data.", no_args_is_help=True)
app.add_typer(corrections_app, name="corrections")

_FORMATS = ("labelstudio", "brat")


def _format(value: str) -> str:
    if value not in _FORMATS:
        raise ConfigError(f"--format must be one of {', '.join(_FORMATS)}, got {value!r}")
    return value


@corrections_app.command("export")
def export(
    target: Optional[str] = typer.Argument(None, help="The article: a file path, a URL or - "
                                                      "(stdin); or none with --article."),
    output: Path = typer.Option(..., "--output", "-o",
                                help="Label Studio: the task JSON file (its labeling config "
                                     "is written beside it, .xml); BRAT: the .ann file (the "
                                     "text is written beside it, .txt)."),
    fmt: str = typer.Option("labelstudio", "--format", help="labelstudio or brat."),
    article_id: Optional[str] = typer.Option(None, "--id",
                                             help="The article's id in the task (default: "
                                                  "the file name)."),
    rules_only: bool = typer.Option(False, "--rules-only", help="Use the rules alone."),
    model: Optional[Path] = typer.Option(None, "--model",
                                         help="Role-tagger weights written by `sourcetrace "
                                              "train --output DIR`."),
    article: Optional[int] = typer.Option(None, "--article", min=1,
                                          help="A stored article's id: its stored analysis "
                                               "is exported (with --db)."),
    db: Optional[str] = db_option(),
    force: bool = typer.Option(False, "--force",
                               help="Replace existing output files (never the article, "
                                    "nor the corpus)."),
) -> None:
    """Analyse an article (or take a stored one's analysis) and write it for correction
    (Label Studio JSON or BRAT)."""
    from .. import pipeline
    from ..config import Config
    from ..output import labelstudio
    from ..output.files import Outputs

    try:
        fmt = _format(fmt)
        if (target is None) == (article is None):
            raise ConfigError("give the article to export: a file, URL or -, or --article ID")
        side = output.with_suffix(".xml" if fmt == "labelstudio" else ".txt")
        if side == output:
            raise ConfigError(f"{output} would be written twice (the task and its "
                              f"{side.suffix} file)", hint="give -o a .json or .ann name")
        out = Outputs(force=force, inputs=[target], corpus=[db])
        # refused before the analysis, not after it; a BRAT .txt already there may be
        # the article itself: it is left alone when it holds exactly the analysed text
        out.check(output)
        if fmt == "labelstudio" or not side.exists():
            out.check(side)
        if article is not None:
            store = open_existing_store(db)
            try:
                stored = store.get(article)
            finally:
                store.close()
            if stored is None:
                raise InputError(f"there is no article {article} in the corpus")
            analysis = stored.analysis
            name = article_id or str(stored.record_id or article)
        else:
            config = Config(rules_only=rules_only, model_path=str(model) if model else None)
            analysis = pipeline.analyze_target(target, config=config)
            name = article_id or (Path(target).stem if target != "-" else "article")
        output.parent.mkdir(parents=True, exist_ok=True)
        with out:   # both files or neither
            if fmt == "labelstudio":
                task = labelstudio.to_labelstudio(analysis, name)
                out.path(output).write_text(json.dumps([task], ensure_ascii=False, indent=1)
                                            + "\n", encoding="utf-8")
                out.path(side).write_text(labelstudio.label_config(), encoding="utf-8")
            else:
                out.path(output).write_text(labelstudio.to_brat(analysis), encoding="utf-8")
                text_bytes = analysis.text.encode("utf-8")
                if not (side.is_file() and side.read_bytes() == text_bytes):
                    out.path(side).write_bytes(text_bytes)
    except OSError as exc:
        raise fail(InputError(f"cannot write {output}: {os_reason(exc)}"))
    except SourcetraceError as exc:
        raise fail(exc)
    typer.echo(f"{len(analysis.attributions)} attributions, {len(analysis.sources)} sources "
               f"written to {output}")


@corrections_app.command("import")
def import_(
    corrected: Path = typer.Argument(..., help="A corrected Label Studio JSON export (one "
                                               "task or many) or a BRAT .ann file."),
    data: Path = typer.Option(Path("corrections.jsonl"), "--data",
                              help="The training file the corrected articles are added to "
                                   "(PolNeAR-style JSONL; an article already there is "
                                   "replaced)."),
    text: Optional[Path] = typer.Option(None, "--text",
                                        help="BRAT: the article's text (default: the .ann "
                                             "file's .txt)."),
    analysis_out: Optional[Path] = typer.Option(None, "--analysis",
                                                help="Also write the corrected analysis "
                                                     "(JSON, the schema of `analyze`; an "
                                                     "existing file only with --force)."),
    force: bool = typer.Option(False, "--force", help="Replace an existing --analysis file."),
) -> None:
    """Read corrected annotations back and add them to a training file for `train`."""
    from ..output import labelstudio
    from ..output.files import Outputs

    try:
        inputs = [corrected, text or corrected.with_suffix(".txt")]
        Outputs(inputs=inputs).check(data, append=True)   # the training file grows
        out = Outputs(force=force, inputs=[*inputs, data])
        if analysis_out is not None:
            out.check(analysis_out)
        articles = labelstudio.import_file(corrected, text=text)
        with out:
            if analysis_out is not None:
                docs = [a.to_dict() for _, a in articles]
                out.path(analysis_out).write_text(json.dumps(
                    docs[0] if len(docs) == 1 else docs, ensure_ascii=False, indent=1) + "\n",
                    encoding="utf-8")
            count = labelstudio.add_to_training(data, articles)
    except OSError as exc:
        raise fail(InputError(f"cannot read or write: {exc}"))
    except SourcetraceError as exc:
        raise fail(exc)
    typer.echo(f"{len(articles)} corrected articles added to {data} ({count} in all)")
