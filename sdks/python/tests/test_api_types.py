"""The SDK's types come from the server's /openapi.json, and the package type-checks strictly."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

PROJECT = Path(__file__).resolve().parent.parent


def load_generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("generate_types", PROJECT / "scripts" / "generate_types.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_api_types_match_the_servers_openapi_document(server_url: str) -> None:
    generator = load_generator()
    fresh = generator.render(generator.fetch_document(server_url))
    committed = generator.GENERATED_FILE.read_text()
    assert committed == fresh, "src/triggers/api_types.py is stale: run python scripts/generate_types.py <server URL>"


def test_the_generator_refuses_a_document_without_a_needed_schema() -> None:
    generator = load_generator()
    try:
        generator.render({"paths": {}, "components": {"schemas": {}}})
    except generator.GenerationError as error:
        assert "Problem" in str(error)
    else:
        raise AssertionError("rendered types from an empty document")


def test_the_package_and_its_tests_type_check_with_mypy_strict() -> None:
    # The tests too: they use the generated TypedDicts the way an application would.
    pytest.importorskip("mypy", reason="mypy is installed with the test extras on Python >= 3.10 only")
    result = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "src/triggers", "scripts/generate_types.py", "tests"],
        cwd=PROJECT,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr
