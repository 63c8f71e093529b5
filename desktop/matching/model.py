"""Fellegi-Sunter model: m and u per comparison level, EM without labels, frequency weights.

``u`` (how often two different people agree at a level) comes from random record pairs, less
those among them that look like one person; ``m`` (how often two records of one person do) is
estimated by EM on the blocked candidate pairs, starting from, and pulled towards, priors that
suit small clinics.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from desktop.fields import COMPARED_FIELDS
from desktop.matching.compare import FIELD_LEVELS, FIELD_NAMES, TF_FIELDS

# Prior m: the share of true duplicate pairs at each level (level 0, "missing", ignored),
# and the typical u for an Australian clinic of some thousands, used before any data is seen;
# both declared per named level in the field registry.
M_PRIORS: dict[str, tuple[float, ...]] = {
    name: tuple(lv.m_prior for lv in field.levels) for name, field in COMPARED_FIELDS.items()
}
U_DEFAULTS: dict[str, tuple[float, ...]] = {
    name: tuple(lv.u_default for lv in field.levels) for name, field in COMPARED_FIELDS.items()
}
# The most a level may count, in bits, where the registry caps it: (field row, level, cap).
WEIGHT_CAPS: tuple[tuple[int, int, float], ...] = tuple(
    (FIELD_NAMES.index(name), i, lv.max_weight)
    for name, field in COMPARED_FIELDS.items()
    for i, lv in enumerate(field.levels)
    if lv.max_weight is not None
)
# Fallback u when a level is never seen among random pairs.
U_FLOOR = 1e-6
PRIOR_STRENGTH = 300.0  # pseudo-pairs behind the m priors
DUPLICATE_SHARE = 0.05  # share of records that duplicate another, before any data
M_BOUND = 3.0  # EM may move an m at most this factor away from its prior
TF_FLOOR = 2e-5  # the rarest value frequency a weight may assume
DISCOUNT_ITERATIONS = 10  # EM rounds that find the duplicates among random pairs
LABEL_WEIGHT = 5.0  # a pair the administrator confirmed counts as this many in EM


@dataclass
class ModelParams:
    """Fitted parameters: serialisable with :meth:`to_dict` / :meth:`from_dict`."""

    m: dict[str, list[float]]
    u: dict[str, list[float]]
    prior: float  # probability that two random records are the same person
    n_records: int
    tf: dict[str, dict[str, int]] = field(default_factory=dict)  # value counts >= 2
    tf_total: dict[str, int] = field(default_factory=dict)  # records with the field present
    em_iterations: int = 0
    import_days: list[int] = field(default_factory=list)  # days of bulk imports (1970 days)
    # Addresses and phones many patients hold (desktop.matching.crowd), by kind.
    crowded: dict[str, list[str]] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-serialisable copy."""
        return {
            "m": self.m,
            "u": self.u,
            "prior": self.prior,
            "n_records": self.n_records,
            "tf": self.tf,
            "tf_total": self.tf_total,
            "em_iterations": self.em_iterations,
            "import_days": self.import_days,
            "crowded": self.crowded,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ModelParams:
        """Rebuild parameters saved with :meth:`to_dict`.

        A comparison added since the model was saved counts nothing (m = u) until the next
        full scan fits it.
        """
        m = {k: list(v) for k, v in data["m"].items()}
        u = {k: list(v) for k, v in data["u"].items()}
        for name in FIELD_NAMES:
            if name not in m or name not in u:
                m[name] = u[name] = _normalised(np.array(U_DEFAULTS[name])).tolist()
        return cls(
            m=m,
            u=u,
            prior=float(data["prior"]),
            n_records=int(data["n_records"]),
            tf={k: dict(v) for k, v in data.get("tf", {}).items()},
            tf_total={k: int(v) for k, v in data.get("tf_total", {}).items()},
            em_iterations=int(data.get("em_iterations", 0)),
            import_days=[int(d) for d in data.get("import_days", [])],
            crowded={k: [str(v) for v in vs] for k, vs in data.get("crowded", {}).items()},
        )

    def level_weights(self) -> np.ndarray:
        """log2(m/u) per field (rows) and level (columns, padded); 0 for missing levels."""
        width = max(len(v) for v in FIELD_LEVELS.values())
        table = np.zeros((len(FIELD_NAMES), width), dtype=np.float64)
        for i, name in enumerate(FIELD_NAMES):
            m, u = self.m[name], self.u[name]
            for lv in range(1, len(FIELD_LEVELS[name])):
                table[i, lv] = math.log2(max(m[lv], 1e-9) / max(u[lv], U_FLOOR))
        for row, lv, cap in WEIGHT_CAPS:
            table[row, lv] = min(table[row, lv], cap)
        return table

    @property
    def prior_weight(self) -> float:
        """log2 of the prior odds that two records are the same person."""
        p = min(max(self.prior, 1e-12), 0.5)
        return math.log2(p / (1 - p))


def _normalised(values: np.ndarray) -> np.ndarray:
    v = np.asarray(values, dtype=np.float64).copy()
    v[0] = 0.0
    total = v[1:].sum()
    if total <= 0:
        v[1:] = 1.0 / (len(v) - 1)
    else:
        v[1:] /= total
    return v


def _bounded(m: np.ndarray, prior: np.ndarray) -> np.ndarray:
    """Keep each m within a factor of its prior: EM on unlabelled pairs cannot tell a
    duplicate with a wrong birth date from a namesake, so the data may only nudge m."""
    lo, hi = prior / M_BOUND, np.minimum(prior * M_BOUND, 1.0)
    out = m.copy()
    for _ in range(3):
        out = _normalised(np.clip(out, lo, hi))
    return out


def _log_prob(levels: np.ndarray, probs: dict[str, np.ndarray]) -> np.ndarray:
    """Per row of ``levels``: the log-probability of its levels under per-field level
    probabilities (missing fields count nothing)."""
    out = np.zeros(levels.shape[0])
    for i, name in enumerate(FIELD_NAMES):
        col = levels[:, i].astype(np.intp)
        out += np.log(np.maximum(probs[name], 1e-12)[col]) * (col > 0)
    return out


def _u_from(levels: np.ndarray, weights: np.ndarray) -> dict[str, np.ndarray]:
    """u per level from pairs counted with ``weights``; a level never seen among the pairs
    gets half of one pair's share."""
    out: dict[str, np.ndarray] = {}
    for i, name in enumerate(FIELD_NAMES):
        n_levels = len(FIELD_LEVELS[name])
        col = levels[:, i]
        counts = np.bincount(col, weights=weights, minlength=n_levels)[:n_levels]
        seen = int((col > 0).sum())
        u = np.zeros(n_levels)
        if seen > 0:
            u[1:] = np.maximum(counts[1:] / max(counts[1:].sum(), 1e-12), 0.5 / seen)
        else:
            u[1:] = [0.98] + [0.02 / max(n_levels - 2, 1)] * (n_levels - 2)
        out[name] = _normalised(np.maximum(u, U_FLOOR))
    return out


def estimate_u(levels: np.ndarray, may_match: np.ndarray | None = None) -> dict[str, list[float]]:
    """u per level from comparison levels of random record pairs.

    Where duplicates are many (a bulk import, Febrl's test sets), some random pairs are one
    person, and they make agreement look commoner among different people than it is. Pairs
    marked in ``may_match`` (no look-alike rule claims them: a household or twins always
    count in full) are discounted by how likely each is to be one person, by EM over the
    random pairs with the prior m.
    """
    u = _u_from(levels, np.ones(levels.shape[0]))
    if may_match is not None and may_match.any():
        log_m = _log_prob(levels, {k: np.asarray(v) for k, v in default_m().items()})
        share = 1e-3  # of random pairs that are one person: EM's starting guess
        for _ in range(DISCOUNT_ITERATIONS):
            odds = math.log(share / (1 - share)) + log_m - _log_prob(levels, u)
            same = np.where(may_match, 1.0 / (1.0 + np.exp(-np.clip(odds, -60, 60))), 0.0)
            share = min(max(float(same.mean()), 1e-9), 0.5)
            u = _u_from(levels, 1.0 - same)
    return {k: v.tolist() for k, v in u.items()}


def run_em(
    levels: np.ndarray,
    u_random: dict[str, list[float]],
    n_records: int,
    iterations: int = 25,
    tf_adjust: np.ndarray | None = None,
    confirmed: np.ndarray | None = None,
) -> tuple[dict[str, list[float]], float, int]:
    """EM over distinct comparison patterns: returns (m, prior over all pairs, iterations).

    ``tf_adjust`` is, per pair, the natural-log correction of u for how common the agreeing
    values are (rounded into half-nat steps so that patterns stay few). ``confirmed`` holds
    the levels of pairs the administrator said are one person: labelled matches, each
    counted ``LABEL_WEIGHT`` times in every M-step.
    """
    m = {k: _normalised(np.array(v)) for k, v in M_PRIORS.items()}
    if levels.shape[0] == 0:
        return {k: v.tolist() for k, v in m.items()}, default_prior(n_records), 0
    adjust = np.zeros(levels.shape[0]) if tf_adjust is None else tf_adjust
    steps = np.clip(np.round(adjust * 2), -60, 60).astype(np.int16)
    table = np.concatenate([levels.astype(np.int16), steps[:, None]], axis=1)
    uniq, counts = np.unique(table, axis=0, return_counts=True)
    patterns = uniq[:, :-1].astype(np.intp)
    counts = counts.astype(np.float64)
    # u stays fixed at its random-pair estimate (as Splink does by default): EM on blocked
    # pairs alone cannot tell "agrees because blocked" from "agrees because the same person".
    u_arrays = {k: np.maximum(np.asarray(v), U_FLOOR) for k, v in u_random.items()}
    log_u = _log_prob(patterns, u_arrays) + uniq[:, -1] / 2.0
    lam = 0.3
    done = 0
    for done in range(1, iterations + 1):
        log_m = _log_prob(patterns, m)
        odds = np.log(lam) - np.log1p(-lam) + log_m - log_u
        post = 1.0 / (1.0 + np.exp(-np.clip(odds, -60, 60)))
        w_m = post * counts
        new_lam = float(w_m.sum() / counts.sum())
        for i, name in enumerate(FIELD_NAMES):
            n_levels = len(FIELD_LEVELS[name])
            cm = np.bincount(patterns[:, i], weights=w_m, minlength=n_levels)[:n_levels]
            if confirmed is not None and confirmed.size:
                col = confirmed[:, i].astype(np.intp)
                cm = cm + LABEL_WEIGHT * np.bincount(col, minlength=n_levels)[:n_levels]
            prior = _normalised(np.array(M_PRIORS[name]))
            m[name] = _bounded(_normalised(cm + prior * PRIOR_STRENGTH), prior)
        new_lam = min(max(new_lam, 1e-6), 0.9)
        converged = abs(new_lam - lam) < 1e-5 and done > 3
        lam = new_lam
        if converged:
            break
    n_matches = lam * float(counts.sum())
    all_pairs = max(n_records * (n_records - 1) / 2, 1.0)
    match_prior = min(max(n_matches / all_pairs, 1.0 / all_pairs), 0.5)
    return {k: v.tolist() for k, v in m.items()}, match_prior, done


def default_prior(n_records: int) -> float:
    """The prior before any data: about one record in twenty is a duplicate."""
    pairs = max(n_records * (n_records - 1) / 2, 1.0)
    return min(DUPLICATE_SHARE * max(n_records, 1) / pairs, 0.5)


def default_params(n_records: int = 5000) -> ModelParams:
    """Parameters from the priors alone (for scoring one pair, or a clinic too small to fit)."""
    return ModelParams(
        m=default_m(),
        u={k: _normalised(np.array(v)).tolist() for k, v in U_DEFAULTS.items()},
        prior=default_prior(n_records),
        n_records=n_records,
    )


def default_m() -> dict[str, list[float]]:
    """The prior m values, normalised."""
    return {k: _normalised(np.array(v)).tolist() for k, v in M_PRIORS.items()}


def tf_weights(
    params: ModelParams, name: str, values: list[str], counts: np.ndarray | None
) -> np.ndarray:
    """Per vocabulary code: the exact-level weight of a field adjusted for value frequency.

    ``counts`` holds each value's count in this batch; when None (incremental re-scoring),
    the counts saved in the model are used (values not in it count once).
    """
    lv = len(FIELD_LEVELS[name]) - 1
    m_exact = max(params.m[name][lv], 1e-9)
    total = max(params.tf_total.get(name, params.n_records), 1)
    if counts is None:
        saved = params.tf.get(name, {})
        counts = np.array([saved.get(v, 1) for v in values], dtype=np.float64)
    tf = np.maximum(np.asarray(counts, dtype=np.float64) / total, TF_FLOOR)
    base = math.log2(m_exact / max(params.u[name][lv], U_FLOOR))
    weights = np.log2(m_exact / tf)
    # Never let frequency make an exact agreement count for less than a close one.
    floor = math.log2(max(params.m[name][lv - 1], 1e-9) / max(params.u[name][lv - 1], U_FLOOR))
    return np.maximum(np.minimum(weights, base + 6.0), min(floor, base))


TF_CODE_FIELDS = TF_FIELDS
