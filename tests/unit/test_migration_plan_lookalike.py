"""Schema version 12: a merge plan keeps the look-alike marks it was opened with."""

from __future__ import annotations

import json

from desktop.merge import MergeFlow
from desktop.store import Cache, transaction
from desktop.store.migrations import MIGRATIONS

KEY = "6d" * 32


def test_a_plan_from_version_11_opens_and_reads_the_queues_marks(tmp_path) -> None:
    """An active plan made before version 12 keeps working: it has no marks of its own, so
    its warning is the queue's, as before."""
    path = tmp_path / "cache.db"
    with Cache.open(path, KEY, migrations=MIGRATIONS[:11]) as cache, transaction(cache) as db:
        db.execute(
            "INSERT INTO match_pairs (id_a, id_b, probability, weight, band, status, scored_at, "
            "flags, warnings) VALUES ('1', '2', 0.99, 9.0, 'likely', 'planned', "
            "'2026-12-01T00:00:00Z', ?, ?)",
            ["twins", json.dumps(["Possibly twins."])],
        )
        db.execute(
            "INSERT INTO merge_plans (plan_id, pair_key, patient_ids, duplicate_ids, step, "
            "status, created_at, updated_at) VALUES ('p1', '1:2', '[\"1\", \"2\"]', '[]', "
            "'review', 'active', '2026-12-01', '2026-12-01')"
        )
    with Cache.open(path, KEY) as cache:
        assert cache.schema_version == 12
        flow = MergeFlow.load(cache, "p1")
        assert flow.state.lookalike == {}
        assert flow.lookalike() == (("twins",), ("Possibly twins.",))
