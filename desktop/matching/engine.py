"""The matching engine: rows in, scored and explained pairs, clusters and a model out."""

from __future__ import annotations

import datetime
import gc
import logging
import time
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import replace
from typing import Any

import numpy as np

from desktop.matching.blocking import Candidates, candidate_pairs
from desktop.matching.cluster import build_clusters
from desktop.matching.compare import (
    FIELD_LEVELS,
    FIELD_NAMES,
    TF_FIELDS,
    Comparison,
    compare_pairs,
)
from desktop.matching.compare_names import saved_given_counts
from desktop.matching.crowd import crowded_values
from desktop.matching.explain import build_pairs
from desktop.matching.features import (
    Features,
    Vocab,
    build_features,
    build_features_from_columns,
    forget_days,
    import_days,
)
from desktop.matching.keyindex import KeyIndex, holders_of
from desktop.matching.learning import confirmed_links
from desktop.matching.lookalike import (
    demote_ambiguous,
    fits_model,
    lookalike_flags,
    relaxed_mask,
    unpaired,
)
from desktop.matching.model import (
    ModelParams,
    default_m,
    default_params,
    default_prior,
    estimate_u,
    run_em,
    tf_weights,
)
from desktop.matching.types import MatchSettings, ScanResult, ScoredPair

log = logging.getLogger(__name__)

# Raised whenever the same two records can be scored, flagged or banded otherwise: a queue
# scored by an earlier revision is then scored again in full, not left as it was.
# 2: names swapped between the records are found with surnames of several words.
# 3: a short form made the same day as its full name (Josh / Joshua) is no sign of twins.
# 4: Greek and Italian names' English and short forms (Dimitrios / Jimmy) are nicknames.
# 5: phones read as the patient's (else the clinic's) country; US and post-office-box address forms.
# 6: two names each given in its own right (Daniel / Danielle) are different first names.
# 7: recorded sex that disagrees, without the same first name, is a look-alike (other_sex).
# 8: records with little to go on: "incomplete_record"; a common name alone is not proposed.
# 9: placeholder first names ("Baby", "Mrs", "Husband") are no name; a nameless record is
#    never "likely" with a member of its family (no_first_name).
# 10: twins with nickname-related names and their own mobiles; one name on two Medicare
#     cards undated; names alike in spelling undated; softer links count for ambiguity.
# 11: learned relaxations and confirmed pairs (labels in EM) from the administrator.
# 12: a birth date with day and month the other way round (month over 12) is read.
# 13: a nameless record sharing a phone, email or address is held whatever its surname.
# 14: placeholder surnames ("Unknown", "Dont Know") are no surname; duplicates that only
#     their names confirm teach EM too.
# 15: a full name rare in this clinic confirms a pair with no birth date to compare.
# 16: a merge the administrator confirmed is "likely", and so is a held pair it joins through
#     a "likely" pair (unless a rule says two family members).
# 17: a nameless record with the patient's surname and birth date has a flag of its own
#     (no_first_name_same_birth_date), which answers may relax.
# 18: how common an agreeing value is counts the patients other than one of the pair.
# 19: a birth date with up to two letters that look like digits ("O5/27/1983") is read.
# 20: first names this clinic gives to several patients each are two names (Eric / Erin).
# 21: a first name only one record has, near a name given to many, is that name mistyped.
# 22: whether each record has a birth date at all is evidence (birth_date_recorded); an email
#     only nearly the same does not complete a record with little to go on; an address with
#     words left out ("Pointe Dr" / "49580 Pointe Dr") is the same address; the street and
#     given name are a blocking key.
# 23: a patient without a birth date is read with the one birth date of the records merged
#     into it in Cliniko (store/scan_rows); the queue is scored again once to see it.
# 24: one street line in one suburb with postcodes a typing slip apart is one address; a
#     birth date no patient has ("1173-10-29" for 1973) is compared digit by digit.
# 25: a record without a birth date is also paired by surname and first initial, given name
#     and surname initial, and street and surname; an initial beside a name a generation
#     apart is a parent and child; a birth date typed wrong counts as recorded. (The three
#     keys pair a dated record with an undated one only.)
# 26: a birth date after today is typed wrong ("2037-08-12"), compared as a typed date; a
#     child's record beside a typed birth date is no child's record beside an undated one.
# 27: "incomplete_record" holds a pair with nothing but names to compare only where one
#     record has no birth date, address or Medicare number, or where both have phones that
#     differ (a birth date on one and an address on the other is not a record with little).
# 28: a birth date no patient has that differs from the other record's in five of its eight
#     digits or more is a different birth date, no longer no evidence ("2410-09-16" beside
#     "2009-12-03").
# 29: a first name shared at an address or phone ten or more patients hold (a care home),
#     with another surname, is held as a household (crowd_contact).
# 30: a link held back only by a rule the answers relaxed makes a record ambiguous beside a
#     look-alike of its partner (a nameless record beside twins).
SCORING_REVISION = 30


