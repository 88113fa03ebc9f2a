"""The bounded YAML reader: alias expansion and depth counted exactly, anchors per document,
keys that are single values, and the loader's `!!str`."""

from __future__ import annotations

import pytest

from cdgen.errors import DescriptorError
from cdgen.yaml_input import Limits, check_structure, decode_source, load_yaml


def refusals(text: str, limits: Limits) -> list[str]:
    try:
        check_structure(text, "f.yml", limits)
    except DescriptorError as error:
        return [str(v) for v in error.violations]
    return []


def test_alias_expansion_is_counted_in_full_up_to_the_limit() -> None:
    text = "a: &a [1, 2, 3, 4]\nb: [*a, *a]\n"  # each alias repeats 5 nodes: the list and 4
    assert refusals(text, Limits(max_alias_nodes=10)) == []
    assert refusals(text, Limits(max_alias_nodes=9)) == [
        "f.yml:2:9: aliases repeat more than 9 nodes by here, the most cdgen expands; "
        "write the repeated values out"
    ]


def test_nested_aliases_multiply() -> None:
    text = "a: &a [1, 2]\nb: &b [*a, *a]\nc: [*b]\n"  # *b repeats 1 + 2 * 3 = 7 nodes
    assert refusals(text, Limits(max_alias_nodes=13)) == []
    assert refusals(text, Limits(max_alias_nodes=12)) != []


def test_depth_is_bounded_exactly() -> None:
    def nested(depth: int) -> str:
        return "[" * depth + "]" * depth

    assert refusals(nested(4), Limits(max_depth=4)) == []
    assert refusals(nested(5), Limits(max_depth=4)) == [
        "f.yml:1:5: the data nests deeper than 4 levels"
    ]


def test_an_alias_counts_the_depth_it_repeats() -> None:
    text = "a: &a [[[1]]]\nb: [[*a]]\n"  # *a brings 3 levels below depth 3
    assert refusals(text, Limits(max_depth=6)) == []
    assert refusals(text, Limits(max_depth=5)) == [
        "f.yml:2:6: alias *a nests the data deeper than 5 levels"
    ]


def test_anchors_do_not_leak_across_documents() -> None:
    text = "a: &a [1, 2, 3]\n---\nb: &a x\nc: [*a, *a]\n"
    assert refusals(text, Limits(max_alias_nodes=2)) == []


def test_a_redefined_anchor_counts_its_latest_node() -> None:
    text = "a: &a [1, 2, 3, 4, 5, 6, 7, 8, 9]\nb: &a x\nc: [*a, *a]\n"
    assert refusals(text, Limits(max_alias_nodes=2)) == []


def test_syntax_errors_keep_their_position() -> None:
    assert refusals("a: [1\n", Limits()) == [
        "f.yml:2:1: YAML syntax: expected ',' or ']', but got '<stream end>'"
    ]


def test_a_collection_as_a_key_is_refused() -> None:
    # ruamel itself fails with TypeError on a mapping inside a list key.
    assert refusals("? [a, {b: c}]\n: x\n&k [1]: y\n*k : z\n", Limits()) == [
        "f.yml:1:3: a key must be a single value, not a list",
        "f.yml:3:1: a key must be a single value, not a list",
        "f.yml:4:1: a key must be a single value, not a list",
    ]


def test_the_helper_decodes_and_loads() -> None:
    assert decode_source("a: é\n".encode(), "f.yml") == "a: é\n"
    assert load_yaml(b"a: !!str 22\nb: [1]\n", "f.yml") == {"a": "22", "b": [1]}
    assert type(load_yaml(b"a: !!str x\n", "f.yml")["a"]) is str


def test_a_redefined_anchor_loads_quietly() -> None:
    # pytest turns warnings into errors: ruamel's ReusedAnchorWarning would fail this.
    assert load_yaml(b"a: &x 1\nb: &x 2\nc: *x\n", "f.yml") == {"a": 1, "b": 2, "c": 2}


def test_a_stream_of_manifests_loads_with_the_same_checks() -> None:
    from cdgen.yaml_input import load_yaml_documents

    manifests = b"kind: Deployment\nmetadata: {name: api}\n---\nkind: Service\n"
    assert load_yaml_documents(manifests, "k8s/app.yaml") == [
        {"kind": "Deployment", "metadata": {"name": "api"}},
        {"kind": "Service"},
    ]
    bomb = b"a: &a [1, 2, 3]\nb: [*a, *a, *a]\n---\na: &a [1, 2, 3]\nb: [*a, *a]\n"
    with pytest.raises(DescriptorError) as caught:
        load_yaml_documents(bomb, "k8s/app.yaml", limits=Limits(max_alias_nodes=16))
    assert [str(v) for v in caught.value.violations] == [
        "k8s/app.yaml:5:9: aliases repeat more than 16 nodes by here, the most cdgen expands; "
        "write the repeated values out"
    ]


def test_an_undefined_alias_is_named_and_keeps_keys_apart_from_values() -> None:
    assert refusals("a: *nowhere\nb: 1\n", Limits()) == [
        "f.yml:1:4: alias *nowhere names no anchor before it"
    ]
