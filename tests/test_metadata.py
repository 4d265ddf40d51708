"""Metadata that survives ingest: recognised field names, --field mapping, --outlet and
--date, outlet from the URL, dates parsed to ISO 8601 with the original kept, and a
warning (never a text value) for a date that cannot be read."""
from __future__ import annotations

import json
import sqlite3

import pytest

from sourcetrace.cli import main
from sourcetrace.config import Config
from sourcetrace.corpus.runner import make_record
from sourcetrace.errors import ConfigError
from sourcetrace.inputs.collect import Collected, collect
from sourcetrace.inputs.metadata import (FIELD_NAMES, MetaOptions, canonical_record, parse_date,
                                         parse_fields)
from sourcetrace.model import Analysis

ARTICLE = ('"The bridge will reopen on Friday," the mayor said on Monday. Engineers found '
           'no damage to the main span after the flood, according to a city report. '
           'Traffic will return to normal next week, officials said in a statement.')


def docs(paths, **kw):
    got = list(collect([str(p) for p in paths], config=Config(require_english=False), **kw))
    assert all(isinstance(i, Collected) for i in got), got
    return [i.document for i in got]


def test_metadata_parse_date_gives_iso_8601():
    assert parse_date("09/12/2016") == ("2016-09-12", None)
    assert parse_date("09/12/2016", dayfirst=True) == ("2016-12-09", None)
    assert parse_date("Tue, 05 Mar 2024 10:00:00 GMT") == ("2024-03-05", None)
    assert parse_date("12 September 2016") == ("2016-09-12", None)
    assert parse_date("2016-09-12T23:10:00Z") == ("2016-09-12", None)
    assert parse_date("2016-09") == ("2016-09", None)
    assert parse_date("2016") == ("2016", None)
    assert parse_date("March 2016") == ("2016-03", None)


def test_metadata_parse_date_refuses_what_is_not_a_date():
    for bad in ("last Tuesday", "n/a", "12 September", "2016-13"):
        iso, warning = parse_date(bad)
        assert iso is None and warning and ("could not be read" in warning or "no year" in warning)


def test_metadata_csv_recognised_names(tmp_path):
    p = tmp_path / "news.csv"
    p.write_text("body,site,published,headline\n"
                 f'"{ARTICLE.replace(chr(34), chr(34) * 2)}",Daily Planet,09/12/2016,Bridge to reopen\n',
                 encoding="utf-8")
    (doc,) = docs([p])
    assert doc.text == ARTICLE
    assert doc.meta["outlet"] == "Daily Planet"
    assert doc.meta["date"] == "2016-09-12" and doc.meta["date_original"] == "09/12/2016"
    assert doc.meta["title"] == "Bridge to reopen"
    assert doc.warnings == ()


def test_metadata_jsonl_recognised_names(tmp_path):
    p = tmp_path / "news.jsonl"
    p.write_text(json.dumps({"content": ARTICLE, "source_name": "Reuters",
                             "published_at": "2016-10-01T08:00:00Z", "headline": "Bridge",
                             "link": "https://example.com/a", "id": "r-1"}) + "\n",
                 encoding="utf-8")
    (doc,) = docs([p])
    assert (doc.meta["outlet"], doc.meta["date"], doc.meta["title"]) == ("Reuters", "2016-10-01",
                                                                          "Bridge")
    assert doc.meta["url"] == "https://example.com/a" and doc.meta["id"] == "r-1"


@pytest.mark.parametrize("suffix", [".csv", ".jsonl"])
def test_metadata_field_mapping_csv_and_jsonl_alike(tmp_path, suffix):
    p = tmp_path / f"odd{suffix}"
    row = {"story": ARTICLE, "paper": "The Clarion", "when": "March 5, 2024", "hed": "Bridge"}
    if suffix == ".csv":
        p.write_text("story,paper,when,hed\n" + ",".join(
            '"' + v.replace('"', '""') + '"' for v in row.values()) + "\n", encoding="utf-8")
    else:
        p.write_text(json.dumps(row) + "\n", encoding="utf-8")
    fields = parse_fields(["text=story", "outlet=paper", "date=when", "title=hed"])
    (doc,) = docs([p], meta=MetaOptions(fields=fields))
    assert doc.text == ARTICLE
    assert (doc.meta["outlet"], doc.meta["date"], doc.meta["title"]) == ("The Clarion",
                                                                          "2024-03-05", "Bridge")


