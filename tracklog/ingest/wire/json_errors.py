"""Why a body is not JSON, said as a person fixing it by hand needs it: where, and what to do.

msgspec says what went wrong and at which byte ("invalid character (byte 83)"). This turns the
byte into a line and column and reads the bytes around it to name the mistake: a string that
is not closed, a trailing or missing comma, a missing colon, single quotes, `NaN`, a comment…
The document is valid up to the error (msgspec read it that far), so a small scan of those
bytes knows whether the error is inside a string and which brackets are open.
"""

from __future__ import annotations

import difflib
import re

_REPORT = re.compile(r"^JSON is malformed: (.*) \(byte (\d+)\)$")
_SURROGATE = re.compile(rb"\\u[dD][89abAB][0-9a-fA-F]{2}")
_LOW = re.compile(rb"\\u[dD][c-fC-F][0-9a-fA-F]{2}")
_ESCAPE = re.compile(rb"\\(u[0-9a-fA-F]{0,4}|.)", re.S)
_WS = b" \t\r\n"
_DELIMITERS = b' \t\r\n,:[]{}"'
_LITERALS = ("true", "false", "null")
_NOT_JSON = {"True": "true", "False": "false", "None": "null"}
_NOT_NUMBERS = ("NaN", "Infinity", "-Infinity", "+Infinity", "undefined")
_CLOSE = {ord("{"): "}", ord("["): "]"}


class _Scan:
    """What the bytes before an error show: an open string, open brackets, the last value."""

    def __init__(self, body: bytes, start: int, stop: int) -> None:
        self.string_start: int | None = None
        self.brackets: list[int] = []
        self.last_mark: int | None = None  # the last `{ [ , :` outside strings
        self.value_start: int | None = None  # where the last value began
        self.expecting = True  # a value (or key) may start here
        self.ended: int | None = None  # just past the outermost array or object
        i = start
        while i < stop:
            c = body[i]
            if self.string_start is not None:
                if c == 0x5C:  # a backslash: skip what it escapes
                    i += 2
                    continue
                if c == 0x22:
                    self.string_start = None
            elif c == 0x22:
                self.string_start = i
                self._begin(i)
            elif c in b"{[":
                self._begin(i)
                self.brackets.append(i)
                self.last_mark, self.expecting = i, True
            elif c in b"}]":
                if self.brackets:
                    self.brackets.pop()
                    if not self.brackets and self.ended is None:
                        self.ended = i + 1
                self.expecting = False
            elif c in b",:":
                self.last_mark, self.expecting = i, True
            elif c not in _WS:
                self._begin(i)
            i += 1

    def _begin(self, i: int) -> None:
        if self.expecting:
            self.value_start, self.expecting = i, False


def describe(body: bytes, exc: BaseException, start: int = 0) -> str:
    """Where and why `body[start:]` is not JSON, from msgspec's error for decoding it."""
    if isinstance(exc, RecursionError):
        return "it is nested too deeply"
    if isinstance(exc, UnicodeDecodeError):
        return _not_utf8(body, start)
    text = str(exc)
    if text == "Invalid UTF-8 encoded string":
        return _not_utf8(body, start)
    if text == "Input data was truncated":
        return _truncated(body, start)
    match = _REPORT.match(text)
    if match is None:
        return text if len(text) <= 200 else text[:200] + "…"
    problem, offset = match.group(1), start + int(match.group(2))
    offset = min(offset, len(body))
    if problem.startswith("trailing comma"):
        comma = _previous(body, offset, b",")
        closing = "}" if "object" in problem else "]"
        return (
            f"{_at(body, comma)}: a trailing comma: remove the `,` before the closing "
            f"`{closing}` (JSON allows no comma after the last item)"
        )
    if problem == "expected ':'":
        return f"{_at(body, offset)}: expected `:` after the key, found {_found(body, offset)}"
    if problem in ("expected ',' or '}'", "expected ',' or ']'"):
        return _expected_comma(body, start, offset, problem[-2])
    if problem == "object keys must be strings":
        return _key(body, offset)
    if problem == "invalid character":
        return _invalid_character(body, start, offset)
    if problem == "invalid number":
        return _bad_number(body, _value_start(_Scan(body, start, offset), offset))
    if problem == "invalid utf-16 surrogate pair":
        return _lone_surrogate(body, start) or f"{_at(body, offset)}: {problem}"
    if problem.startswith(("invalid escape", "invalid character in unicode")):
        backslash = body.rfind(b"\\", start, offset)
        backslash = offset if backslash < 0 else backslash
        escape = _ESCAPE.match(body, backslash)
        shown = escape.group().decode("utf-8", "replace") if escape else "\\"
        return (
            f"{_at(body, backslash)}: `{shown}` is not a JSON "
            'escape (use \\" \\\\ \\/ \\b \\f \\n \\r \\t or \\u and four hex digits; a '
            "backslash itself is written \\\\)"
        )
    if problem == "trailing characters":
        scan = _Scan(body, start, offset)
        extra = scan.ended if scan.ended is not None else max(offset - 1, start)
        extra = _next(body, extra)
        return (
            f"{_at(body, extra)}: {_found(body, extra)} after the end of the JSON document: "
            "send one document per request (several events go in one array)"
        )
    return f"{_at(body, offset)}: {problem}"


