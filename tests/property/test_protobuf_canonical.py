"""The Protobuf canonical form ignores formatting and name qualification, and is idempotent.

Hypothesis draws a small .proto model (a package, messages with scalar, enum, message and
nested-message fields) and renders it twice with different whitespace, comments, line
endings, quote styles, option spacing and type-name qualification.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from google.protobuf import descriptor_pb2, text_format
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from weir.registry.formats.protobuf import PROTOBUF, canonical_form

SCALARS = [
    *("int32", "int64", "uint32", "uint64", "sint32", "sint64", "bool", "string", "bytes"),
    *("fixed32", "fixed64", "sfixed32", "sfixed64", "float", "double"),
]


@dataclass(frozen=True)
class Field:
    label: str  # "" or "repeated"
    type: str  # a scalar, "Color", "M<k>" or "Inner"
    name: str
    number: int
    deprecated: bool


@dataclass(frozen=True)
class Model:
    package: str
    messages: tuple[tuple[Field, ...], ...]  # message k is named M<k>; M0 has a nested Inner


@st.composite
def models(draw: st.DrawFn) -> Model:
    package = draw(st.sampled_from(["", "shop", "acme.orders.v1"]))
    count = draw(st.integers(1, 3))
    messages = []
    for _ in range(count):
        numbers = draw(st.lists(st.integers(1, 40), min_size=1, max_size=5, unique=True))
        types = st.sampled_from([*SCALARS, "Color", "Inner", *(f"M{k}" for k in range(count))])
        fields = tuple(
            Field(
                label=draw(st.sampled_from(["", "repeated"])),
                type=draw(types),
                name=f"f{i}",
                number=number,
                deprecated=draw(st.booleans()),
            )
            for i, number in enumerate(numbers)
        )
        messages.append(fields)
    return Model(package, tuple(messages))


@dataclass(frozen=True)
class Style:
    separators: list[str]  # cycled between tokens; each is whitespace or a comment
    crlf: bool
    single_quotes: bool
    qualify: list[int]  # cycled per type reference: 0 short, 1 package-qualified, 2 absolute


styles = st.builds(
    Style,
    separators=st.lists(
        st.sampled_from([" ", "\n", "\t", "  \n\n  ", " /* note */ ", " // note\n", "\n/**/"]),
        min_size=1,
        max_size=6,
    ),
    crlf=st.booleans(),
    single_quotes=st.booleans(),
    qualify=st.lists(st.integers(0, 2), min_size=1, max_size=4),
)


def type_name(model: Model, owner: int, target: str, how: int) -> str:
    if target in SCALARS:
        return target
    path = "M0.Inner" if target == "Inner" else target
    if how == 0 and not (target == "Inner" and owner != 0):
        return "Inner" if target == "Inner" else path
    qualified = f"{model.package}.{path}" if model.package else path
    return f".{qualified}" if how == 2 else qualified


def render(model: Model, style: Style) -> str:
    quote = "'" if style.single_quotes else '"'
    tokens = ["syntax", "=", f"{quote}proto3{quote}", ";"]
    if model.package:
        tokens += ["package", model.package, ";"]
    tokens += ["enum", "Color", "{", "RED", "=", "0", ";", "GREEN", "=", "1", ";", "}"]
    refs = 0
    for k, fields in enumerate(model.messages):
        tokens += ["message", f"M{k}", "{"]
        if k == 0:
            tokens += ["message", "Inner", "{", "string", "s", "=", "1", ";", "}"]
        for field in fields:
            how = style.qualify[refs % len(style.qualify)]
            refs += 1
            tokens += [field.label] if field.label else []
            tokens += [type_name(model, k, field.type, how), field.name, "=", str(field.number)]
            tokens += ["[", "deprecated", "=", "true", "]"] if field.deprecated else []
            tokens.append(";")
        tokens.append("}")
    text = ""
    for i, token in enumerate(tokens):
        text += token + style.separators[i % len(style.separators)]
    return text.replace("\n", "\r\n") if style.crlf else text


SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(models(), styles, styles)
def test_canonical_ignores_formatting_and_qualification(
    model: Model, first: Style, second: Style
) -> None:
    one = PROTOBUF.parse(render(model, first))
    two = PROTOBUF.parse(render(model, second))
    assert one.canonical == two.canonical
    assert one.fingerprint == two.fingerprint


@SETTINGS
@given(models(), styles)
def test_canonical_is_idempotent(model: Model, style: Style) -> None:
    schema = PROTOBUF.parse(render(model, style))
    reparsed = text_format.Parse(schema.canonical, descriptor_pb2.FileDescriptorProto())
    assert canonical_form(reparsed) == schema.canonical
    assert PROTOBUF.parse(schema.text).canonical == schema.canonical


@SETTINGS
@given(models(), styles, st.data())
def test_canonical_changes_when_a_field_number_changes(
    model: Model, style: Style, data: st.DataObject
) -> None:
    k = data.draw(st.integers(0, len(model.messages) - 1))
    fields = list(model.messages[k])
    i = data.draw(st.integers(0, len(fields) - 1))
    free = sorted(set(range(41, 60)) - {f.number for f in fields})
    fields[i] = replace(fields[i], number=free[0])
    changed = Model(model.package, (*model.messages[:k], tuple(fields), *model.messages[k + 1 :]))
    before = PROTOBUF.parse(render(model, style))
    after = PROTOBUF.parse(render(changed, style))
    assert before.canonical != after.canonical
