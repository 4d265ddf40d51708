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
