"""docs/configuration.md is generated from Settings and names every variable the project
uses; the README stays a short front page."""

import re
from dataclasses import FrozenInstanceError

import pytest

from stream.config import Settings
from stream.config.views import VIEWS, settings_of
from stream.tools.configuration_doc import render
from tests.support.paths import ROOT

DOC = ROOT / "docs" / "configuration.md"


def test_the_configuration_reference_is_generated_from_the_settings() -> None:
    assert DOC.read_text() == render(), "docs/configuration.md is stale: run `make docs`"


def test_every_newsstream_variable_the_project_names_is_in_the_reference() -> None:
    documented = set(re.findall(r"`(NEWSSTREAM_[A-Z0-9_]+)`", DOC.read_text()))
    assert {f"NEWSSTREAM_{name.upper()}" for name in Settings.model_fields} == documented
    named: set[str] = set()
    for folder in ("stream", "agents", "deploy", "docs", "examples", ".ci"):
        for path in (ROOT / folder).rglob("*"):
            if path.is_file() and path.suffix in ("", ".py", ".md", ".yaml", ".yml", ".sh"):
                named |= set(re.findall(r"(?<![_A-Z])NEWSSTREAM_[A-Z0-9_]*[A-Z0-9]",
                                        path.read_text(errors="replace")))
    for path in (ROOT / "README.md", ROOT / "Makefile", ROOT / "deploy" / "Dockerfile"):
        named |= set(re.findall(r"(?<![_A-Z])NEWSSTREAM_[A-Z0-9_]*[A-Z0-9]", path.read_text()))
    assert named - documented == set()


def test_the_readme_is_a_front_page() -> None:
    lines = (ROOT / "README.md").read_text().splitlines()
    assert len(lines) <= 200
    for link in re.findall(r"\]\(((?:docs|eval|deploy|schemas)/[^)#]*)", "\n".join(lines)):
        assert (ROOT / link).exists(), link


def test_every_setting_is_read_through_a_view() -> None:
    viewed = {name for kind in VIEWS for name in settings_of(kind)}
    assert set(Settings.model_fields) == viewed
    settings = Settings(count_windows_s=[60], input_topics=["a", "b"], dashboard_port=9000)
    assert settings.counting.windows_s == (60,) and settings.topics.inputs == ("a", "b")
    assert settings.dashboard.port == 9000 and settings.dashboard.group == "newsstream-dashboard"
    with pytest.raises(FrozenInstanceError):
        settings.dashboard.port = 1  # type: ignore[misc]
