"""`cdgen validate` on hostile bytes: control characters, bad encodings, alias bombs, deep
nesting and huge numbers end in exact positioned messages and exit 1, never 3 or a hang."""

from __future__ import annotations

import string
from collections.abc import Callable
from pathlib import Path

import pytest

from cdgen.cli import main

HEAD = "version: 1\nname: api\n"
ENVIRONMENTS = (
    "environments:\n  - {name: staging, url: https://x.example.com, kubernetes: {namespace: s}}\n"
)
VALID = HEAD + ENVIRONMENTS


Validate = Callable[[bytes], tuple[int, str]]


@pytest.fixture
def validate(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> Validate:
    """`cdgen validate` in-process on these bytes: (exit code, stderr or stdout)."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("GITHUB_ACTIONS", raising=False)

    def run(data: bytes) -> tuple[int, str]:
        (tmp_path / "cdgen.yml").write_bytes(data)
        code = main(["validate"])
        captured = capsys.readouterr()
        return code, captured.err if code else captured.out

    return run


def refused(*lines: str) -> tuple[int, str]:
    count = len(lines)
    tail = f"cdgen: {count} problem{'s' if count != 1 else ''} found\n"
    return 1, "".join(f"cdgen.yml:{line}\n" for line in lines) + tail


CONTROL_CASES = [
    pytest.param(b"name: a\x7fb\n", ["2:8: control character U+007F is not allowed"], id="DEL"),
    pytest.param(b"name: api\x00\n", ["2:10: control character U+0000 is not allowed"], id="NUL"),
    pytest.param(
        b"name: a\xc2\x85b\n", ["2:8: control character U+0085 is not allowed"], id="C1-NEL"
    ),
    pytest.param(
        b"name: a\xc2\x9bb\n", ["2:8: control character U+009B is not allowed"], id="C1-CSI"
    ),
    pytest.param(
        b"name: a\xef\xbf\xbe\n", ["2:8: noncharacter U+FFFE is not allowed"], id="U+FFFE"
    ),
    pytest.param(
        b"name: a\xef\xb7\x90\n", ["2:8: noncharacter U+FDD0 is not allowed"], id="U+FDD0"
    ),
    pytest.param(
        b"name: a\xf4\x8f\xbf\xbf\n", ["2:8: noncharacter U+10FFFF is not allowed"], id="U+10FFFF"
    ),
    pytest.param(
        b"name: a\xed\xa0\x80\n", ["2:8: bytes 0xED 0xA0 0x80: not UTF-8"], id="encoded-surrogate"
    ),
    pytest.param(b"name: caf\xe9\n", ["2:10: byte 0xE9: not UTF-8"], id="latin-1"),
    pytest.param(
        b'name: "a\\x7fb"\n',
        ["2:9: \\x7f stands for control character U+007F, which is not allowed"],
        id="escaped-DEL",
    ),
    pytest.param(
        b'name: "a\\ud800"\n',
        ["2:9: \\ud800 stands for lone surrogate U+D800, which is not allowed"],
        id="escaped-surrogate",
    ),
    pytest.param(
        b'name: "\\e[2J\\0"\n',
        [
            "2:8: \\e stands for control character U+001B, which is not allowed",
            "2:13: \\0 stands for control character U+0000, which is not allowed",
        ],
        id="escaped-ESC-and-NUL",
    ),
    pytest.param(
        b'name: "a\\N\\uFFFF\\U0001FFFE"\n',
        [
            "2:9: \\N stands for control character U+0085, which is not allowed",
            "2:11: \\uFFFF stands for noncharacter U+FFFF, which is not allowed",
            "2:17: \\U0001FFFE stands for noncharacter U+1FFFE, which is not allowed",
        ],
        id="escaped-C1-and-noncharacters",
    ),
    pytest.param(
        b'"na\\x01me": api\n',
        ["2:4: \\x01 stands for control character U+0001, which is not allowed"],
        id="escaped-in-key",
    ),
    pytest.param(
        b'name: "first line\n  \\x7f on the second"\n',
        ["3:3: \\x7f stands for control character U+007F, which is not allowed"],
        id="escape-on-a-continuation-line",
    ),
    pytest.param(
        b"name: a\x7f\nbranch: \x01\n",
        [
            "2:8: control character U+007F is not allowed",
            "3:9: control character U+0001 is not allowed",
        ],
        id="all-at-once",
    ),
    pytest.param(
        b"name: api\r\nbranch: m\x7f\r\n",
        ["3:10: control character U+007F is not allowed"],
        id="after-CRLF",
    ),
]


@pytest.mark.parametrize(("line", "expected"), CONTROL_CASES)
def test_control_characters_are_refused_at_their_position(
    validate: Validate, line: bytes, expected: list[str]
) -> None:
    assert validate(b"version: 1\n" + line + ENVIRONMENTS.encode()) == refused(*expected)


def test_a_comment_line_is_checked_too(validate: Validate) -> None:
    text = b"# \x1b[31m red\nversion: 1\nname: api\n" + ENVIRONMENTS.encode()
    assert validate(text) == refused("1:3: control character U+001B is not allowed")


@pytest.mark.parametrize(
    "value",
    [
        pytest.param('"a\\tb"', id="escaped-tab"),
        pytest.param('"two\\nlines"', id="escaped-newline"),
        pytest.param("'a\tb'", id="raw-tab"),
        pytest.param('"\\\\x7f is text"', id="escaped-backslash-then-x7f"),
        pytest.param('"caf\\u00e9 \\U0001F600"', id="non-ascii-escapes"),
        pytest.param("|\n    echo one\r\n    echo two", id="block-with-CRLF"),
    ],
)
def test_tabs_line_breaks_and_text_pass(validate: Validate, value: str) -> None:
    text = VALID + f"image:\n  test: {value}\n"
    assert validate(text.encode()) == (0, "cdgen.yml: valid\n")


@pytest.mark.parametrize(
    "encoding", ["utf-8-sig", "utf-16-le", "utf-16-be"], ids=["utf8-bom", "utf16le", "utf16be"]
)
def test_a_byte_order_mark_selects_the_encoding(validate: Validate, encoding: str) -> None:
    data = VALID.encode(encoding)
    if encoding.startswith("utf-16"):
        data = "\ufeff".encode(encoding) + data
    assert validate(data) == (0, "cdgen.yml: valid\n")


def test_a_lone_surrogate_in_utf16_is_refused(validate: Validate) -> None:
    data = b"\xff\xfe" + "version: 1\nname: a".encode("utf-16-le") + b"\x00\xd8"
    data += ("\n" + ENVIRONMENTS).encode("utf-16-le")
    assert validate(data) == refused("2:8: lone surrogate U+D800 is not allowed")


# Bounded work ------------------------------------------------------------------------------


def alias_bomb(levels: int, width: int = 9) -> str:
    """The "billion laughs": each level lists the one before `width` times."""
    names = string.ascii_lowercase
    lines = [f"{names[0]}: &{names[0]} [{', '.join(['lol'] * width)}]"]
    for level in range(1, levels):
        alias = f"*{names[level - 1]}"
        lines.append(f"{names[level]}: &{names[level]} [{', '.join([alias] * width)}]")
    return "\n".join(lines) + "\n"


def test_an_alias_bomb_is_refused_before_anything_walks_it(validate: Validate) -> None:
    # 9^9 values in 400 bytes: unbounded, validation ran for minutes and took gigabytes.
    bomb = alias_bomb(9)
    text = HEAD + "x:\n" + "".join(f"  {line}\n" for line in bomb.splitlines())
    text += "environments: *i\n"
    assert len(text.encode()) < 520
    assert validate(text.encode()) == refused(
        "8:10: aliases repeat more than 10000 nodes by here, the most cdgen expands; "
        "write the repeated values out"
    )


def test_deep_nesting_is_refused_not_a_crash(validate: Validate) -> None:
    text = HEAD + "environments: " + "[" * 5000 + "]" * 5000 + "\n"
    assert validate(text.encode()) == refused("3:78: the data nests deeper than 64 levels")


def test_a_recursive_alias_is_refused(validate: Validate) -> None:
    text = HEAD + "environments: &loop\n  - smoke: *loop\n"
    assert validate(text.encode()) == refused("4:12: alias *loop refers to a node that contains it")


def test_an_oversized_file_is_refused_unread(validate: Validate) -> None:
    text = VALID + "#" * (1 << 20) + "\n"
    assert validate(text.encode()) == refused(
        "1:1: the file is larger than 1048576 bytes; cdgen reads at most that"
    )


def test_a_huge_integer_is_refused_not_a_crash(validate: Validate) -> None:
    text = VALID.replace("name: api\n", "name: api\nbranch: " + "9" * 5000 + "\n")
    assert validate(text.encode()) == refused("3:9: a number of more than 1000 digits")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2024-13-45", "'2024-13-45' reads as a date but is not one (month must be in 1..12)"),
        (
            "2024-02-30",
            "'2024-02-30' reads as a date but is not one (day is out of range for month)",
        ),
        ("0x_", "'0x_' reads as an integer but is not one (string index out of range)"),
    ],
)
def test_a_value_ruamel_cannot_build_is_refused_not_a_crash(
    validate: Validate, value: str, expected: str
) -> None:
    text = VALID.replace("name: api\n", f"name: api\nbranch: {value}\n")
    assert validate(text.encode()) == refused(f"3:9: {expected}; quote it if it is text")


def test_a_binary_file_gets_a_short_report(validate: Validate) -> None:
    code, err = validate(VALID.encode("utf-16-le"))  # no byte order mark: read as UTF-8
    lines = err.splitlines()
    assert code == 1
    assert lines[0] == "cdgen.yml:1:2: control character U+0000 is not allowed"
    assert lines[100] == "cdgen.yml:4:133: and more like these"
    assert lines[101:] == ["cdgen: 101 problems found"]
    code, err = validate(b"version: 1\n" + bytes(range(0x80, 0x100)))
    assert (
        err.splitlines()[0]
        == "cdgen.yml:2:1: bytes 0x80 0x81 0x82 0x83 0x84 0x85 0x86 0x87 ...: not UTF-8"
    )
