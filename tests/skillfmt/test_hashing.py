"""File and skill hashes."""

from __future__ import annotations

import hashlib

from hypothesis import given
from hypothesis import strategies as st

from better_skills.skillfmt.hashing import content_hash, etag, file_sha256


def test_file_sha256() -> None:
    assert file_sha256(b"") == hashlib.sha256(b"").hexdigest()


def test_content_hash_encoding_is_pinned() -> None:
    files = [("b.md", file_sha256(b"b")), ("SKILL.md", file_sha256(b"s"))]
    expected = hashlib.sha256(
        f"SKILL.md\0{file_sha256(b's')}\nb.md\0{file_sha256(b'b')}\n".encode()
    ).hexdigest()
    assert content_hash(files) == expected


def test_etag_is_quoted() -> None:
    assert etag("abc") == '"abc"'


PATH_CHARS = st.characters(blacklist_categories=("Cs",), blacklist_characters="\0\n")
FILES = st.dictionaries(
    st.text(min_size=1, alphabet=PATH_CHARS),
    st.binary(),
    max_size=8,
)


def pairs(files: dict[str, bytes]) -> list[tuple[str, str]]:
    return [(path, file_sha256(data)) for path, data in files.items()]


@given(FILES, st.randoms())
def test_content_hash_ignores_order(files: dict[str, bytes], rnd: object) -> None:
    shuffled = pairs(files)
    rnd.shuffle(shuffled)  # type: ignore[attr-defined]
    assert content_hash(shuffled) == content_hash(pairs(files))


@given(FILES, st.text(min_size=1, alphabet=PATH_CHARS), st.binary())
def test_content_hash_sees_every_change(files: dict[str, bytes], path: str, data: bytes) -> None:
    before = content_hash(pairs(files))
    if path in files:
        changed = dict(files)
        if changed[path] != data:  # modified
            changed[path] = data
            assert content_hash(pairs(changed)) != before
        del changed[path]  # removed
        assert content_hash(pairs(changed)) != before
        renamed = {(p + "x" if p == path else p): d for p, d in files.items()}
        if len(renamed) == len(files):
            assert content_hash(pairs(renamed)) != before
    else:
        assert content_hash(pairs({**files, path: data})) != before  # added