def _not_utf8(body: bytes, start: int) -> str:
    try:
        body[start:].decode("utf-8")
    except UnicodeDecodeError as exc:
        offset = start + exc.start
        return (
            f"{_at(body, offset)}: byte 0x{body[offset]:02X} is not UTF-8; send the body as UTF-8"
        )
    return "the body is not UTF-8; send it as UTF-8"


def _truncated(body: bytes, start: int) -> str:
    end = len(body.rstrip())
    scan = _Scan(body, start, end)
    where = f"{_at(body, end)} (the end of the body)"
    if scan.string_start is not None:
        return (
            f"{where}: the string that starts at {_at(body, scan.string_start)} is not "
            'closed: a `"` is missing'
        )
    if scan.brackets:
        opener = scan.brackets[-1]
        return (
            f"{where}: the `{chr(body[opener])}` at {_at(body, opener)} is not closed: "
            f"a `{_CLOSE[body[opener]]}` is missing"
        )
    # msgspec reports a lone UTF-16 surrogate, and a bad literal at the very end, as this too.
    lone = _lone_surrogate(body, start)
    if lone:
        return lone
    if scan.value_start is not None and _token(body, scan.value_start).isalpha():
        return _invalid_character(body, start, scan.value_start)
    return f"{where}: the JSON value is not complete"


def _lone_surrogate(body: bytes, start: int) -> str | None:
    for found in _SURROGATE.finditer(body, start):
        if not _LOW.match(body, found.end()):
            return (
                f"{_at(body, found.start())}: `{found.group().decode()}` is half of a UTF-16 "
                "surrogate pair, and the other half does not follow it"
            )
    return None


def _bad_number(body: bytes, begin: int) -> str:
    return (
        f"{_at(body, begin)}: `{_token(body, begin)}` is not a JSON number (no leading `+` or "
        "zeros, digits on both sides of a `.` and after an `e`)"
    )


def _expected_comma(body: bytes, start: int, offset: int, closing: str) -> str:
    scan = _Scan(body, start, offset)
    found = _found(body, offset)
    char = body[offset : offset + 1]
    what = "object" if closing == "}" else "array"
    if char == b"/":
        return f"{_at(body, offset)}: JSON has no comments; remove it"
    number = scan.value_start
    if number is not None and body[number] in b"-0123456789" and _ends(body, number) > offset:
        return _bad_number(body, number)  # 0x10, 1_000
    if char in (b"}", b"]") and scan.brackets:
        opener = scan.brackets[-1]
        return (
            f"{_at(body, offset)}: found {found}, but the innermost open bracket is the "
            f"`{chr(body[opener])}` at {_at(body, opener)}: close it with `{closing}` first"
        )
    if char and (char in b'"{[-' or char.isalnum()):
        return (
            f"{_at(body, offset)}: a comma is missing before {found} "
            f"(expected `,` or the `{closing}` that closes the {what})"
        )
    return f"{_at(body, offset)}: expected `,` or `{closing}`, found {found}"


def _key(body: bytes, offset: int) -> str:
    char = body[offset : offset + 1]
    if char == b"'":
        return f'{_at(body, offset)}: keys and strings take double quotes ("), not single quotes'
    if char == b",":
        return f"{_at(body, offset)}: an extra `,`: expected a key in double quotes"
    if char.isalpha():
        word = _token(body, offset)
        return f'{_at(body, offset)}: keys must be in double quotes: "{word}"'
    return f"{_at(body, offset)}: expected a key in double quotes, found {_found(body, offset)}"


