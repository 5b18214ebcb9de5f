"""Hostile values and request bodies, encoded by hand.

Django's test client encodes data itself and cannot send what an attacker can (a lone surrogate,
invalid UTF-8, a multipart body whose boundary is wrong), so every request here is raw bytes.
"""
from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote_from_bytes

from hypothesis import strategies as st

# Numbers the code may int()/float() or hand to the database.
NUMBERS = ["0", "-1", "1", "00001", "9" * 30, str(10**30), str(2**31), str(2**63), str(2**64),
           str(-(2**63) - 1), "1e308", "1e309", "-1e308", "NaN", "nan", "inf", "-Infinity", "0.5",
           "-0", "+1", "1.", " 7 ", "1_000", "0x1f"]
# Digits that str.isdigit() accepts and int() or the database does not (or does, surprisingly).
UNICODE_DIGITS = ["²", "١٢٣", "१२", "½", "𝟗", "٣.٥", "⑦"]
NESTED_JSON = ["[" * 5000, "[" * 5000 + "]" * 5000, '{"a":' * 3000 + "1" + "}" * 3000,
               '{"properties":' + "[" * 5000 + "]" * 5000 + "}"]
# JSON escapes that decode to lone surrogates: fine for json.loads, fatal for .encode("utf-8").
SURROGATE_JSON = ['"\\ud800"', '{"x": "\\udfff"}', '{"\\ud800": 1}',
                  '[{"entity_id": "team-a/\\ud800", "properties": {"k": "\\udc00"}}]',
                  '{"status": "\\ud83d"}']
ODD = ["", " ", "\x00", "a\x00b", "null", "true", "[]", "{}", "<script>alert(1)</script>",
       "../../etc/passwd", "%00", "\r\n", "//evil.example/", "javascript:alert(1)",
       "http://127.0.0.1:1/", "http://[::1]:9/", "http://", "2026-13-45", "9999-12-31T23:59:59",
       "a" * 300, "é" * 5000, "x" * 50_000, "\ud800", "a\udfffb", "\ufeff1", "—"]
HOSTILE = NUMBERS + UNICODE_DIGITS + NESTED_JSON + SURROGATE_JSON + ODD

# Any code point, lone surrogates included (hypothesis leaves category Cs out by default).
any_text = st.text(st.characters(exclude_categories=()), max_size=40)


def hostile_values(plausible: list[str]) -> st.SearchStrategy[str]:
    return st.one_of(
        st.sampled_from(HOSTILE),
        any_text,
        st.integers(min_value=-(2**70), max_value=2**70).map(str),
        st.floats(allow_nan=True, allow_infinity=True).map(repr),
        *([st.sampled_from(plausible)] if plausible else []),
    )


def encode(value: str) -> bytes:
    # surrogatepass: a lone surrogate becomes the (invalid) UTF-8 bytes a hostile client sends.
    return value.encode("utf-8", "surrogatepass")


def urlencoded(pairs: list[tuple[str, str]]) -> str:
    return "&".join(f"{quote_from_bytes(encode(k))}={quote_from_bytes(encode(v))}" for k, v in pairs)


@dataclass
class Body:
    kind: str
    content_type: str
    data: bytes

    def describe(self, limit: int = 160) -> str:
        shown = self.data[:limit]
        more = f" …(+{len(self.data) - limit} bytes)" if len(self.data) > limit else ""
        return f"{self.kind} [{self.content_type}] {shown!r}{more}"


def multipart(pairs: list[tuple[str, str]], boundary: str = "fuzzboundary") -> bytes:
    chunks = []
    for key, value in pairs:
        chunks.append(b"--" + boundary.encode() + b"\r\nContent-Disposition: form-data; name=\""
                      + encode(key) + b"\"\r\n\r\n" + encode(value) + b"\r\n")
    chunks.append(b"--" + boundary.encode() + b"--\r\n")
    return b"".join(chunks)


BROKEN_MULTIPART = [
    # (content type, body): a wrong boundary, none, a truncated part, garbage, a bad header.
    ("multipart/form-data; boundary=expected", multipart([("address", "x")], boundary="other")),
    ("multipart/form-data", multipart([("address", "x")])),
    ("multipart/form-data; boundary=fuzzboundary", b"--fuzzboundary\r\nContent-Disposition: form-d"),
    ("multipart/form-data; boundary=fuzzboundary", b"\x00\xff" * 64),
    ("multipart/form-data; boundary=" + "b" * 300, multipart([("a", "b")], boundary="b" * 300)),
    ("multipart/form-data; boundary=fuzzboundary",
     b"--fuzzboundary\r\nContent-Disposition: form-data; name=\"\xff\xfe\"\r\n\r\nv\r\n--fuzzboundary--\r\n"),
    ("multipart/form-data; boundary=fuzzboundary",
     b"--fuzzboundary\r\nContent-Type: text/plain\r\n\r\nno disposition\r\n--fuzzboundary--\r\n"),
    ("multipart/form-data; boundary=\"\"", b"--\r\n\r\n--"),
]


@st.composite
def bodies(draw, pairs: list[tuple[str, str]]) -> Body:
    kind = draw(st.sampled_from(["form", "form", "form", "multipart", "broken-multipart", "json",
                                 "json-of-fields", "empty", "garbage"]))
    if kind == "form":
        return Body(kind, "application/x-www-form-urlencoded", urlencoded(pairs).encode("ascii"))
    if kind == "multipart":
        return Body(kind, "multipart/form-data; boundary=fuzzboundary", multipart(pairs))
    if kind == "broken-multipart":
        content_type, data = draw(st.sampled_from(BROKEN_MULTIPART))
        return Body(kind, content_type, data)
    if kind == "json":
        text = draw(st.sampled_from(NESTED_JSON + SURROGATE_JSON + ["", "{", "nul", "1e999"]))
        content_type = draw(st.sampled_from(["application/json", "text/plain", ""]))
        return Body(kind, content_type, encode(text))
    if kind == "json-of-fields":
        import json

        return Body(kind, "application/json", encode(json.dumps(dict(pairs))))
    if kind == "garbage":
        return Body(kind, "application/x-www-form-urlencoded", draw(st.binary(max_size=200)))
    return Body(kind, "", b"")


# The deterministic sweep (before hypothesis): each of these in every field at once, then the
# number-shaped ones in each of the view's own fields alone, the others left plausible.
ALL_FIELDS_VALUES = ["", "x", "²", str(10**30), "[" * 3000, '{"x": "\\ud800"}', "\x00"]
PER_FIELD_VALUES = ["²", str(10**30)]
# Every view gets these (the middleware reads every body the same way); views that read
# request.body themselves get all of SPECIAL_BODIES.
COMMON_BODIES = [Body("json", "application/json", encode(NESTED_JSON[0])),
                 Body("broken-multipart", *BROKEN_MULTIPART[0]),
                 Body("broken-multipart", *BROKEN_MULTIPART[2])]
SPECIAL_BODIES = (
    [Body("json", "application/json", encode(text)) for text in NESTED_JSON[:3] + SURROGATE_JSON[:3]]
    + [Body("json", "text/plain", encode(NESTED_JSON[0])), Body("json", "application/json", b"")]
    + [Body("broken-multipart", content_type, data) for content_type, data in BROKEN_MULTIPART]
    + [Body("garbage", "application/x-www-form-urlencoded", b"a=\xff\xfe&%ff=%ed%a0%80&" + b"&" * 2000)]
)
