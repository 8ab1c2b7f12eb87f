"""What a client is told about a body that is not JSON: a line, a column and the mistake.

On a real server: tests/test_seeds.py sends seed 001's broken sample to every wire format.
Here the sentence for each kind of mistake, and a property: any damaged document gets one.
"""

from __future__ import annotations

import json

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.support import Tenant
from tracklog.ingest.wire.common import not_json
from tracklog.ingest.wire.json_errors import describe

CASES = {
    # An unterminated string: msgspec stops at the line break inside it.
    b'{\n  "event": "signed_in,\n  "user_id": "u1"\n}': "line 2, column 23: the string that "
    'starts at line 2, column 12 is not closed: a `"` is missing before the end of the line',
    b'{"a": 1,\n "b": 2,\n}': "line 2, column 8: a trailing comma: remove the `,` before the "
    "closing `}`",
    b"[1, 2,]": "line 1, column 6: a trailing comma: remove the `,` before the closing `]`",
    b'{"a": 1 "b": 2}': 'line 1, column 9: a comma is missing before `"`',
    b'{"a" 1}': "line 1, column 6: expected `:` after the key, found `1`",
    b'{"a": }': "line 1, column 7: a value is missing after the `:`, found `}`",
    b'{"a": [1, 2}': "line 1, column 12: found `}`, but the innermost open bracket is the `[` at "
    "line 1, column 7: close it with `]` first",
    b'{"a": 1': "line 1, column 8 (the end of the body): the `{` at line 1, column 1 is not "
    "closed: a `}` is missing",
    b'{"a": "x': "line 1, column 9 (the end of the body): the string that starts at line 1, "
    'column 7 is not closed: a `"` is missing',
    b"{'a': 1}": 'line 1, column 2: keys and strings take double quotes ("), not single quotes',
    b"{a: 1}": 'line 1, column 2: keys must be in double quotes: "a"',
    b'{"a": tru, "b": 1}': "line 1, column 7: `tru` is not a JSON value (`true`, perhaps)",
    b'{"a": True}': "line 1, column 7: `True` is not JSON: write `true`",
    b'{"a": NaN}': "line 1, column 7: `NaN` is not a JSON value",
    b'{"a": 01}': "line 1, column 7: `01` is not a JSON number",
    b'{"a": 1 // note\n}': "line 1, column 9: JSON has no comments",
    b'{"a": "\\q"}': "line 1, column 8: `\\q` is not a JSON escape",
    b'{"a": "\\ud800"}': "line 1, column 8: `\\ud800` is half of a UTF-16 surrogate pair",
    b'{"a": 1}\n{"b": 2}': "line 2, column 1: `{` after the end of the JSON document",
    b'{"\xc3\xa9": "\xff"}': "line 1, column 8: byte 0xFF is not UTF-8",
    b'{"name": "J\xc3\xa9r\xc3\xb4me", "x": nope}': "line 1, column 25: `nope` is not a JSON "
    "value: text must be in double quotes",
}


@pytest.mark.parametrize("body", list(CASES), ids=range(len(CASES)))
def test_each_mistake_is_named_where_it_is(body: bytes) -> None:
    with pytest.raises((msgspec.DecodeError, UnicodeDecodeError)) as caught:
        msgspec.json.decode(body)
    assert describe(body, caught.value).startswith(CASES[body])


def test_positions_count_in_the_body_as_sent() -> None:
    """Leading blank lines, stripped before decoding, still count."""
    body = b'\n\n  {"a": 1,}'
    with pytest.raises(msgspec.DecodeError) as caught:
        msgspec.json.decode(body.strip())
    assert not_json(body, caught.value).startswith(
        "The request body is not valid JSON: line 3, column 10: a trailing comma"
    )


_DOCS = [
    json.dumps(
        {"event": "signed_in", "properties": {"n": [1, 2.5, None, True], "s": "é"}}, indent=indent
    ).encode()
    for indent in (None, 2)
]


@given(
    st.sampled_from(_DOCS),
    st.lists(
        st.tuples(st.integers(0, 200), st.sampled_from(list(b" \n{}[],:\"\\tfn0.-+x\x01\xff/'")))
    ),
    st.integers(0, 200),
)
@settings(max_examples=2000, deadline=None)
def test_any_damaged_document_gets_a_position(
    doc: bytes, inserts: list[tuple[int, int]], cut: int
) -> None:
    damaged = bytearray(doc)
    for at, byte in inserts:
        damaged.insert(min(at, len(damaged)), byte)
    body = bytes(damaged[: max(cut, 1)] if cut < len(damaged) else damaged)
    try:
        msgspec.json.decode(body)
    except (msgspec.DecodeError, UnicodeDecodeError, RecursionError) as exc:
        text = describe(body, exc)
        assert text.startswith("line "), (body, text)


def test_a_replay_request_that_is_not_json(tenant: Tenant) -> None:
    """The quarantine replay's own body is told the same way."""
    r = tenant.post("/api/quarantine/replay", content=b'{"all": tru}')
    assert r.status_code == 400
    assert r.json()["error"] == {
        "code": "invalid_json",
        "message": "The request body is not valid JSON: line 1, column 9: `tru` is not a JSON "
        "value (`true`, perhaps).",
    }
