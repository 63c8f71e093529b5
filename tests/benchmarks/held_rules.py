"""Which rule holds which true pairs at "possible", and what letting them into "likely" costs.

Run on demand (not part of pytest)::

    UV_PROJECT_ENVIRONMENT=/tmp/mergedesk-bench-venv uv run --group bench \\
        python tests/benchmarks/held_rules.py --set pp-default --set pp-noise2x

For each set (any name :func:`datasets.load` takes) the engine scans the rows in memory with
the benchmark's settings, then prints two tables:

* every combination of rules that holds a pair at "possible": the true pairs it holds (all,
  and those the model scores at or above ``--at``, the "likely" bar) beside the pairs of two
  people it holds at that score;
* the likely band's precision, recall and F1 if the pairs held by a growing list of rules
  (``--release``, in order) and scored at or above ``--at`` were "likely" instead, with the
  look-alikes that would then be "likely".

It changes nothing in the engine: it reads the flags and probabilities of one scan.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from desktop.matching import MatchEngine, MatchSettings  # noqa: E402
from desktop.matching.types import ScoredPair  # noqa: E402
from tests.benchmarks.datasets import Dataset, Pair, load, pair  # noqa: E402
from tests.benchmarks.metrics import format_leaks, lookalike_leaks, prf  # noqa: E402

# The rules that hold pseudopeople's true pairs most often, in the order they are let go.
RELEASE = (
    "names_only",
    "common_name",
    "incomplete_record",
    "no_first_name_same_birth_date",
    "child_record",
    "ambiguous",
)


def held_table(pairs: list[ScoredPair], truth: set[Pair], at: float) -> list[str]:
    """Markdown rows: per combination of rules, true pairs held (all, scored >= ``at``) and
    pairs of two people held at that score; the most true pairs first."""
    held = [p for p in pairs if p.band == "possible" and p.flags]
    true_all: Counter[str] = Counter()
    true_high: Counter[str] = Counter()
    false_high: Counter[str] = Counter()
    for p in held:
        rules = ", ".join(sorted(p.flags))
        if pair(p.id_a, p.id_b) in truth:
            true_all[rules] += 1
            true_high[rules] += p.probability >= at
        elif p.probability >= at:
            false_high[rules] += 1
    lines = [
        f"| rules holding the pair | true pairs held | of them p >= {at:g} "
        f"| two people held at p >= {at:g} |",
        "|---|---|---|---|",
    ]
    for rules in sorted(set(true_all) | set(false_high), key=lambda r: (-true_all[r], r)):
        lines.append(f"| {rules} | {true_all[rules]} | {true_high[rules]} | {false_high[rules]} |")
    return lines


def release_table(
    pairs: list[ScoredPair], dataset: Dataset, at: float, order: tuple[str, ...]
) -> list[str]:
    """Markdown rows: the likely band today, then with the pairs held only by the first 1, 2,
    ... rules of ``order`` and scored >= ``at`` let in."""
    likely = {pair(p.id_a, p.id_b) for p in pairs if p.band == "likely"}
    lines = [
        "| let into likely | true pairs let in | two people let in | P likely | R likely "
        "| F1 likely | look-alikes in likely |",
        "|---|---|---|---|---|---|---|",
    ]
    for n in range(len(order) + 1):
        rules = set(order[:n])
        extra = {
            pair(p.id_a, p.id_b)
            for p in pairs
            if p.band == "possible" and p.flags and p.probability >= at and set(p.flags) <= rules
        }
        proposed = likely | extra
        score = prf(proposed, dataset.true_pairs)
        leaks = lookalike_leaks(proposed, dataset.lookalikes)
        label = " + ".join(order[:n]) if n else "nothing (today)"
        lines.append(
            f"| {label} | {len(extra & dataset.true_pairs)} | {len(extra - dataset.true_pairs)} "
            f"| {score.precision:.4f} | {score.recall:.4f} | {score.f1:.4f} "
            f"| {format_leaks(leaks, bool(dataset.lookalikes))} |"
        )
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--set", action="append", required=True, help="pp-default, febrl3, ...")
    parser.add_argument("--at", type=float, default=None, help="score bar (default: likely's)")
    parser.add_argument(
        "--release", default=",".join(RELEASE), help="rules to let go, in order, comma-joined"
    )
    args = parser.parse_args(argv)
    settings = MatchSettings(country="AU")
    at = settings.likely_threshold if args.at is None else args.at
    order = tuple(r for r in args.release.split(",") if r)
    for name in args.set:
        dataset = load(name)
        pairs = MatchEngine(settings).scan(dataset.rows).pairs
        print(f"\n{name}: true pairs held at 'possible', by the rules holding them\n")
        print("\n".join(held_table(pairs, dataset.true_pairs, at)))
        print(f"\n{name}: held pairs scored >= {at:g} let into 'likely', rule by rule\n")
        print("\n".join(release_table(pairs, dataset, at, order)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
