"""`sourcetrace analyze` (one article) and `sourcetrace extract` (JSONL in, spans out)."""
from __future__ import annotations

import sys
from pathlib import Path
from typing import Optional

import typer

from . import PARTIAL, app, choices, fail
from ..config import MODEL_SETTINGS
from ..errors import ConfigError, SourcetraceError
from ..output.formats import FORMATS


Format = choices("Format", FORMATS)
ModelSetting = choices("ModelSetting", MODEL_SETTINGS)


def _selection(acts: str | None, min_confidence: float) -> dict:
    """--acts and --min-confidence as Config fields (InputError for an unknown act)."""
    from ..attribution.acts import parse_acts

    chosen = parse_acts(acts)
    return {"acts": tuple(sorted(chosen)) if chosen else None, "min_confidence": min_confidence}


@app.command()
def analyze(
    target: str = typer.Argument(..., help="A file path (.txt, .html, .json, .jsonl), a URL, "
                                           "or - for stdin."),
    format: Format = typer.Option(Format.text, "--format", "-f", case_sensitive=False,
                                  help="text: highlighted article and tables; json: the full "
                                       "Analysis (docs/json-schema.md); jsonl: the same on one "
                                       "line; brat: BRAT standoff (.ann) as PolNeAR writes it; "
                                       "html: one self-contained page to share."),
    output: Optional[Path] = typer.Option(None, "--output", "-o",
                                          help="Write to this file instead of stdout (jsonl "
                                               "appends; brat to X.ann also writes X.txt when "
                                               "absent). An existing file is refused unless "
                                               "--force; the input never is written."),
    force: bool = typer.Option(False, "--force",
                               help="Replace an existing -o file (never the input, nor a "
                                    "brat .txt holding another text)."),
    rules_only: bool = typer.Option(False, "--rules-only",
                                    help="Use the rules alone, ignoring any trained model."),
    model_setting: ModelSetting = typer.Option(ModelSetting.fast, "--model-setting",
                                               case_sensitive=False,
                                               help="The trained tagger beside the rules: fast "
                                                    "(default) or accurate (slower)."),
    model: Optional[Path] = typer.Option(None, "--model",
                                         help="Role-tagger weights written by `sourcetrace "
                                              "train --output DIR` (instead of the shipped "
                                              "--model-setting)."),
    no_nested: bool = typer.Option(False, "--no-nested",
                                   help="Leave out nested attributions (those inside another's "
                                        "content)."),
    allow_private: bool = typer.Option(False, "--allow-private",
                                       help="Let a URL reach private, loopback or link-local "
                                            "addresses."),
    any_language: bool = typer.Option(False, "--any-language",
                                      help="Analyse text that is not detected as English."),
    acts: Optional[str] = typer.Option(None, "--acts", metavar="ACT,...",
                                       help="Only attributions of these acts: speech, belief, "
                                            "finding, intention, perception (comma-separated; "
                                            "default: all)."),
    min_confidence: float = typer.Option(0.0, "--min-confidence", min=0.0, max=1.0,
                                         help="Leave out attributions whose confidence (the "
                                              "calibrated probability of being right) is below "
                                              "this."),
    db: Optional[str] = typer.Option(None, "--db", help="A corpus store: also show the "
                                     "fact-checks it holds of the article's claims (text: a "
                                     "section at the end; json: meta.factchecks)."),
    entities: Optional[Path] = typer.Option(None, "--entities", metavar="FILE",
                                            help="Gazetteer (CSV or JSON lines: name, aliases, kind, "
                                                 "role, id): sources it names take its entity, kind "
                                                 "and external id."),
) -> None:
    """Analyse one article: attributions, sources, unattributed assertions, profile."""
    from ..output import formats
    from ..config import Config
    from ..pipeline import analyze_target

    try:
        config = Config(rules_only=rules_only, model_setting=model_setting.value,
                        model_path=str(model) if model else None, nested=not no_nested,
                        allow_private=allow_private, require_english=not any_language,
                        **_selection(acts, min_confidence))
        if force and output is None:
            raise ConfigError("--force is for replacing an -o file", hint="give -o FILE too")
        if output is not None:  # refused before the analysis, not after it
            formats.check_output(output, force=force, inputs=[target],
                                 append=format is Format.jsonl)
        _one_record(target)
        from ..sources.entities import Gazetteer, apply_gazetteer

        gazetteer = Gazetteer.load(entities) if entities is not None else None
        analysis = analyze_target(target, config=config)
        if gazetteer is not None:
            analysis = apply_gazetteer(analysis, gazetteer)
        checked = _factchecks(analysis, db) if db else None
        if checked is not None:     # every format shows them (text: a closing section)
            import dataclasses

            analysis = dataclasses.replace(analysis, meta={**(analysis.meta or {}),
                                                           "factchecks": checked})
        if output is None:
            formats.write(analysis, format.value, sys.stdout)
        else:
            formats.write_file(analysis, format.value, output, force=force, inputs=[target])
    except SourcetraceError as exc:
        raise fail(exc)


