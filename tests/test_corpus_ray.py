"""The same batch on Ray Data: a local Ray with 2 CPUs, an actor pool of 2 (0.5 CPU each),
three short articles. Marked ``ray`` so it can be deselected with -m 'not ray'."""
from __future__ import annotations

import pytest

from sourcetrace.corpus import runner as corpus
from sourcetrace.inputs.collect import Collected, Failure
from sourcetrace.inputs.read import Document
from sourcetrace.corpus.store.memory import MemoryStore

pytestmark = [pytest.mark.ray,
              pytest.mark.filterwarnings("ignore::DeprecationWarning")]  # from Ray's own modules

TEXTS = [
    '"The bridge will reopen on Friday," the mayor said on Monday.',
    'Officials said the river rose overnight.',
    'The minister told parliament that the budget would balance next year.',
]


@pytest.fixture(scope="module")
def ray_local():
    ray = pytest.importorskip("ray", reason="the ray extra is not installed (pip install '.[ray]')")
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield ray
    ray.shutdown()


def test_corpus_ray_engine_stores_what_the_local_engine_stores(ray_local):
    items = [Collected(f"a{i}.txt", Document(t, {"path": f"a{i}.txt"}), "text")
             for i, t in enumerate(TEXTS)]
    items.append(Failure("bad.warc", "truncated WARC"))
    on_ray, local = MemoryStore(), MemoryStore()
    report = corpus.ingest([], on_ray, items=items + items[:1], engine="ray", workers=2,
                           chunk_size=2)
    assert (report.added, report.duplicates, report.failed) == (3, 1, 1)
    corpus.ingest([], local, items=items)
    expected = {a.input: a.analysis for a in local.iter_articles()}
    got = {a.input: a.analysis for a in on_ray.iter_articles()}
    assert got == expected
    assert [f.input for f in on_ray.failures()] == ["bad.warc"]