def _non_card(f: Features, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Per pair: neither identifier is a Medicare card (a personal number names one person)."""
    out: np.ndarray = ~f.medicare_is_card[a] & ~f.medicare_is_card[b]
    return out


def others_sharing(counts: np.ndarray) -> np.ndarray:
    """Per value: how many records hold it besides one of the pair that agrees on it.

    Two records that agree on a value are both among its holders; how common the value is
    among *other* patients is what tells chance apart from one person. A name only these two
    records carry is then as rare as a value can be, not twice as common.
    """
    out: np.ndarray = np.maximum(counts - 1.0, 1.0)
    return out


@contextmanager
def paused_gc() -> Iterator[None]:
    """Pause the cyclic garbage collector: a scan allocates millions of small objects and
    none of them in cycles, so collections would only re-walk the heap (about 15% of a scan)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


class MatchEngine:
    """Finds duplicate patient records. Pure: rows in, results out, no I/O."""

    def __init__(self, settings: MatchSettings | None = None) -> None:
        self.settings = settings or MatchSettings()

    def _today(self) -> int:
        """Today as ``YYYYMMDD`` (from the settings, else the computer's clock)."""
        text = self.settings.today or datetime.date.today().isoformat()
        return int(text[:10].replace("-", ""))

    # -- public API -----------------------------------------------------------------------
    def scan(self, rows: Iterable[dict[str, Any]]) -> ScanResult:
        """Full scan: fit the model on these records and score every candidate pair."""
        t0 = time.perf_counter()
        with paused_gc():
            return self._scan(build_features(rows, self.settings.country), t0)

    def scan_columns(self, columns: dict[str, list[Any]]) -> ScanResult:
        """:meth:`scan` on column lists of active records (the store's fast path)."""
        t0 = time.perf_counter()
        with paused_gc():
            return self._scan(build_features_from_columns(columns, self.settings.country), t0)

    def _scan(self, f: Features, t0: float) -> ScanResult:
        timings: dict[str, float] = {"normalise": time.perf_counter() - t0}
        imported = import_days(f.created_day)
        forget_days(f, imported)
        # The key index needs the features only: it is built on the second core while the
        # pairs are found and scored (its sorting and hashing release the interpreter lock).
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="key-index") as pool:
            index = pool.submit(KeyIndex.build, f) if self.settings.build_index else None
            t = time.perf_counter()
            cands = candidate_pairs(f, self.settings)
            timings["block"] = time.perf_counter() - t
            t = time.perf_counter()
            comp = compare_pairs(f, cands.a, cands.b, cands.shared_phone, self._today())
            timings["compare"] = time.perf_counter() - t
            t = time.perf_counter()
            params = replace(self.fit(f, cands, comp), import_days=imported)
            timings["fit"] = time.perf_counter() - t
            return self._finish(f, cands, comp, params, None, timings, t0, index)

    def rescore(
        self, rows_all: Iterable[dict[str, Any]], changed_ids: Iterable[str], model: dict[str, Any]
    ) -> ScanResult:
        """Score only pairs touching ``changed_ids``, with a saved model (no refitting).

        ``rows_all`` must hold the changed records and every record that may pair with them
        (all records, or the neighbours found through the saved blocking keys).
        """
        t0 = time.perf_counter()
        return self._rescore(
            build_features(rows_all, self.settings.country), changed_ids, model, t0
        )

    def rescore_columns(
        self,
        columns: dict[str, list[Any]],
        changed_ids: Iterable[str],
        model: dict[str, Any],
        oversized: np.ndarray | None = None,
    ) -> ScanResult:
        """:meth:`rescore` on column lists of active records.

        ``oversized``: stable keys (see :mod:`keyindex`) of backup blocks known to be over
        their cap in the whole clinic; their holders need not be among the columns.
        """
        t0 = time.perf_counter()
        f = build_features_from_columns(columns, self.settings.country)
        return self._rescore(f, changed_ids, model, t0, oversized)

    def _rescore(
        self,
        f: Features,
        changed_ids: Iterable[str],
        model: dict[str, Any],
        t0: float,
        oversized: np.ndarray | None = None,
    ) -> ScanResult:
        params = ModelParams.from_dict(model)
        forget_days(f, params.import_days)
        changed = set(map(str, changed_ids))
        only = np.fromiter((i in changed for i in f.ids), dtype=bool, count=len(f))
        left_out = holders_of(f, oversized) if oversized is not None and oversized.size else None
        cands = candidate_pairs(f, self.settings, only, left_out)
        given = saved_given_counts(f, params.tf.get("first_name", {}))
        comp = compare_pairs(
            f, cands.a, cands.b, cands.shared_phone, self._today(), given, params.crowded
        )
        timings = {"prepare": time.perf_counter() - t0}
        return self._finish(f, cands, comp, params, model, timings, t0)

    def score_pair(
        self, row_a: dict[str, Any], row_b: dict[str, Any], model: dict[str, Any] | None = None
    ) -> ScoredPair:
        """Score and explain two records, whatever blocking would say (default model: priors).

        Returns an "unlikely" pair too; raises ValueError when a record is archived or merged.
        """
        params = ModelParams.from_dict(model) if model else default_params()
        f = build_features([row_a, row_b], self.settings.country)
        if len(f) != 2:
            raise ValueError("both records must be active (not archived or merged)")
        shared = bool(
            set(f.phone_code[f.phone_rec == 0].tolist())
            & set(f.phone_code[f.phone_rec == 1].tolist())
        )
        cands = Candidates(
            a=np.array([0]), b=np.array([1]), shared_phone=np.array([shared]), skipped=[]
        )
        comp = compare_pairs(
            f, cands.a, cands.b, cands.shared_phone, self._today(), crowded=params.crowded
        )
        settings = self.settings
        try:
            self.settings = replace(settings, include_unlikely=True, build_index=False)
            result = self._finish(f, cands, comp, params, params.to_dict(), {}, time.perf_counter())
        finally:
            self.settings = settings
        return result.pairs[0]

    # -- model ----------------------------------------------------------------------------
    def fit(self, f: Features, cands: Candidates, comp: Comparison) -> ModelParams:
        """Estimate u from random pairs and m (plus the prior) by EM on the candidates.

        Pairs that a look-alike rule claims are left out of EM: households and namesakes
        break its assumption that fields agree independently.
        """
        n = len(f)
        counts_by_attr = {attr: self._value_counts(f, attr) for attr in TF_FIELDS.values()}
        u = self._random_pair_u(f, counts_by_attr)
        tf: dict[str, dict[str, int]] = {}
        tf_total: dict[str, int] = {}
        adjust = np.zeros(cands.a.size)
        for field, attr in TF_FIELDS.items():
            codes = getattr(f, attr)
            values = self._vocab_for(f, attr).values
            counts = counts_by_attr[attr]
            tf_total[field] = int((codes >= 0).sum())
            common = np.flatnonzero(counts >= 2)
            tf[field] = {values[c]: int(counts[c]) for c in common}
            k = FIELD_NAMES.index(field)
            exact = (comp.levels[:, k] == len(FIELD_LEVELS[field]) - 1) & (codes[cands.a] >= 0)
            share = others_sharing(counts)[codes[cands.a[exact]]] / max(tf_total[field], 1)
            u_exact = max(u[field][-1], 1e-9)
            adjust[exact] = np.log(np.maximum(share, 1e-6)) - np.log(u_exact)
        if self.settings.em_iterations > 0:
            expected = self._expected_namesakes(f, cands.a, counts_by_attr, n)
            flags = lookalike_flags(comp, expected, _non_card(f, cands.a, cands.b))
            clean = fits_model(flags, expected)
            confirmed = self._confirmed(f, cands)
            clean &= ~confirmed
            m, prior, iters = run_em(
                comp.levels[clean],
                u,
                n,
                self.settings.em_iterations,
                adjust[clean],
                comp.levels[confirmed],
            )
        else:
            m, prior, iters = default_m(), default_prior(n), 0
        return ModelParams(
            m=m,
            u=u,
            prior=prior,
            n_records=n,
            tf=tf,
            tf_total=tf_total,
            em_iterations=iters,
            crowded=crowded_values(f),
        )

    def _confirmed(self, f: Features, cands: Candidates) -> np.ndarray:
        """Per candidate pair: the administrator said these two records are one person."""
        out = np.zeros(cands.a.size, dtype=bool)
        if not self.settings.confirmed_pairs or not cands.a.size:
            return out
        index = {pid: i for i, pid in enumerate(f.ids)}
        n = max(len(f), 1)
        wanted = [
            min(index[x], index[y]) * n + max(index[x], index[y])
            for x, y in self.settings.confirmed_pairs
            if x in index and y in index
        ]
        keys = np.minimum(cands.a, cands.b).astype(np.int64) * n + np.maximum(cands.a, cands.b)
        return np.isin(keys, np.asarray(wanted, dtype=np.int64))

    def _random_pair_u(self, f: Features, counts: dict[str, np.ndarray]) -> dict[str, list[float]]:
        """u from random record pairs; those that may be one person (no look-alike rule
        claims them) are discounted by how likely they are to be."""
        n = len(f)
        size = min(self.settings.random_pairs, max(n * (n - 1) // 2, 0))
        if n < 2 or size == 0:
            return estimate_u(np.zeros((0, len(FIELD_NAMES)), dtype=np.uint8))
        rng = np.random.default_rng(self.settings.seed)
        ra = rng.integers(0, n, size=size)
        rb = rng.integers(0, n, size=size)
        keep = ra != rb
        ra, rb = ra[keep], rb[keep]
        primary = np.full(n, -1, dtype=np.int64)
        primary[f.phone_rec[::-1]] = f.phone_code[::-1]
        shared = (primary[ra] >= 0) & (primary[ra] == primary[rb])
        comp = compare_pairs(f, ra, rb, shared, self._today())
        expected = self._expected_namesakes(f, ra, counts, n)
        plain = lookalike_flags(comp, expected, _non_card(f, ra, rb)) == 0
        return estimate_u(comp.levels, plain)

    @staticmethod
    def _expected_namesakes(
        f: Features, a: np.ndarray, counts: dict[str, np.ndarray], n: int
    ) -> np.ndarray:
        """Per pair: how many patients would share its first record's (``a``) full name by
        chance."""
        fc, lc = counts["first"], counts["last"]
        first_a, last_a = f.first[a], f.last[a]
        cf = fc[np.maximum(first_a, 0)] * (first_a >= 0) if fc.size else np.zeros(first_a.size)
        cl = lc[np.maximum(last_a, 0)] * (last_a >= 0) if lc.size else np.zeros(last_a.size)
        return cf * cl / max(n, 1)

    @staticmethod
    def _vocab_for(f: Features, attr: str) -> Vocab:
        return f.names if attr in ("first", "last") else f.vocabs[attr]

    @classmethod
    def _value_counts(cls, f: Features, attr: str) -> np.ndarray:
        """How many records hold each vocabulary value of a feature."""
        codes = getattr(f, attr)
        size = len(cls._vocab_for(f, attr).values)
        return np.bincount(codes[codes >= 0], minlength=size).astype(float)

    # -- scoring --------------------------------------------------------------------------
    def _weights(
        self,
        f: Features,
        cands: Candidates,
        comp: Comparison,
        params: ModelParams,
        saved: bool,
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Per-pair field weights (n x fields), total weight, and expected name sharers."""
        table = params.level_weights()
        levels = comp.levels
        fw = np.empty(levels.shape, dtype=np.float64)
        for k in range(levels.shape[1]):
            fw[:, k] = table[k][levels[:, k]]
        counts_by_attr: dict[str, np.ndarray] = {}
        for field, attr in TF_FIELDS.items():
            k = FIELD_NAMES.index(field)
            codes = getattr(f, attr)
            values = self._vocab_for(f, attr).values
            if saved and field not in params.tf:
                counts_by_attr[attr] = np.ones(len(values))
                continue  # no frequencies known: the plain exact-level weight stands
            if saved:
                saved_tf = params.tf.get(field, {})
                counts = np.array([saved_tf.get(v, 1) for v in values], dtype=np.float64)
            else:
                counts = self._value_counts(f, attr)
            counts_by_attr[attr] = counts
            exact = levels[:, k] == len(FIELD_LEVELS[field]) - 1
            code_a = codes[cands.a[exact]]
            ok = code_a >= 0
            tfw = tf_weights(params, field, values, others_sharing(counts))
            col = fw[:, k]
            sub = col[exact]
            sub[ok] = tfw[code_a[ok]]
            col[exact] = sub
        total = fw.sum(axis=1) + params.prior_weight
        expected = self._expected_namesakes(f, cands.a, counts_by_attr, params.n_records)
        if saved and not {"first_name", "last_name"} <= params.tf.keys():
            expected[:] = np.nan  # how common a name is, is unknown: neither rare nor common
        return fw, total, expected

    def _finish(
        self,
        f: Features,
        cands: Candidates,
        comp: Comparison,
        params: ModelParams,
        saved_model: dict[str, Any] | None,
        timings: dict[str, float],
        t0: float,
        index_job: Future[KeyIndex] | None = None,
    ) -> ScanResult:
        """Score, band and explain the compared pairs; ``index_job`` builds the key index."""
        t = time.perf_counter()
        fw, total, expected = self._weights(f, cands, comp, params, saved_model is not None)
        prob = 1.0 / (1.0 + np.exp2(-np.clip(total, -60, 60)))
        flags = lookalike_flags(comp, expected, _non_card(f, cands.a, cands.b), banding=True)
        band = np.zeros(total.size, dtype=np.int8)
        band[prob >= self.settings.possible_threshold] = 1
        relaxed = relaxed_mask(self.settings.relaxed_flags)
        held = flags & ~np.uint16(relaxed)
        strong = prob >= self.settings.likely_threshold
        band[strong & (held == 0)] = 2
        band[unpaired(flags)] = 0
        demote_ambiguous(f, cands, flags, band, strong, relaxed)
        told = confirmed_links(f.ids, cands.a, cands.b, band, flags, self.settings.confirmed_pairs)
        band[told] = 2
        keep = np.flatnonzero(band >= (0 if self.settings.include_unlikely else 1))
        timings["score"] = time.perf_counter() - t
        t = time.perf_counter()
        arrays = (fw, total, prob, flags, band)
        pairs = build_pairs(
            f, cands, comp, arrays, keep, params.level_weights(), params.prior_weight
        )
        clusters = build_clusters(
            (p.id_a, p.id_b, p.probability) for p in pairs if p.band != "unlikely" and not p.flags
        )
        timings["explain"] = time.perf_counter() - t
        timings["total"] = time.perf_counter() - t0
        stats = {
            "records": len(f),
            "candidates": int(cands.a.size),
            "likely": int((band == 2).sum()),
            "possible": int((band == 1).sum()),
            "flagged": int((flags > 0).sum()),
            "timings": timings,
        }
        log.info(
            "scan: %d records, %d candidates, %d likely, %d possible",
            len(f),
            cands.a.size,
            stats["likely"],
            stats["possible"],
        )
        t = time.perf_counter()
        index = index_job.result() if index_job is not None else None
        if index is not None:
            timings["index"] = time.perf_counter() - t  # the wait for it, past the stages above
        model = dict(saved_model or params.to_dict())
        model["relaxed_flags"] = list(self.settings.relaxed_flags)
        return ScanResult(
            pairs=pairs,
            clusters=clusters,
            skipped_blocks=cands.skipped,
            model=model,
            stats=stats,
            key_index=index,
        )
