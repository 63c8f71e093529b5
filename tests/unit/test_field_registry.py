"""The field registry (desktop/fields.py) is consistent, and the only place fields are listed."""

from __future__ import annotations

import ast
import math
from pathlib import Path

import numpy as np
import pytest

from desktop import display, fields
from desktop.fields import COMPARED_FIELDS, MISSING, PATIENT_FIELDS, patient_field_names
from desktop.matching.compare import COMPARISONS, compare_pairs
from desktop.matching.features import MATCH_COLUMNS, build_features
from desktop.matching.model import M_PRIORS, U_DEFAULTS, default_params
from desktop.merge.plan import LINK_FIELDS, WRITABLE_FIELDS
from desktop.simulator.patients import WRITABLE as CLINIKO_WRITABLE
from desktop.simulator.sample_clinic import generate_clinic
from desktop.store import Cache
from desktop.store.patients import TEXT_FIELDS, row_from_patient

ROOT = Path(__file__).resolve().parents[2]
KEY = "ab" * 32
# The simulator stands in for Cliniko: its own schema is Cliniko's, not a list of ours.
NOT_OURS = ("desktop/fields.py", "desktop/simulator/")
FIELD_LIST_MIN = 3  # a literal naming this many registry fields is a field list
# Literals keyed by names that are not lists of fields, though some keys look like fields.
NOT_FIELD_LISTS = {
    # The comparison functions, keyed by the registry's names (checked against it above).
    ("desktop/matching/compare.py", "COMPARISONS"),
    # The registry's normalisers (its Normaliser kinds), some named after the field they read.
    ("desktop/display.py", "TEXT_NORMALISERS"),
    # Features attributes (email, medicare, address codes) -> their vocabulary.
    ("desktop/matching/blocking.py", "_VOCAB_OF"),
}


@pytest.mark.parametrize("name", list(COMPARED_FIELDS))
def test_every_comparison_starts_with_missing_and_names_its_levels_once(name: str) -> None:
    field = COMPARED_FIELDS[name]
    assert field.level_names[0] == MISSING
    assert len(set(field.level_names)) == len(field.level_names)
    missing, *levels = field.levels
    assert (missing.m_prior, missing.u_default) == (0.0, 0.0)
    assert all(lv.m_prior > 0 and 0 < lv.u_default < 1 for lv in levels)
    # m is a share of one person's record pairs; u a share of different people's (the
    # defaults are rounded, and normalised before use).
    assert math.isclose(sum(lv.m_prior for lv in levels), 1.0, abs_tol=1e-9)
    assert math.isclose(sum(lv.u_default for lv in levels), 1.0, abs_tol=0.01)


def test_the_model_reads_its_priors_and_defaults_from_the_registry_by_level() -> None:
    assert list(M_PRIORS) == list(U_DEFAULTS) == list(COMPARED_FIELDS)
    for name, field in COMPARED_FIELDS.items():
        assert M_PRIORS[name] == tuple(lv.m_prior for lv in field.levels)
        assert U_DEFAULTS[name] == tuple(lv.u_default for lv in field.levels)
    # A capped level never counts for more than its cap, whatever the data say.
    weights = default_params().level_weights()
    for k, field in enumerate(COMPARED_FIELDS.values()):
        for i, lv in enumerate(field.levels):
            if lv.max_weight is not None:
                assert weights[k, i] <= lv.max_weight


def test_every_comparison_reads_fields_the_matcher_loads() -> None:
    for field in COMPARED_FIELDS.values():
        for source in field.sources:
            assert PATIENT_FIELDS[source].matched, (field.name, source)
            assert PATIENT_FIELDS[source].cache_column in MATCH_COLUMNS


