"""SchemaRegistry semantics (Confluent's) over its real store (the _schemas log), no network."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from weir.broker.log.api import PartitionId, StorageConfig, TopicName, TopicPartition
from weir.broker.log.engine import EmbeddedLogStore
from weir.broker.schemas_topic import TopicRegistryStore
from weir.core import errors
from weir.core.types import CompatibilityLevel, Mode, SchemaType, Subject, Version
from weir.registry.model import Reference, SchemaInput
from weir.registry.service import SchemaRegistry


def avro(*fields: str, name: str = "User") -> SchemaInput:
    """A record schema with string fields; fields written `f=default` get a default."""
    out = []
    for f in fields:
        fname, _, default = f.partition("=")
        field: dict[str, object] = {"name": fname, "type": "string"}
        if default:
            field["default"] = default
        out.append(field)
    return SchemaInput(SchemaType.AVRO, json.dumps({"type": "record", "name": name, "fields": out}))


SCHEMAS = TopicPartition(TopicName("_schemas"), PartitionId(0))


def open_registry(path: Path) -> SchemaRegistry:
    store = EmbeddedLogStore(path / "log")
    asyncio.run(store.create_partition(SCHEMAS, StorageConfig(cleanup_compact=True)))
    return SchemaRegistry(TopicRegistryStore(store.partition(SCHEMAS)))


@pytest.fixture
def reg(tmp_path: Path):
    registry = open_registry(tmp_path)
    yield registry
    registry.close()


def test_register_is_idempotent_and_content_addressed(reg: SchemaRegistry) -> None:
    first = reg.register("a-value", avro("id"))
    again = reg.register("a-value", avro("id"))
    assert (first.schema.id, first.version) == (again.schema.id, again.version) == (1, 1)
    reformatted = SchemaInput(SchemaType.AVRO, json.dumps(json.loads(avro("id").text), indent=4))
    assert reg.register("a-value", reformatted).version == 1
    other = reg.register("b-value", avro("id"))
    assert other.schema.id == first.schema.id
    assert other.version == 1


def test_versions_increase_and_latest(reg: SchemaRegistry) -> None:
    reg.register("s", avro("id"))
    second = reg.register("s", avro("id", "email=x"))
    assert second.version == 2
    assert second.schema.id == 2
    assert reg.get_version("s").version == 2
    assert reg.list_versions("s") == [1, 2]
    assert reg.get_version("s", 1).schema.text == avro("id").text


def test_incompatible_schema_is_refused_with_reasons(reg: SchemaRegistry) -> None:
    reg.register("s", avro("id"))
    with pytest.raises(errors.IncompatibleSchemaError) as caught:
        reg.register("s", avro("id", "email"))
    assert "email" in caught.value.message
    found = json.loads(caught.value.metadata["incompatibilities"])
    assert found
    assert all(i["rule"] and i["message"] for i in found)
    assert all((i["level"], i["version"]) == ("BACKWARD", 1) for i in found)
    assert reg.list_versions("s") == [1]


def test_levels_none_and_transitive(reg: SchemaRegistry) -> None:
    reg.set_config(CompatibilityLevel.NONE, "s")
    reg.register("s", avro("id"))
    reg.register("s", avro("id", "email"))
    assert reg.get_config("s") == CompatibilityLevel.NONE
    assert reg.get_config() == CompatibilityLevel.BACKWARD
    reg.set_config(CompatibilityLevel.BACKWARD_TRANSITIVE, "s")
    # Compatible with the latest (which has email) but not with version 1 (which lacks it).
    result = reg.check("s", avro("id", "email", "age=1"))
    assert not result.compatible
    assert {i.version for i in result.incompatibilities} == {1}
    assert reg.check("s", avro("id", "email", "age=1"), latest=True).compatible


def test_unknown_things_have_specific_errors(reg: SchemaRegistry) -> None:
    with pytest.raises(errors.SubjectNotFoundError, match="'nope'"):
        reg.get_version("nope")
    reg.register("s", avro("id"))
    with pytest.raises(errors.VersionNotFoundError, match="version 7"):
        reg.get_version("s", 7)
    with pytest.raises(errors.InvalidVersionError):
        reg.get_version("s", 0)
    with pytest.raises(errors.SchemaNotFoundError, match="99"):
        reg.get_schema(99)
    with pytest.raises(errors.SchemaNotFoundError, match="'s'"):
        reg.lookup("s", avro("other"))
    with pytest.raises(errors.CompatibilityNotConfiguredError):
        reg.get_config("s")
    assert reg.get_config("s", default_to_global=True) == CompatibilityLevel.BACKWARD


def test_soft_then_permanent_delete(reg: SchemaRegistry) -> None:
    reg.set_config(CompatibilityLevel.NONE)
    one = reg.register("s", avro("id"))
    reg.register("s", avro("x"))
    with pytest.raises(errors.VersionNotSoftDeletedError):
        reg.delete_version("s", 1, permanent=True)
    assert reg.delete_version("s", 1) == 1
    with pytest.raises(errors.VersionSoftDeletedError):
        reg.delete_version("s", 1)
    with pytest.raises(errors.VersionNotFoundError, match="soft-deleted"):
        reg.get_version("s", 1)
    assert reg.get_version("s", 1, include_deleted=True).deleted
    assert reg.get_schema(one.schema.id).text == avro("id").text  # still readable by id
    assert reg.list_versions("s") == [2]
    assert reg.list_versions("s", include_deleted=True) == [1, 2]
    assert reg.delete_version("s", 1, permanent=True) == 1
    with pytest.raises(errors.SchemaNotFoundError):
        reg.get_schema(one.schema.id)
    with pytest.raises(errors.SubjectNotSoftDeletedError):
        reg.delete_subject("s", permanent=True)
    assert reg.delete_subject("s") == [2]
    with pytest.raises(errors.SubjectSoftDeletedError):
        reg.delete_subject("s")
    assert reg.list_subjects() == []
    assert reg.list_subjects(include_deleted=True) == ["s"]
    assert reg.delete_subject("s", permanent=True) == [2]
    assert reg.list_subjects(include_deleted=True) == []
    # Versions restart after a permanent delete; ids are never reused.
    again = reg.register("s", avro("y"))
    assert again.version == 1
    assert again.schema.id == 3


def test_register_after_soft_delete_gets_next_version(reg: SchemaRegistry) -> None:
    reg.register("s", avro("id"))
    reg.delete_subject("s")
    assert reg.register("s", avro("id")).version == 2


def test_references_resolve_and_block_deletes(reg: SchemaRegistry) -> None:
    address = reg.register("address", avro("street", name="com.acme.Address"))
    user = SchemaInput(
        SchemaType.AVRO,
        json.dumps(
            {
                "type": "record",
                "name": "com.acme.User",
                "fields": [{"name": "home", "type": "com.acme.Address"}],
            }
        ),
        (Reference("com.acme.Address", Subject("address"), Version(1)),),
    )
    registered = reg.register("user", user)
    assert reg.referenced_by("address", 1) == [registered.schema.id]
    assert reg.get_schema(registered.schema.id).references == user.references
    with pytest.raises(errors.ReferenceExistsError, match="referenced"):
        reg.delete_version("address", 1)
    with pytest.raises(errors.ReferenceExistsError):
        reg.delete_subject("address")
    assert address.schema.id != registered.schema.id


def test_broken_reference_is_named(reg: SchemaRegistry) -> None:
    user = SchemaInput(
        SchemaType.AVRO,
        json.dumps({"type": "record", "name": "U", "fields": [{"name": "a", "type": "A"}]}),
        (Reference("A", Subject("missing"), Version(1)),),
    )
    with pytest.raises(errors.InvalidReferenceError, match="missing"):
        reg.register("user", user)


def user_of(subject: str, version: int) -> SchemaInput:
    """A record with one field of type A, which it takes from ``subject`` ``version``."""
    return SchemaInput(
        SchemaType.AVRO,
        json.dumps({"type": "record", "name": "U", "fields": [{"name": "a", "type": "A"}]}),
        (Reference("A", Subject(subject), Version(version)),),
    )


def test_reference_errors_name_the_target_and_say_what_to_do(reg: SchemaRegistry) -> None:
    reg.register("a", SchemaInput(SchemaType.AVRO, '{"type": "fixed", "name": "A", "size": 2}'))
    for version in (0, 2):
        with pytest.raises(errors.InvalidReferenceError) as caught:
            reg.register("user", user_of("a", version))
        assert f"subject 'a' version {version}, which does not exist" in caught.value.message
        assert caught.value.message.endswith("register it first")
        assert caught.value.metadata == {"reference": "A", "subject": "a"}
    assert reg.list_subjects() == ["a"]


def test_soft_deleted_reference_targets_still_resolve(reg: SchemaRegistry) -> None:
    reg.register("a", SchemaInput(SchemaType.AVRO, '{"type": "fixed", "name": "A", "size": 2}'))
    reg.delete_version("a", 1)
    assert reg.check("user", user_of("a", 1)).compatible
    registered = reg.register("user", user_of("a", 1))
    validator = reg.validator(registered.schema.id)
    validator.validate(b"\x01\x02")  # the referenced fixed(2) is used
    with pytest.raises(errors.InvalidRecordError):
        validator.validate(b"\x01")


def test_parsed_schemas_and_validators_are_built_once_and_dropped_on_permanent_delete(
    reg: SchemaRegistry,
) -> None:
    sid = reg.register("s", avro("id")).schema.id
    assert reg.parsed(sid) is reg.parsed(sid)
    assert reg.validator(sid) is reg.validator(sid)
    reg.delete_subject("s")
    assert reg.validator(sid) is reg.validator(sid)  # soft-deleted schemas stay readable
    reg.delete_subject("s", permanent=True)
    with pytest.raises(errors.SchemaNotFoundError):
        reg.validator(sid)
    with pytest.raises(errors.SchemaNotFoundError):
        reg.parsed(sid)


def test_modes(reg: SchemaRegistry) -> None:
    reg.register("s", avro("id"))
    reg.set_mode(Mode.READONLY, "s")
    with pytest.raises(errors.OperationNotPermittedError, match="READONLY"):
        reg.register("s", avro("id", "x=1"))
    with pytest.raises(errors.OperationNotPermittedError):
        reg.delete_subject("s")
    assert reg.get_mode("s") == Mode.READONLY
    assert reg.get_mode() == Mode.READWRITE
    with pytest.raises(errors.OperationNotPermittedError, match="force"):
        reg.set_mode(Mode.IMPORT)
    with pytest.raises(errors.OperationNotPermittedError, match="IMPORT"):
        reg.register("t", avro("id"), schema_id=50)
    reg.set_mode(Mode.IMPORT, "t")
    imported = reg.register("t", avro("z", "w"), schema_id=50, version=4)
    assert (imported.schema.id, imported.version) == (50, 4)
    assert reg.get_schema(50).text == avro("z", "w").text
    with pytest.raises(errors.OperationNotPermittedError, match="different schema"):
        reg.register("t", avro("q"), schema_id=50, version=5)


def test_state_survives_restart(tmp_path: Path) -> None:
    reg = open_registry(tmp_path)
    reg.set_config(CompatibilityLevel.NONE)
    reg.register("s", avro("id"))
    reg.register("s", avro("x"))
    reg.delete_version("s", 1)
    reg.set_config(CompatibilityLevel.FULL, "s")
    again = open_registry(tmp_path)
    assert again.list_versions("s", include_deleted=True) == [1, 2]
    assert again.get_version("s", 1, include_deleted=True).deleted
    assert again.get_config("s") == CompatibilityLevel.FULL
    assert again.register("s", avro("x")).version == 2
    assert again.register("t", avro("new")).schema.id == 3
