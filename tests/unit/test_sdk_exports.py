"""weir.sdk's public surface: a sorted, complete ``__all__`` over the _private modules."""

from __future__ import annotations

import importlib
import pkgutil
import subprocess
import sys

import weir.sdk


def _isort_key(name: str) -> tuple[int, str]:
    """The order ruff's RUF022 keeps: CONSTANTS, then Classes, then functions."""
    if name.isupper():
        return 0, name
    return (1 if name[0].isupper() else 2), name


def _private_modules() -> list[str]:
    return sorted(
        f"weir.sdk.{info.name}"
        for info in pkgutil.iter_modules(weir.sdk.__path__)
        if info.name.startswith("_") and not info.ispkg
    )


def test_all_is_sorted_and_unique() -> None:
    assert weir.sdk.__all__ == sorted(weir.sdk.__all__, key=_isort_key)
    assert len(set(weir.sdk.__all__)) == len(weir.sdk.__all__)


def test_every_exported_name_exists() -> None:
    for name in weir.sdk.__all__:
        assert hasattr(weir.sdk, name), name


def test_private_modules_declare_all() -> None:
    modules = _private_modules()
    assert "weir.sdk._registry" in modules
    for module_name in modules:
        module = importlib.import_module(module_name)
        assert isinstance(getattr(module, "__all__", None), list), (
            f"{module_name} must declare __all__ (empty when nothing in it is public)"
        )


def test_all_is_complete() -> None:
    """Every name a _private module marks public is re-exported, and nothing else."""
    public: dict[str, str] = {}
    for module_name in _private_modules():
        module = importlib.import_module(module_name)
        for name in module.__all__:
            assert hasattr(module, name), f"{module_name}.__all__ names missing {name}"
            public[name] = module_name
    missing = sorted(set(public) - set(weir.sdk.__all__))
    assert not missing, f"not exported from weir.sdk: {missing}"
    extra = sorted(set(weir.sdk.__all__) - set(public))
    assert not extra, f"exported but not declared public in a _private module: {extra}"


def test_exports_are_the_private_objects() -> None:
    for name in weir.sdk.__all__:
        module = importlib.import_module(
            next(m for m in _private_modules() if name in importlib.import_module(m).__all__)
        )
        assert getattr(weir.sdk, name) is getattr(module, name)


def test_sdk_does_not_import_the_server() -> None:
    """weir.sdk (not its CLI) stays a client: it needs neither weir.registry nor weir.broker."""
    code = (
        "import sys, weir.sdk\n"
        "bad = [m for m in sys.modules if m.startswith(('weir.registry', 'weir.broker'))]\n"
        "print(bad)\n"
        "sys.exit(1 if bad else 0)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], check=False, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stdout + done.stderr
