"""``mergedesk audit verify`` and ``audit export`` on a real sealed cache in a data folder."""

from __future__ import annotations

import csv
import datetime as dt
import stat
from pathlib import Path

from desktop.audit_export import head_line
from desktop.cli import main
from desktop.review import audit_trail
from desktop.store.cache import open_cache
from desktop.store.transaction import transaction

SHA = "cd" * 32


def fill(data_dir: Path) -> None:
    with open_cache(data_dir) as cache, transaction(cache):
        trail = audit_trail(cache)
        trail.record("GET", "/v1/patients?page=1", 200, SHA, SHA, at="2026-03-01T23:30:00.000Z")
        trail.record("GET", "/v1/patients?page=2", 200, SHA, SHA, at="2026-03-05T10:00:00.000Z")
        trail.record_event("decided not_same", "patients 1001 1002", at="2026-03-09T10:00:00Z")


def test_verify_prints_the_head_the_keychain_holds(private_environment, capsys):
    data_dir = Path(private_environment)
    fill(data_dir)
    assert main(["audit", "verify", "--data-dir", str(data_dir)]) == 0
    out = capsys.readouterr().out
    assert "Audit trail intact: 3 entries verified" in out
    with open_cache(data_dir, readonly=True) as cache:
        line = head_line(cache)
        [(head,)] = cache.db.execute("SELECT entry_hash FROM audit_log WHERE seq = 3").fetchall()
    assert line == f"Audit trail: 3 entries, head {head[:16]} (kept in the keychain)."
    assert line in out


def test_verify_names_a_cut_tail_the_cache_alone_cannot_show(private_environment, capsys):
    data_dir = Path(private_environment)
    fill(data_dir)
    with open_cache(data_dir) as cache:
        cache.conn.execute("DROP TRIGGER audit_log_no_delete")
        cache.conn.execute("DELETE FROM audit_log WHERE seq = 3")
        last = cache.db.execute("SELECT entry_hash FROM audit_log WHERE seq = 2").fetchone()[0]
        cache.conn.execute("UPDATE meta SET value = ? WHERE key = 'audit_head'", [f"2:{last}"])
    assert main(["audit", "verify", "--data-dir", str(data_dir)]) == 1
    err = capsys.readouterr().err
    assert "broken at entry 3 (cut tail and rewrite head): entry 3 were cut off the end" in err


def test_export_writes_the_entries_of_a_date_range(private_environment, tmp_path, capsys):
    data_dir = Path(private_environment)
    fill(data_dir)
    target = tmp_path / "audit.csv"
    argv = ["audit", "export", "--data-dir", str(data_dir), "--from", "2026-03-03",
            "--to", "2026-03-09", "--csv", str(target)]  # fmt: skip
    assert main(argv) == 0
    assert "Wrote 2 audit entries from 2026-03-03 to 2026-03-09" in capsys.readouterr().out
    with target.open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert [(r["seq"], r["method"], r["sealed"]) for r in rows] == [
        ("2", "GET", "yes"),
        ("3", "EVENT", "yes"),
    ]
    assert rows[1]["path"] == "decided not_same: patients 1001 1002"
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert dt.date(2026, 3, 3)  # the range is whole local days


def test_export_needs_a_file(private_environment, capsys):
    fill(Path(private_environment))
    assert main(["audit", "export", "--data-dir", str(private_environment)]) == 2
    assert "--csv FILE" in capsys.readouterr().err
