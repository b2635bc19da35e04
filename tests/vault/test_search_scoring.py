"""The pure parts of search: scores, similarity, patterns, snippets."""

from __future__ import annotations

from better_skills.server.queries import search as q


def test_score_tiers_never_overlap() -> None:
    worst_name = q.name_quality("a very long name with deploy inside", "x", "deploy")
    best_typo = q.typo_score(1.0)
    best_description = q.description_quality("deploy", "deploy")
    assert worst_name is not None and best_description is not None
    assert 1.0 >= worst_name > best_typo > best_description > max(q.CONTENT_SCORE.values())
    assert q.name_quality("Deploy", "x", "deploy") == 1.0
    assert q.name_quality("x", "y", "deploy") is None


def test_word_similarity_finds_the_closest_word() -> None:
    assert q.word_similarity("kubernets", "kubernetes-deploy") >= q.TYPO_THRESHOLD
    assert q.word_similarity("deploy", "deploy") == 1.0
    assert q.word_similarity("qxzvw", "kubernetes-deploy") < q.TYPO_THRESHOLD
    assert q.word_similarity("", "x") == 0.0


def test_like_pattern_makes_wildcards_literal() -> None:
    assert q.like_pattern("100%_\\") == "%100\\%\\_\\\\%"
    assert q.fts_phrase('say "hi"') == '"say ""hi"""'


def test_snippet_window() -> None:
    text = "a" * 100 + "Needle" + "\n" + "b" * 100
    cut = q.snippet(text, "needle")
    assert cut == "…" + "a" * 40 + "Needle " + "b" * 39 + "…"
    assert q.snippet("needle at the start", "NEEDLE") == "needle at the start"
    assert q.snippet("nothing", "needle") is None
    assert q.snippet("a.*b", ".*") == "a.*b"  # the query is text, not a regular expression
