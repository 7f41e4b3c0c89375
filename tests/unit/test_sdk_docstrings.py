"""Every public class, function, method and property of ``weir.sdk`` has a docstring.

Classes are those in ``weir.sdk.__all__``. Their methods and properties are the public ones
(no leading ``_``) defined on the class or on its bases from ``weir.sdk`` (so ``close`` of
the client base classes counts); what Python, ``typing.NamedTuple`` or ``typing.Protocol``
add (``count``, ``index``, ``_make``, field accessors) does not. A method that overrides a
documented base method may inherit its docstring. Docstrings that dataclasses and
NamedTuples generate from the signature do not count: they say nothing.
"""

from __future__ import annotations

import dataclasses
import inspect
from collections.abc import Callable
from typing import Any, NamedTuple, Protocol

import weir.sdk

SDK = "weir.sdk"


def _has_text(doc: object) -> bool:
    return isinstance(doc, str) and bool(doc.strip())


def _generated_doc(cls: type) -> str | None:
    """The docstring dataclasses or NamedTuple would write for ``cls``, or None."""
    if dataclasses.is_dataclass(cls):
        try:
            return cls.__name__ + str(inspect.signature(cls)).replace(" -> None", "")
        except (TypeError, ValueError):
            return cls.__name__
    fields = getattr(cls, "_fields", None)
    if isinstance(fields, tuple) and issubclass(cls, tuple):
        return f"{cls.__name__}({', '.join(fields)})"
    return None


def class_lacks_doc(cls: type) -> bool:
    """True when the class has no docstring of its own, or only a generated one."""
    doc = cls.__dict__.get("__doc__")
    return not _has_text(doc) or doc == _generated_doc(cls)


def _function_of(member: object) -> Callable[..., Any] | None:
    """The function behind a method, static/class method or property; None for data."""
    if isinstance(member, (staticmethod, classmethod)):
        member = member.__func__
    if isinstance(member, property):
        return member.fget
    if inspect.isfunction(member):
        return member
    cached = getattr(member, "func", None)  # functools.cached_property
    return cached if inspect.isfunction(cached) else None


def _inherited_doc(cls: type, name: str) -> bool:
    """Does a base class document the same name (an override may rely on that)?"""
    for base in cls.__mro__[1:]:
        function = _function_of(base.__dict__.get(name))
        if function is not None and _has_text(function.__doc__):
            return True
    return False


def undocumented_members(cls: type, owned: Callable[[type], bool]) -> list[str]:
    """``Class.member`` for each public method or property of ``cls`` without a docstring."""
    missing: list[str] = []
    seen: set[str] = set()
    for klass in cls.__mro__:
        if not owned(klass):
            continue
        for name, member in vars(klass).items():
            if name.startswith("_") or name in seen:
                continue
            seen.add(name)
            function = _function_of(member)
            if function is None or _has_text(function.__doc__):
                continue
            if not _inherited_doc(klass, name):
                missing.append(f"{cls.__name__}.{name}")
    return missing


def undocumented(objects: dict[str, object], owned: Callable[[type], bool]) -> list[str]:
    """Every public class, function, method and property among ``objects`` lacking a docstring."""
    missing: list[str] = []
    for name, obj in sorted(objects.items()):
        if inspect.isclass(obj):
            if class_lacks_doc(obj):
                missing.append(name)
            missing.extend(undocumented_members(obj, owned))
        elif inspect.isfunction(obj) and not _has_text(obj.__doc__):
            missing.append(f"{name}()")
    return missing


def _in_sdk(cls: type) -> bool:
    return cls.__module__ == SDK or cls.__module__.startswith(SDK + ".")


def _exported() -> dict[str, object]:
    return {name: getattr(weir.sdk, name) for name in weir.sdk.__all__}


def test_every_public_class_method_and_property_of_weir_sdk_has_a_docstring() -> None:
    missing = undocumented(_exported(), _in_sdk)
    assert not missing, "these public names of weir.sdk lack a docstring:\n  " + "\n  ".join(
        missing
    )


def test_the_check_covers_the_clients() -> None:
    """Not vacuous: the clients' methods and their base's close() are among those checked."""
    exported = _exported()
    classes = [obj for obj in exported.values() if inspect.isclass(obj)]
    assert len(classes) >= 20
    for client in ("Admin", "SchemaRegistryClient", "AsyncAdmin", "AsyncSchemaRegistryClient"):
        cls = exported[client]
        assert inspect.isclass(cls)
        names = {
            name
            for klass in cls.__mro__
            if _in_sdk(klass)
            for name, member in vars(klass).items()
            if not name.startswith("_") and _function_of(member) is not None
        }
        assert {"close"} <= names, client
    assert "get_schema" in vars(exported["AsyncSchemaRegistryClient"])


# ----- the checker itself finds what is missing ----------------------------------------------


def _owned_here(cls: type) -> bool:
    return cls.__module__ == __name__


class _Base:
    """Documented base."""

    def close(self) -> None:
        """Documented."""

    def helper(self) -> None:
        pass


class _Client(_Base):
    """Documented client."""

    def close(self) -> None:  # inherits the base's docstring
        pass

    def send(self) -> None:
        pass

    async def send_async(self) -> None:
        pass

    @property
    def size(self) -> int:
        return 0

    @staticmethod
    def make() -> None:
        pass

    def _private(self) -> None:
        pass

    def documented(self) -> None:
        """Here."""


class _NoDoc:
    def run(self) -> None:
        """Has one."""


@dataclasses.dataclass(frozen=True, slots=True)
class _Value:
    x: int

    @property
    def doubled(self) -> int:
        """Twice x."""
        return 2 * self.x


class _Pair(NamedTuple):
    left: int
    right: int


class _DocumentedPair(NamedTuple):
    """Documented."""

    left: int


class _Proto(Protocol):
    """Documented protocol."""

    def __call__(self, value: object) -> bytes: ...


def _bare() -> None:
    pass


def test_checker_reports_each_kind_of_missing_docstring() -> None:
    objects: dict[str, object] = {
        "_Client": _Client,
        "_NoDoc": _NoDoc,
        "_Value": _Value,
        "_Pair": _Pair,
        "_DocumentedPair": _DocumentedPair,
        "_Proto": _Proto,
        "_bare": _bare,
    }
    assert undocumented(objects, _owned_here) == [
        "_Client.send",
        "_Client.send_async",
        "_Client.size",
        "_Client.make",
        "_Client.helper",
        "_NoDoc",
        "_Pair",
        "_Value",
        "_bare()",
    ]


def test_generated_docstrings_do_not_count() -> None:
    assert str(_Value.__doc__).startswith("_Value(x: ")
    assert class_lacks_doc(_Value)
    assert _Pair.__doc__ == "_Pair(left, right)"
    assert class_lacks_doc(_Pair)
    assert not class_lacks_doc(_DocumentedPair)
    assert not class_lacks_doc(_Proto)