def _invalid_character(body: bytes, start: int, offset: int) -> str:
    scan = _Scan(body, start, offset)
    char = body[offset : offset + 1]
    literal = _bad_literal(body, start, offset)
    if literal is None and scan.string_start is not None and char and char[0] < 0x20:
        opened = _at(body, scan.string_start)
        if char in (b"\n", b"\r"):
            return (
                f"{_at(body, offset)}: the string that starts at {opened} is not closed: a "
                '`"` is missing before the end of the line (a line break inside a string is '
                "written \\n)"
            )
        code = char[0]
        escape = "\\t" if char == b"\t" else f"\\u{code:04x}"
        return (
            f"{_at(body, offset)}: a control character (U+{code:04X}) inside the string that "
            f"starts at {opened}; write it escaped, as {escape}"
        )
    if offset == start and body[start : start + 3] == b"\xef\xbb\xbf":
        return (
            f"{_at(body, offset)}: the body starts with a byte-order mark; send UTF-8 without one"
        )
    begin = _value_start(scan, offset) if literal is None else literal
    if begin == offset and char in (b",", b"}", b"]", b""):
        return _missing_value(body, scan, offset)
    token = _token(body, begin)
    at = _at(body, begin)
    if token.startswith("'"):
        return f'{at}: strings take double quotes ("), not single quotes'
    if token in _NOT_JSON:
        return f"{at}: `{token}` is not JSON: write `{_NOT_JSON[token]}`"
    if token in _NOT_NUMBERS:
        return f"{at}: `{token}` is not a JSON value: send a number, null or a string"
    if token.startswith("/"):
        return f"{at}: JSON has no comments; remove it"
    close = difflib.get_close_matches(token, _LITERALS, n=1, cutoff=0.6)
    if close and token.isalpha():
        return f"{at}: `{token}` is not a JSON value (`{close[0]}`, perhaps)"
    if token[:1] in ("+", ".", "-"):
        return f"{at}: `{token}` is not a JSON number"
    if token[:1].isalpha():
        return f'{at}: `{token}` is not a JSON value: text must be in double quotes ("{token}")'
    return f"{at}: unexpected {_found(body, begin)}"


def _value_start(scan: _Scan, offset: int) -> int:
    """Where the value with the bad character begins (or the character itself)."""
    return offset if scan.expecting or scan.value_start is None else scan.value_start


def _bad_literal(body: bytes, start: int, offset: int) -> int | None:
    """Where a misspelt true, false or null begins, if that is what the error is.

    msgspec compares a literal as a whole and reports the byte just past it ("tru}" at the
    `}`'s next byte), so look one literal's length back for a value that starts like one.
    """
    for literal in _LITERALS:
        begin = offset - len(literal)
        if begin < start or body[begin] != ord(literal[0]):
            continue
        if body.startswith(literal.encode(), begin):
            continue
        scan = _Scan(body, start, begin)
        if scan.expecting and scan.string_start is None:
            return begin
    return None


def _missing_value(body: bytes, scan: _Scan, offset: int) -> str:
    found = _found(body, offset)
    mark = body[scan.last_mark : scan.last_mark + 1] if scan.last_mark is not None else b""
    if body[offset : offset + 1] in (b"}", b"]") and scan.brackets:
        opener = scan.brackets[-1]
        if _CLOSE[body[opener]] != chr(body[offset]):
            return (
                f"{_at(body, offset)}: found {found}, but the innermost open bracket is the "
                f"`{chr(body[opener])}` at {_at(body, opener)}: close it with "
                f"`{_CLOSE[body[opener]]}` first"
            )
    if mark == b":":
        return f"{_at(body, offset)}: a value is missing after the `:`, found {found}"
    if mark == b",":
        return f"{_at(body, offset)}: a value is missing after the `,`, found {found}"
    return f"{_at(body, offset)}: expected a value, found {found}"


def _ends(body: bytes, begin: int) -> int:
    """Just past the token (an unquoted word or number) that starts at `begin`."""
    end = begin + 1
    while end < len(body) and body[end] not in _DELIMITERS:
        end += 1
    return end


def _token(body: bytes, begin: int) -> str:
    return body[begin : min(_ends(body, begin), begin + 24)].decode("utf-8", "replace")


def _found(body: bytes, offset: int) -> str:
    if offset >= len(body):
        return "the end of the body"
    char = body[offset : offset + 1]
    if char in (b"\n", b"\r"):
        return "a line break"
    if char[0] < 0x20 or char[0] == 0x7F:
        return f"the control character U+{char[0]:04X}"
    return f"`{char.decode()}`" if char.isascii() else "a non-ASCII character"


def _previous(body: bytes, offset: int, wanted: bytes) -> int:
    found = body.rfind(wanted, 0, offset)
    return found if found >= 0 else offset


def _next(body: bytes, offset: int) -> int:
    while offset < len(body) and body[offset] in _WS:
        offset += 1
    return offset


def _at(body: bytes, offset: int) -> str:
    """`line L, column C` of a byte offset (columns count characters, from 1)."""
    line_start = body.rfind(b"\n", 0, offset) + 1
    line = body.count(b"\n", 0, offset) + 1
    column = len(body[line_start:offset].decode("utf-8", "replace")) + 1
    return f"line {line}, column {column}"
