"""Blocking: candidate pairs from several independent keys, built with numpy.

A true duplicate that disagrees on one or two fields still shares some key with its twin
record. Blocks larger than a cap are not expanded in full; their records are compared only
with near neighbours in name order, and the block is reported in ``skipped``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from desktop.matching.features import Features

_SHIFT = np.int64(1 << 30)


@dataclass
class Candidates:
    """Candidate pairs (record indices ``a < b``) and what blocking had to leave out."""

    a: np.ndarray
    b: np.ndarray
    shared_phone: np.ndarray  # bool per pair: the two records share a phone number
    skipped: list[tuple[str, int, str]]


def _combine(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """One int64 key from two code arrays; -1 where either is missing."""
    x64, y64 = x.astype(np.int64), y.astype(np.int64)
    key = x64 * _SHIFT + y64
    key[(x64 < 0) | (y64 < 0)] = -1
    return key


def _pairs_in_blocks(
    rec: np.ndarray, key: np.ndarray, order_key: np.ndarray, cap: int, window: int
) -> tuple[np.ndarray, np.ndarray, list[tuple[int, int]]]:
    """All pairs of records sharing a key; windowed pairs inside blocks larger than ``cap``."""
    keep = key >= 0
    rec, key = rec[keep], key[keep]
    if rec.size < 2:
        empty = np.empty(0, dtype=np.int64)
        return empty, empty, []
    order = np.lexsort((order_key[rec], key))
    rec, key = rec[order], key[order]
    starts = np.flatnonzero(np.r_[True, key[1:] != key[:-1]])
    sizes = np.diff(np.r_[starts, key.size])
    out_a: list[np.ndarray] = []
    out_b: list[np.ndarray] = []
    big: list[tuple[int, int]] = []
    for size in np.unique(sizes):
        if size < 2:
            continue
        block_starts = starts[sizes == size]
        if size > cap:
            for start in block_starts:
                members = rec[start : start + size]
                for offset in range(1, window + 1):
                    out_a.append(members[:-offset])
                    out_b.append(members[offset:])
                big.append((int(size), int(start)))
            continue
        members = rec[block_starts[:, None] + np.arange(size)]
        iu, ju = np.triu_indices(int(size), 1)
        out_a.append(members[:, iu].ravel())
        out_b.append(members[:, ju].ravel())
    if not out_a:
        empty = np.empty(0, dtype=np.int64)
        return empty, empty, big
    return np.concatenate(out_a), np.concatenate(out_b), big


def block_keys(f: Features) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Each blocking key kind -> (record index, key) arrays; keys are -1 when missing."""
    n = len(f)
    idx = np.arange(n, dtype=np.int64)
    name_lo = np.minimum(f.first, f.last)
    name_hi = np.maximum(f.first, f.last)
    dob = f.dob.astype(np.int64)
    dob[dob == 0] = -1
    dob32 = np.where(dob > 0, dob - 18_000_000, -1).astype(np.int64)
    return {
        "phone": (f.phone_rec, f.phone_code),
        "email": (idx, f.email.astype(np.int64)),
        "medicare card": (idx, f.medicare.astype(np.int64)),
        "birth date + first name": (idx, _combine(dob32, f.first_canon)),
        "birth date + surname": (idx, _combine(dob32, f.last)),
        "birth date + postcode": (idx, _combine(dob32, f.postcode)),
        "sounds-like name": (idx, _combine(f.last_phon, f.first_phon)),
        "full name either order": (idx, _combine(name_lo, name_hi)),
        "address + surname sound": (idx, _combine(f.address, f.last_phon)),
        "address": (idx, f.address.astype(np.int64)),
        "birth date + first initial": (idx, _combine(dob32, f.first_initial)),
        "birth date + surname initial": (idx, _combine(dob32, f.last_initial)),
    }


def candidate_pairs(
    f: Features,
    cap: int = 150,
    window: int = 8,
    only: np.ndarray | None = None,
) -> Candidates:
    """Union of the pairs of every blocking key (optionally only pairs touching ``only``)."""
    n = len(f)
    order_key = (f.last.astype(np.int64) * _SHIFT + f.first.astype(np.int64)).astype(np.int64)
    codes: list[np.ndarray] = []
    phone_codes = np.empty(0, dtype=np.int64)
    skipped: list[tuple[str, int, str]] = []
    for kind, (rec, key) in block_keys(f).items():
        a, b, big = _pairs_in_blocks(rec, key, order_key, cap, window)
        for size, _start in big:
            what = f"block larger than {cap}: compared only {window} neighbours in name order"
            skipped.append((kind, size, what))
        lo, hi = np.minimum(a, b), np.maximum(a, b)
        valid = lo != hi
        if only is not None:
            valid &= only[lo] | only[hi]
        code = lo[valid] * n + hi[valid]
        codes.append(code)
        if kind == "phone":
            phone_codes = np.unique(code)
    allc = np.unique(np.concatenate(codes)) if codes else np.empty(0, dtype=np.int64)
    shared = np.isin(allc, phone_codes, assume_unique=True)
    return Candidates(a=allc // n, b=allc % n, shared_phone=shared, skipped=skipped)

