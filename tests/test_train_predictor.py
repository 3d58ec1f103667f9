"""`bench.train_predictor`: the shipped fit comes from the corpus the script builds, and that
corpus holds no validation trace."""

from __future__ import annotations

from pathlib import Path

import pytest

from abr.estimators.quantile_fit import FIT
from bench.streamlab_tuning import split_of
from bench.train_predictor import corpus, corpus_sha256, generated


@pytest.mark.shared
@pytest.mark.slow
def test_the_shipped_fit_was_trained_on_the_corpus_make_train_builds(shared_dir: Path) -> None:
    traces = corpus(shared_dir)
    assert corpus_sha256(traces) == FIT.corpus_sha256, "the corpus changed: run make train"
    validation = {
        (name, Path(path).stem)
        for path, (name, part) in split_of(shared_dir).items()
        if part == "validation"
    }
    names = {(t.set_name, t.name) for t in traces}
    assert not names & validation


def test_the_generated_links_are_drawn_apart_from_the_unseen_families() -> None:
    from traces import synthetic

    judged = {t.name for t in synthetic.families(16, seed=0)}
    assert not judged & {t.name for t in generated()}
