from hypothesis import given, strategies as st

from sourcetrace.model import Analysis, Assertion, Attribution, Source, Span


@st.composite
def analyses(draw):
    text = draw(st.text(min_size=1, max_size=200))
    n = len(text)

    def span():
        a = draw(st.integers(0, n))
        b = draw(st.integers(a, n))
        return Span.of(text, a, b)

    atts = tuple(
        Attribution(source=(span(),), cue=(span(),), content=(span(), span()),
                    kind=draw(st.sampled_from(["direct", "indirect", "mixed"])),
                    rule=draw(st.text(max_size=10)), confidence=draw(st.floats(0, 1)),
                    parent=draw(st.none() | st.integers(0, 5)),
                    speaker=draw(st.none() | st.text(max_size=10)),
                    speaker_span=draw(st.none() | st.just(span())))
        for _ in range(draw(st.integers(0, 3))))
    sources = (Source(id=0, name="x", mentions=(span(),), identity="named", kind="person",
                      evidence=(("kind", "test"),)),)
    asserts = (Assertion(span(), "checkworthy", (span(),), "numbers"),)
    return Analysis(text=text, attributions=atts, sources=sources, assertions=asserts,
                    boilerplate=(span(),), meta={"title": "t"}, profile={"k": 1})


@given(analyses())
def test_model_json_round_trip_is_lossless(analysis):
    assert Analysis.from_json(analysis.to_json()) == analysis


@given(st.text(max_size=50), st.data())
def test_model_span_of_slices_text(text, data):
    a = data.draw(st.integers(0, len(text)))
    b = data.draw(st.integers(a, len(text)))
    s = Span.of(text, a, b)
    assert s.text == text[s.start:s.end] and len(s) == b - a


def test_model_span_rejects_negative():
    import pytest

    with pytest.raises(ValueError):
        Span(5, 2)


def _nested(*parents):
    text = "Ann said Bob told Cy that it rained."
    return Analysis(text=text, attributions=tuple(
        Attribution(source=(), cue=(), content=(), parent=p) for p in parents))


def test_model_ancestors_walk_the_parent_chain_innermost_first():
    a = _nested(None, 0, 1, 5)            # 2 in 1 in 0; 3 points past the end
    assert a.ancestors(2) == [1, 0]
    assert a.ancestors(0) == [] and a.ancestors(3) == []


def test_model_ancestors_stop_at_a_cycle():
    assert _nested(1, 0).ancestors(0) == [1]
    assert _nested(0).ancestors(0) == []


def test_model_source_of_finds_the_source_by_id_not_position():
    text = "Ann said it."
    sources = (Source(id=7, name="Ann"), Source(id=0, name="Bob"))
    a = Analysis(text=text, sources=sources, attributions=(
        Attribution(source=(), cue=(), content=(), source_id=0),
        Attribution(source=(), cue=(), content=(), source_id=7),
        Attribution(source=(), cue=(), content=()),
        Attribution(source=(), cue=(), content=(), source_id=3)))
    assert [s.name if s else None for s in map(a.source_of, a.attributions)] == \
        ["Bob", "Ann", None, None]
    assert a.source_of(1).name == "Ann"


def test_model_span_text_joins_fragments_in_text_order():
    text = '"We won," Ann said, "again."'
    a = Analysis(text=text)
    second, first = Span.of(text, 19, 28), Span.of(text, 0, 9)
    assert a.span_text((second, first)) == '"We won," …  "again."'
    assert a.span_text((second, first), sep=" ", strip=' "') == "We won, again."
    assert a.span_text((first, Span(3, 3)), strip=True) == '"We won,"'