def test_every_comparison_has_a_function_that_gives_only_its_own_levels() -> None:
    assert set(COMPARISONS) == set(COMPARED_FIELDS)
    clinic = generate_clinic(400, seed=3)
    f = build_features(row_from_patient(p) for p in clinic.patients)
    a, b = np.triu_indices(len(f), k=1)
    shared_phone = np.zeros(a.size, dtype=bool)
    shared_phone[: a.size // 50] = True
    levels = compare_pairs(f, a, b, shared_phone).levels
    for k, (name, field) in enumerate(COMPARED_FIELDS.items()):
        seen = set(np.unique(levels[:, k]).tolist())
        assert seen <= set(range(len(field.levels))), name
        assert len(seen) >= 2, f"{name} gave only {seen} on a whole sample clinic"


def test_labels_the_window_shows_come_from_the_registry() -> None:
    for name, field in PATIENT_FIELDS.items():
        assert display.field_label(name) == field.label
    from desktop.ui.compare_model import ALWAYS_SHOWN, SHOWN_FIELDS

    assert set(ALWAYS_SHOWN) <= set(SHOWN_FIELDS) <= set(PATIENT_FIELDS)
    assert patient_field_names(shown=True) == SHOWN_FIELDS
    labels = {f.label for f in COMPARED_FIELDS.values()}
    assert len(labels) == len(COMPARED_FIELDS)  # one evidence row per comparison


def test_a_merge_writes_only_fields_cliniko_lets_it_write() -> None:
    assert patient_field_names(writable=True) == WRITABLE_FIELDS
    assert set(WRITABLE_FIELDS) <= CLINIKO_WRITABLE
    for written, read in LINK_FIELDS.items():
        assert written in WRITABLE_FIELDS and read in PATIENT_FIELDS


def test_the_cache_has_a_column_for_every_field_it_keeps(tmp_path: Path) -> None:
    assert patient_field_names(cached=True) == TEXT_FIELDS
    with Cache.open(tmp_path / "cache.db", KEY) as cache:
        columns = {row[1] for row in cache.db.execute("PRAGMA table_info(patients)")}
    assert set(MATCH_COLUMNS) <= columns
    assert set(TEXT_FIELDS) <= columns


def _strings(node: ast.expr) -> list[str]:
    """The string constants a literal collection (or its dict keys) names."""
    if isinstance(node, ast.Call) and node.args:  # frozenset({...}), tuple([...])
        return _strings(node.args[0])
    items: list[ast.expr | None]
    if isinstance(node, ast.Dict):
        items = list(node.keys)
    elif isinstance(node, ast.Tuple | ast.List | ast.Set):
        items = list(node.elts)
    else:
        return []
    return [i.value for i in items if isinstance(i, ast.Constant) and isinstance(i.value, str)]


def field_lists(source: str) -> list[str]:
    """Names assigned a literal that lists registry fields (module or class level)."""
    known = set(PATIENT_FIELDS) | set(COMPARED_FIELDS)
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Assign | ast.AnnAssign) and node.value is not None:
            named = [s for s in _strings(node.value) if s in known]
            if len(named) >= FIELD_LIST_MIN:
                target = node.targets[0] if isinstance(node, ast.Assign) else node.target
                found.append(ast.unparse(target))
    return found


def test_the_check_finds_a_field_list() -> None:
    assert field_lists('SHOWN = ("first_name", "last_name", "email")\n') == ["SHOWN"]
    assert field_lists('LABELS = {"sex": "Sex", "city": "City", "state": "State"}\n') == ["LABELS"]
    assert field_lists('X = frozenset({"email", "invoice_email", "post_code"})\n') == ["X"]
    assert field_lists('PAIR = ("email", "invoice_email")\n') == []


def test_no_module_but_the_registry_lists_fields() -> None:
    offenders = {}
    for path in sorted((ROOT / "desktop").rglob("*.py")):
        relative = path.relative_to(ROOT).as_posix()
        if relative.startswith(NOT_OURS):
            continue
        found = [
            name
            for name in field_lists(path.read_text(encoding="utf-8"))
            if (relative, name) not in NOT_FIELD_LISTS
        ]
        if found:
            offenders[relative] = found
    assert offenders == {}, f"field lists outside {fields.__name__}: {offenders}"