def _factchecks(analysis, db: str) -> list:
    """The store's fact-checks of the article's claims (crossoutlet.factchecks)."""
    from ..crossoutlet.factchecks import article_factchecks
    from . import open_existing_store

    with open_existing_store(db) as store:
        return article_factchecks(analysis, store)


def _one_record(target: str) -> None:
    """A .jsonl file or a .json list of several records is a batch: point to the batch
    commands rather than analyse its first record only."""
    from ..inputs.read import iter_records

    path = Path(target)
    if path.suffix.lower() not in (".jsonl", ".json") or not path.is_file():
        return
    count = 0
    for _number, _record in iter_records(path):
        count += 1
        if count > 1:
            raise ConfigError(f"{target} holds several records; analyze reads one article",
                              hint=f"use `sourcetrace ingest {target}` (store and search them) "
                                   f"or `sourcetrace extract {target} -o OUT.jsonl` (spans only)")


@app.command()
def extract(
    input: str = typer.Argument(..., metavar="IN.jsonl",
                                help='JSONL, one {"id", "text"} record a line; - for stdin.'),
    output: str = typer.Option("-", "--output", "-o", metavar="OUT.jsonl",
                               help='Where to write {"id", "attributions"} lines (default: '
                                    'stdout).'),
    nested: bool = typer.Option(False, "--nested",
                                help='Also write nested attributions, each with a "parent" '
                                     'index into the written list.'),
    rules_only: bool = typer.Option(False, "--rules-only",
                                    help="Use the rules alone, ignoring any trained model."),
    model_setting: ModelSetting = typer.Option(ModelSetting.fast, "--model-setting",
                                               case_sensitive=False,
                                               help="The trained tagger beside the rules: fast "
                                                    "(default) or accurate (slower)."),
    model: Optional[Path] = typer.Option(None, "--model",
                                         help="Role-tagger weights written by `sourcetrace "
                                              "train --output DIR` (instead of the shipped "
                                              "--model-setting)."),
    force: bool = typer.Option(False, "--force", help="Replace an existing -o file (never the "
                                                      "input)."),
    progress: Optional[bool] = typer.Option(None, "--progress/--no-progress",
                                            help="Show a progress bar on stderr (default: for "
                                                 "long inputs, on a terminal)."),
    batch_size: Optional[int] = typer.Option(None, "--batch-size", min=1,
                                             help="Documents per spaCy batch (nlp.pipe); "
                                                  "default: Config.batch_size."),
    acts: Optional[str] = typer.Option(None, "--acts", metavar="ACT,...",
                                       help="Only attributions of these acts: speech, belief, "
                                            "finding, intention, perception (comma-separated; "
                                            "default: all)."),
    min_confidence: float = typer.Option(0.0, "--min-confidence", min=0.0, max=1.0,
                                         help="Leave out attributions whose confidence (the "
                                              "calibrated probability of being right) is below "
                                              "this."),
) -> None:
    """Extract attribution spans from many articles, in the shared scorer's format.

    Offsets point into each given text. A bad record is reported on stderr and
    skipped; the run goes on and the output is written as it goes (to a temporary file
    renamed over -o at the end). When records were skipped the command says how many and
    exits with 5.
    """
    from ..config import Config
    from ..corpus.extract import extract_file

    def report(line: int, message: str) -> None:
        typer.echo(f"sourcetrace: line {line}: {message}: skipped", err=True)

    try:
        from ..output.files import Outputs

        out = Outputs(force=force, inputs=[input])
        if output != "-":
            out.check(output)   # refused before the analysis, not after it
        elif force:
            raise ConfigError("--force is for replacing an -o file", hint="give -o FILE too")
        config = Config(rules_only=rules_only, model_setting=model_setting.value,
                        model_path=str(model) if model else None,
                        **_selection(acts, min_confidence))
        if batch_size is not None:
            config = config.replace(batch_size=batch_size)
        with out:   # written to a temporary file, renamed over -o at the end
            stats = extract_file(input, "-" if output == "-" else out.path(output),
                                 config=config, nested=nested, progress=progress,
                                 on_error=report)
    except SourcetraceError as exc:
        raise fail(exc)
    if stats.skipped:
        typer.echo(f"sourcetrace: {stats.skipped} of {stats.records} records skipped", err=True)
        raise typer.Exit(PARTIAL)
