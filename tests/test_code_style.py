"""The app's code keeps the style of Frappe's own: ruff's lint and formatter, with the settings of the app's
pyproject.toml (tabs, double quotes, sorted imports), so that a review reads changes, not reformatting."""

import subprocess
import sys
from pathlib import Path

APP = Path(__file__).resolve().parents[1] / "apps" / "cpts_snp"
RUFF = Path(sys.executable).parent / "ruff"


def ruff(*args: str) -> subprocess.CompletedProcess:
	return subprocess.run([str(RUFF), *args], cwd=APP, capture_output=True, text=True, timeout=120)


def test_the_app_passes_the_linter():
	result = ruff("check", ".")
	assert result.returncode == 0, result.stdout + result.stderr


def test_the_app_is_formatted():
	result = ruff("format", "--check", ".")
	assert result.returncode == 0, result.stdout + result.stderr
