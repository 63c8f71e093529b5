"""Write every pair the engine scores on a benchmark set, one line per pair, for diffing.

Run on demand (not part of pytest), before and after a change that must not move scoring::

    UV_PROJECT_ENVIRONMENT=/tmp/mergedesk-bench-venv uv run --group bench \\
        python tests/benchmarks/score_dump.py --set clinic-5000 --out /tmp/before-5k.tsv

Each line is ``id_a  id_b  probability  band  flags  evidence``: the probability rounded to
1e-9, the flags comma-joined, the evidence every ``label:level:weight:value_a:value_b:text``
(weight rounded to 1e-9) the explanation shows. The scan keeps unlikely pairs too
(``include_unlikely``), so the file covers every candidate pair the engine scored, not only
the queue. Lines are sorted, so two runs of the same code give byte-identical files and
``diff`` shows any change.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from desktop.matching import MatchEngine, MatchSettings  # noqa: E402
from desktop.matching.types import ScoredPair  # noqa: E402
from tests.benchmarks.datasets import load  # noqa: E402

TODAY = "2026-12-04"  # a fixed date for the age rules, so runs on other days compare


def pair_line(pair: ScoredPair) -> str:
    """One scored pair as a tab-separated line (see the module docstring)."""
    evidence = " | ".join(
        f"{e.field}:{e.level}:{e.weight:.9f}:{e.value_a}:{e.value_b}:{e.text}"
        for e in pair.evidence
    )
    return "\t".join(
        (
            pair.id_a,
            pair.id_b,
            f"{pair.probability:.9f}",
            pair.band,
            ",".join(pair.flags),
            evidence,
        )
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--set", required=True, help="clinic-5000, febrl3, febrl4, ...")
    parser.add_argument("--out", type=Path, required=True, help="where to write the pairs")
    parser.add_argument("--seed", type=int, default=1, help="sample clinic seed")
    args = parser.parse_args(argv)
    rows = load(args.set, args.seed).rows
    start = time.perf_counter()
    result = MatchEngine(MatchSettings(country="AU", include_unlikely=True, today=TODAY)).scan(rows)
    seconds = time.perf_counter() - start
    lines = sorted(pair_line(p) for p in result.pairs)
    args.out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    bands = {b: sum(1 for p in result.pairs if p.band == b) for b in ("likely", "possible")}
    print(f"{args.set}: {len(lines)} pairs, {bands}, scan {seconds:.2f} s -> {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
