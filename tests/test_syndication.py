"""Near-duplicate clustering: wire copies are one voice, distinct articles are not."""
from __future__ import annotations

import pytest

from sourcetrace.errors import ConfigError
from sourcetrace.model import Analysis, Span
from sourcetrace.crossoutlet.syndication import (
    SyndicationIndex,
    SyndicationOptions,
    cleaned_text,
    shingles,
)

WIRE = """Ukraine says hundreds of Russian soldiers refused orders near Avdiivka.

KYIV (Reuters) - Some 300 Russian troops refused to obey orders to advance near the eastern town of Avdiivka, Ukraine's military command said on Telegram on Wednesday, citing intercepted radio messages.

The command said the soldiers had complained of heavy losses and a lack of ammunition, and that their officers had threatened them with court martial.

Russia's defence ministry did not respond to a request for comment. Reuters could not independently verify the report.

The fighting around Avdiivka has been among the heaviest of the war, with both sides reporting large numbers of casualties in recent weeks.

Military analysts said morale problems had been reported in several Russian units that were rotated back to the front without rest."""

OTHER = """Parliament approved the budget for next year after a long night of debate.

The finance minister said the plan would cut the deficit to three percent of economic output by raising taxes on tobacco and closing loopholes for large companies.

Opposition lawmakers said the measures would hurt small businesses and voted against the bill, which passed by a narrow margin of eleven votes.

The budget now goes to the upper chamber, which is expected to approve it before the end of the month."""


def _copy(text: str) -> str:
    """A republication: new headline, one paragraph dropped, a trailer added."""
    paras = text.split("\n\n")
    paras[0] = "Hundreds of Russian troops defy orders, Kyiv says"
    del paras[3]
    paras.append("Source: Read Full Article")
    return "\n\n".join(paras)


def test_syndication_copy_joins_the_original_cluster():
    index = SyndicationIndex()
    assert index.add("wire", WIRE) == []
    found = index.add("copy", _copy(WIRE))
    assert [d.other_id for d in found] == ["wire"]
    assert found[0].containment > 0.7
    assert index.cluster_of("copy") == "wire"


def test_syndication_distinct_articles_stay_apart():
    index = SyndicationIndex()
    index.add("wire", WIRE)
    assert index.add("budget", OTHER) == []
    assert index.cluster_of("budget") == "budget"
    assert index.clusters() == {"wire": ["wire"], "budget": ["budget"]}


def test_syndication_trimmed_copy_matches_by_containment():
    # only the first three paragraphs: Jaccard is low, containment high
    short = "\n\n".join(WIRE.split("\n\n")[:3])
    index = SyndicationIndex()
    index.add("wire", WIRE)
    found = index.add("short", short)
    assert found and found[0].reason in ("containment", "jaccard")
    assert found[0].containment >= 0.7


def test_syndication_clusters_are_transitive_and_named_after_first():
    index = SyndicationIndex()
    index.add("a", WIRE)
    index.add("b", _copy(WIRE))
    index.add("c", _copy(WIRE).replace("Wednesday", "Thursday"))
    assert index.clusters(min_size=2) == {"a": ["a", "b", "c"]}
    assert set(index.voices().values()) == {"a"}


def test_syndication_signature_round_trip_rebuilds_clusters():
    index = SyndicationIndex()
    index.add("wire", WIRE)
    sig, size = index.signature_bytes("wire")
    rebuilt = SyndicationIndex()
    rebuilt.add_signature("wire", sig, size)
    assert rebuilt.add("copy", _copy(WIRE))[0].other_id == "wire"


def test_syndication_adding_twice_is_a_no_op():
    index = SyndicationIndex()
    index.add("wire", WIRE)
    index.add("wire", WIRE)
    assert len(index) == 1


def test_syndication_cleaned_text_drops_boilerplate():
    text = "Body of the story.\nSource: Read Full Article"
    analysis = Analysis(text=text, boilerplate=(Span(19, len(text)),))
    assert cleaned_text(analysis).strip() == "Body of the story."


def test_syndication_shingles_ignore_case_and_punctuation():
    assert shingles("The Troops, refused!", 2) == shingles("the troops refused", 2)
    assert shingles("", 5) == set()


def test_syndication_bad_options_raise_config_error():
    with pytest.raises(ConfigError):
        SyndicationOptions(jaccard_threshold=0)
    with pytest.raises(ConfigError):
        SyndicationOptions(num_perm=4)


def test_syndication_empty_text_is_its_own_voice():
    index = SyndicationIndex()
    index.add("empty", "")
    index.add("wire", WIRE)
    assert index.cluster_of("empty") == "empty"


@pytest.mark.slow
def test_syndication_wire_copies_of_polnear_articles_are_found():
    """Edited copies of 150 PolNeAR articles among all 924 (bench/eval_match.py).
    Measured: precision 0.95 (0.99 counting PolNeAR's own republished stories), recall 0.97."""
    import sys

    from conftest import POLNEAR_DEV, ROOT, _need

    _need(POLNEAR_DEV)
    sys.path.insert(0, str(ROOT / "bench"))
    try:
        import eval_match
    finally:
        sys.path.pop(0)
    result = eval_match.evaluate_syndication(eval_match.load_articles(POLNEAR_DEV.parent))
    assert result["recall"] >= 0.93, result["missed"]
    assert result["precision"] >= 0.93, result["other_pairs"]