def test_metadata_outlet_and_date_for_a_folder_of_text_files(tmp_path):
    (tmp_path / "a.txt").write_text(ARTICLE, encoding="utf-8")
    (tmp_path / "b.txt").write_text(ARTICLE.replace("Friday", "Sunday"), encoding="utf-8")
    got = docs([tmp_path], meta=MetaOptions(outlet="Local Gazette", date="2024-03-05"))
    assert [(d.meta["outlet"], d.meta["date"]) for d in got] == [("Local Gazette", "2024-03-05")] * 2


def test_metadata_unparseable_date_is_a_warning_and_keeps_the_text(tmp_path):
    p = tmp_path / "news.jsonl"
    p.write_text(json.dumps({"text": ARTICLE, "date": "sometime last week"}) + "\n",
                 encoding="utf-8")
    (doc,) = docs([p])
    assert "date" not in doc.meta
    assert doc.meta["date_original"] == "sometime last week"
    assert any("sometime last week" in w for w in doc.warnings)


def test_metadata_bad_options_are_config_errors():
    with pytest.raises(ConfigError):
        parse_fields(["text"])
    with pytest.raises(ConfigError):
        parse_fields(["colour=hue"])
    with pytest.raises(ConfigError):
        MetaOptions(date="not a date")


def test_metadata_canonical_record_keeps_every_field():
    rec = canonical_record({"body": "x", "publisher": "P", "text_extra": 1})
    assert rec == {"text": "x", "text_field": "body", "outlet": "P", "outlet_field": "publisher",
                   "text_extra": 1}


def test_metadata_outlet_from_record_wins_over_url_domain_then_url_domain():
    def record(meta):
        item = Collected("x.jsonl:1", None, "json")
        return make_record(item, Analysis(text=ARTICLE, meta=meta))

    named = record({"outlet": "Reuters", "outlet_from": "field:source_name",
                    "url": "https://www.bbc.co.uk/news/1"})
    assert named.outlet == "Reuters"
    assert record({"url": "https://www.bbc.co.uk/news/1"}).outlet == "bbc.co.uk"
    assert record({"date": "not a date"}).date is None
    assert record({"id": 7}).record_id == "7"


def test_metadata_ingest_help_lists_every_field(capsys):
    with pytest.raises(SystemExit) as exit:
        main(["ingest", "--help"])
    assert exit.value.code == 0
    out = " ".join(capsys.readouterr().out.split())
    for names in FIELD_NAMES.values():
        for name in names:
            assert name in out, name
    assert "--field" in out and "--outlet" in out and "--date" in out


def test_metadata_ingest_cli_stores_outlet_iso_date_title_and_record_id(tmp_path, capsys):
    p = tmp_path / "news.csv"
    p.write_text("story,paper,when,headline,id\n"
                 f'"{ARTICLE.replace(chr(34), chr(34) * 2)}",The Clarion,09/12/2016,Bridge,r-9\n'
                 f'"{ARTICLE.replace(chr(34), chr(34) * 2).replace("Friday", "Sunday")}",'
                 'The Clarion,whenever,Other,r-10\n', encoding="utf-8")
    db = tmp_path / "c.db"
    with pytest.raises(SystemExit) as exit:
        main(["ingest", str(p), "--db", str(db), "--rules-only", "--no-progress",
              "--field", "text=story", "--field", "outlet=paper", "--field", "date=when"])
    assert exit.value.code == 0, capsys.readouterr().err
    rows = sqlite3.connect(db).execute(
        "SELECT outlet, date, title, record_id, analysis FROM articles ORDER BY id").fetchall()
    assert [r[:4] for r in rows] == [("The Clarion", "2016-09-12", "Bridge", "r-9"),
                                     ("The Clarion", None, "Other", "r-10")]
    second = json.loads(rows[1][4])
    assert second["meta"]["date_original"] == "whenever"
    assert any("whenever" in w for w in second["warnings"])
