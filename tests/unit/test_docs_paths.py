"""The documents name the programs where the installers put them."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _installed_cli_paths() -> list[str]:
    """The console program's path on each system, from the README's "Is it working?" table."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    row = re.compile(r"^\| (?:Windows|macOS|Linux)[^|]*\| `([^`]*mergedesk-cli[^`]*)`", re.M)
    rows = row.findall(readme)
    return [re.sub(r"^& |\"| self-test$", "", row) for row in rows]


def test_the_readme_names_the_console_program_of_each_installer() -> None:
    windows, mac, linux = _installed_cli_paths()
    iss = (ROOT / "build/windows/mergedesk.iss").read_text(encoding="utf-8")
    assert "PrivilegesRequired=lowest" in iss and "DefaultDirName={autopf}\\{#AppName}" in iss
    assert windows == "$env:LOCALAPPDATA\\Programs\\MergeDesk\\mergedesk-cli.exe"
    assert mac == "/Applications/MergeDesk.app/Contents/MacOS/mergedesk-cli"
    install_sh = (ROOT / "build/linux/install.sh").read_text(encoding="utf-8")
    assert 'target="$HOME/.local/opt/MergeDesk"' in install_sh
    assert linux == "~/.local/opt/MergeDesk/mergedesk-cli"


def test_the_watch_schedules_run_the_installed_console_program() -> None:
    """A scheduler given a path no installer writes (or the windowed program, which has
    nowhere to print) never runs the watch."""
    watch = (ROOT / "docs/watch.md").read_text(encoding="utf-8")
    windows, mac, linux = _installed_cli_paths()
    assert windows.replace("$env:LOCALAPPDATA", "%LOCALAPPDATA%") + '\\" watch --once' in watch
    assert f"<string>{mac}</string>" in watch
    assert f"ExecStart={linux.replace('~', '%h')} watch --once" in watch
