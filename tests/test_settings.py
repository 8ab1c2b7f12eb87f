"""The settings table is the one source for flags, environment variables and the README."""

from __future__ import annotations

from pathlib import Path

from tracklog import settings


def test_readme_lists_every_setting_as_the_table_says() -> None:
    readme = (Path(__file__).parents[1] / "README.md").read_text()
    assert settings.markdown_table() in readme


def test_environment_then_default(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("TRACKLOG_PORT", "9123")
    conf = settings.resolve(None)
    assert conf.port == 9123
    assert conf.host == "127.0.0.1"
    assert conf.store_url().startswith("duckdb://")
