"""The README's settings table against the code and the tests: every setting it lists exists, and some test (the
effects are checked in ``test_settings_effects.py`` and beside the feature a setting tunes) names it."""

from __future__ import annotations

import re
from pathlib import Path

from geogrid.settings import Settings, env_name
from tests.conftest import ROOT


def test_every_setting_in_the_readme_is_a_setting_and_named_in_a_test():
    """Each ``GEOGRID_*`` row of the README's settings table names a real setting, and some test sets or reads
    it: a setting documented without a test fails here."""
    rows = [line for line in (ROOT / "README.md").read_text().splitlines() if line.startswith("| `GEOGRID_")]
    documented = set(re.findall(r"GEOGRID_[A-Z0-9_]+", " ".join(rows)))
    assert len(documented) > 40, rows
    assert documented <= {env_name(f) for f in Settings.model_fields}, "README names a setting that does not exist"
    here = Path(__file__).resolve()
    tests = " ".join(p.read_text() for p in (ROOT / "tests").rglob("*.py") if p.resolve() != here)
    untested = sorted(name for name in documented if not re.search(rf"\b{name}\b", tests))
    assert untested == [], f"settings in the README that no test names: {untested}"


def test_every_setting_is_in_the_readme():
    """The other way round: a field of ``Settings`` missing from the README's table fails here."""
    rows = [line for line in (ROOT / "README.md").read_text().splitlines() if line.startswith("| `GEOGRID_")]
    documented = set(re.findall(r"GEOGRID_[A-Z0-9_]+", " ".join(rows)))
    missing = sorted(env_name(f) for f in Settings.model_fields if env_name(f) not in documented)
    assert missing == [], f"settings missing from the README's table: {missing}"
