"""examples/monitoring: the alert rules pass `promtool check rules` and their unit tests.

promtool comes from Debian's `prometheus` package, which `make test` installs (.ci/run
installs it on a fresh machine). A missing promtool fails here, so CI cannot go green
without checking the rules.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import yaml

MONITORING = Path(__file__).resolve().parents[2] / "examples" / "monitoring"
RULES = MONITORING / "weir-alerts.yml"
TESTS = MONITORING / "weir-alerts.test.yml"


def _promtool(*args: str) -> str:
    promtool = shutil.which("promtool")
    assert promtool, "promtool is missing: run `apt-get install -y prometheus` (make test does)"
    done = subprocess.run(
        [promtool, *args], cwd=MONITORING, capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def test_rules_are_valid() -> None:
    assert "SUCCESS: 3 rules found" in _promtool("check", "rules", RULES.name)


def test_rules_fire_on_synthetic_series_and_stay_quiet_otherwise() -> None:
    assert "SUCCESS" in _promtool("test", "rules", TESTS.name)


def test_every_alert_has_a_unit_test_and_uses_exported_metrics() -> None:
    rules = yaml.safe_load(RULES.read_text())
    alerts = {r["alert"]: r["expr"] for g in rules["groups"] for r in g["rules"]}
    tested = {
        case["alertname"]
        for test in yaml.safe_load(TESTS.read_text())["tests"]
        for case in test["alert_rule_test"]
    }
    assert set(alerts) == tested
    exported = {
        "weir_group_lag_records",
        "weir_group_lag_seconds",
        "weir_validation_rejected_records_total",
        "weir_validation_accepted_records_total",
    }
    for expr in alerts.values():
        assert any(name in expr for name in exported)
