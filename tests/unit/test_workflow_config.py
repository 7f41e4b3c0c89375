"""weir.toml loading: files by convention, references, dependency order, clear errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from weir.core.errors import InvalidConfigError
from weir.core.types import CompatibilityLevel, SchemaType
from weir.sdk.cli._workflow_config import load


def write(tmp_path: Path, config: str, *files: str) -> Path:
    for name in files:
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("{}")
    target = tmp_path / "weir.toml"
    target.write_text(config)
    return target


def test_entries_with_convention_types_levels_and_references(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
[registry]
server = "registry:50051"

[subjects.orders-value]
file = "protos/order.proto"
compatibility = "full_transitive"
references = [
  { name = "money.proto", entry = "money-value" },
  { name = "tax.proto", subject = "tax-value", version = 3 },
  { name = "fx.proto", subject = "fx-value" },
]

[subjects.money-value]

[lint]
disable = ["avro_field_doc"]
""",
        "protos/order.proto",
        "schemas/money-value.proto",
    )
    config = load(path)
    assert config.server == "registry:50051"
    assert [e.subject for e in config.entries] == ["money-value", "orders-value"]
    money, orders = config.entries
    assert money.file == tmp_path / "schemas" / "money-value.proto"
    assert money.schema_type is SchemaType.PROTOBUF
    assert money.compatibility is None
    assert orders.compatibility is CompatibilityLevel.FULL_TRANSITIVE
    refs = [(r.name, r.entry, r.subject, r.version) for r in orders.references]
    assert refs == [
        ("money.proto", "money-value", None, None),
        ("tax.proto", None, "tax-value", 3),
        ("fx.proto", None, "fx-value", None),
    ]
    assert config.lint_disable == {"AVRO_FIELD_DOC"}


def test_a_subject_reference_without_version_to_an_entry_is_an_entry(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
[subjects.b]
file = "b.json"
references = [{ name = "a.json", subject = "a" }]
[subjects.a]
file = "a.json"
""",
        "a.json",
        "b.json",
    )
    config = load(path)
    assert [e.subject for e in config.entries] == ["a", "b"]
    assert config.entry("b").references[0].entry == "a"


@pytest.mark.parametrize(
    ("config", "files", "message"),
    [
        ("", (), "no subjects"),
        ("nonsense = 1\n[subjects.a]\nfile = 'a.avsc'", ("a.avsc",), "unknown key nonsense"),
        ("[subjects.a]\nfile = 'a.avsc'\nlevel = 'FULL'", ("a.avsc",), "unknown key level"),
        ("[subjects.a]\nfile = 'a.avsc'\ncompatibility = 'SOME'", ("a.avsc",), "not a level"),
        ("[subjects.a]\nfile = 'a.txt'", ("a.txt",), "set type ="),
        ("[subjects.a]", (), "schemas/a.avsc"),
        ("[subjects.a]", ("schemas/a.avsc", "schemas/a.json"), "several of"),
        (
            "[subjects.a]\nfile = 'a.avsc'\nreferences = [{ name = 'x', entry = 'zz' }]",
            ("a.avsc",),
            "entry 'zz', which is not in this file",
        ),
        (
            "[subjects.a]\nfile = 'a.avsc'\nreferences = [{ entry = 'a' }]",
            ("a.avsc",),
            'needs name = "..."',
        ),
        (
            "[subjects.a]\nfile = 'a.avsc'\n"
            "references = [{ name = 'x', entry = 'b', subject = 'b' }]",
            ("a.avsc",),
            "exactly one of",
        ),
        (
            "[subjects.a]\nfile = 'a.avsc'\n"
            "references = [{ name = 'x', subject = 's', version = 0 }]",
            ("a.avsc",),
            "positive integer",
        ),
        (
            "[subjects.a]\nfile = 'a.avsc'\nreferences = [{ name = 'x', entry = 'b' }]\n"
            "[subjects.b]\nfile = 'b.avsc'\nreferences = [{ name = 'y', entry = 'a' }]",
            ("a.avsc", "b.avsc"),
            "cycle: a -> b -> a",
        ),
        ("[subjects.a\n", (), "not valid TOML"),
    ],
)
def test_bad_configs_say_what_is_wrong(
    tmp_path: Path, config: str, files: tuple[str, ...], message: str
) -> None:
    path = write(tmp_path, config, *files)
    with pytest.raises(InvalidConfigError) as raised:
        load(path)
    assert message in raised.value.message


def test_a_missing_config_says_how_to_make_one(tmp_path: Path) -> None:
    with pytest.raises(InvalidConfigError, match="does not exist"):
        load(tmp_path / "nope.toml")
