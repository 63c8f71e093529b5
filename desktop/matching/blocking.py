"""Blocking: candidate pairs from several independent keys, built with numpy.

A true duplicate that disagrees on one or two fields still shares some key with its twin
record. Blocks larger than a cap are not expanded in full; their records are compared only
with near neighbours in name order, and the block is reported in ``skipped``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from desktop.matching.arrays import sorted_unique
from desktop.matching.features import Features
from desktop.matching.types import MatchSettings

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
        members = rec[block_starts[:, None] + np.arange(size)]  # one row per block
        if size > cap:
            for offset in range(1, min(window, int(size) - 1) + 1):
                out_a.append(members[:, :-offset].ravel())
                out_b.append(members[:, offset:].ravel())
            big.extend((int(size), start) for start in block_starts.tolist())
            continue
        iu, ju = np.triu_indices(int(size), 1)
        out_a.append(members[:, iu].ravel())
        out_b.append(members[:, ju].ravel())
    if not out_a:
        empty = np.empty(0, dtype=np.int64)
        return empty, empty, big
    return np.concatenate(out_a), np.concatenate(out_b), big


# Blocking key kinds other than phone (phones are many per record): their components.
KEY_KINDS: dict[str, tuple[str, ...]] = {
    "email": ("email",),
    "medicare card": ("medicare",),
    "birth date + first name": ("dob", "first_canon"),
    "birth date + surname": ("dob", "last"),
    "birth date + postcode": ("dob", "postcode"),
    "sounds-like name": ("last_phon", "first_phon"),
    "full name either order": ("first", "last"),
    "address + surname sound": ("address", "last_phon"),
    # A street line names a place only with its suburb or postcode ("12 High Street" is in
    # hundreds of suburbs); two keys, so a slip in either one still leaves the other.
    "address + postcode": ("address", "postcode"),
    "address + suburb": ("address", "city"),
    # "Christen Bauer, 1609 Ellicott Rd" and "Christen Baver, Ellicott Rd": the street without
    # its house number, with the given name, finds a record whose number and surname slipped.
    "street + given name": ("street", "first_canon"),
    "birth date + first initial": ("dob", "first_initial"),
    "birth date + surname initial": ("dob", "last_initial"),
    "surname sound + postcode": ("last_phon", "postcode"),
    "first name sound + postcode": ("first_phon", "postcode"),
    "birth date + initials either order": ("dob", "initials"),
    # A record without a birth date has only its names (and perhaps an address) to be found
    # by: a slip that changes how a name sounds ("Howwrd", "Anserson") or a first name left
    # out ("Child Pierce" for Carl) leaves it no key above. These three pair it with a dated
    # record that shares the rest. Two dated records are found through their dates; two
    # undated ones would have nothing but these names to go on, and in a clinic that records
    # few birth dates they would crowd the queue (the sample clinic of 100,000 without its
    # birth dates: 3,400 more pairs of two people, for 10 more of one person).
    "surname + first initial": ("last", "first_initial"),
    "given name + surname initial": ("first_canon", "last_initial"),
    "street + surname": ("street", "last"),
}
ONE_DATED_ONLY = frozenset(
    {"surname + first initial", "given name + surname initial", "street + surname"}
)
UNORDERED = frozenset({"full name either order"})
# Keys made of names (or an address) alone: common names make big blocks of namesakes whose
# pairs would grow with the square of the clinic, so these are capped hard and windowed
# narrowly (a duplicate in such a block nearly always shares a date, phone or email too, and
# is found through that key).
# Backup keys for badly typed records: their oversized blocks are left out, not windowed.
BACKUP_ONLY = (
    frozenset({"surname sound + postcode", "first name sound + postcode"}) | ONE_DATED_ONLY
)
BACKUP_CAP = 6
NAME_ONLY = (
    frozenset(
        {
            "sounds-like name",
            "full name either order",
            "address + postcode",
            "address + suburb",
            "street + given name",
        }
    )
    | BACKUP_ONLY
)
_VOCAB_OF = {
    "first": "names",
    "last": "names",
    "first_canon": "names",
    "last_phon": "codes",
    "first_phon": "codes",
    "first_initial": "codes",
    "last_initial": "codes",
    "initials": "codes",
    "email": "email",
    "medicare": "medicare",
    "postcode": "postcode",
    "address": "address",
    "street": "street",
    "city": "city",
}


def component(f: Features, name: str) -> tuple[np.ndarray, list[str] | None]:
    """A key component: per-record codes (-1 missing) and the vocabulary they index."""
    if name == "dob":
        dob = f.dob.astype(np.int64)
        return np.where(dob > 0, dob - 18_000_000, -1), None
    return getattr(f, name).astype(np.int64), f.vocabs[_VOCAB_OF[name]].values


def block_keys(f: Features) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Each blocking key kind -> (record index, key) arrays; keys are -1 when missing."""
    idx = np.arange(len(f), dtype=np.int64)
    out = {"phone": (f.phone_rec, f.phone_code)}
    for kind, parts in KEY_KINDS.items():
        codes = [component(f, p)[0] for p in parts]
        if len(codes) == 1:
            out[kind] = (idx, codes[0])
        elif kind in UNORDERED:
            out[kind] = (idx, _combine(np.minimum(*codes), np.maximum(*codes)))
        else:
            out[kind] = (idx, _combine(codes[0], codes[1]))
    return out


def name_order(f: Features) -> np.ndarray:
    """Per record, its place in alphabetical order of surname, then first name."""
    values = f.names.values
    rank = np.empty(len(values) + 1, dtype=np.int64)
    rank[np.argsort(np.array(values, dtype=object), kind="stable")] = np.arange(len(values))
    rank[-1] = -1  # a missing name (code -1) sorts first
    order: np.ndarray = rank[f.last] * _SHIFT + rank[f.first]
    return order


def block_limit(kind: str, settings: MatchSettings) -> tuple[int, int]:
    """(cap, window) for a key kind: blocks over the cap pair only ``window`` neighbours in
    name order (none for a backup key)."""
    if kind in BACKUP_ONLY:
        return min(settings.block_cap, settings.name_block_cap, BACKUP_CAP), 0
    if kind in NAME_ONLY:
        return min(settings.block_cap, settings.name_block_cap), settings.name_block_window
    return settings.block_cap, settings.block_window


def candidate_pairs(
    f: Features,
    settings: MatchSettings | None = None,
    only: np.ndarray | None = None,
    left_out: dict[str, np.ndarray] | None = None,
) -> Candidates:
    """Union of the pairs of every blocking key under the settings' block caps and windows
    (optionally only pairs touching ``only``).

    ``left_out``: per backup key kind, the records whose key of that kind is known to make an
    oversized block in the whole clinic (a re-score sees only part of the clinic, so it cannot
    count the block itself): those keys give no pairs, as in a full scan.
    """
    s = settings or MatchSettings()
    n = len(f)
    order_key = name_order(f)
    codes: list[np.ndarray] = []
    phone_codes = np.empty(0, dtype=np.int64)
    skipped: list[tuple[str, int, str]] = []
    for kind, (rec, key) in block_keys(f).items():
        if left_out and kind in left_out:
            key = np.where(left_out[kind][rec], -1, key)
        limit, wide = block_limit(kind, s)
        a, b, big = _pairs_in_blocks(rec, key, order_key, limit, wide)
        if kind in ONE_DATED_ONLY:
            one_dated = (f.dob[a] > 0) != (f.dob[b] > 0)
            a, b = a[one_dated], b[one_dated]
        if big:
            sizes = [size for size, _start in big]
            done = (
                f"compared only {wide} neighbours in name order"
                if wide
                else "left out (a backup key; the other keys cover these records)"
            )
            what = (
                f"{len(sizes)} block(s) over {limit} records (largest {max(sizes)}), "
                f"{sum(sizes)} records in all: {done}"
            )
            skipped.append((kind, max(sizes), what))
        lo, hi = np.minimum(a, b), np.maximum(a, b)
        valid = lo != hi
        if only is not None:
            valid &= only[lo] | only[hi]
        code = lo[valid] * n + hi[valid]
        codes.append(code)
        if kind == "phone":
            phone_codes = sorted_unique(code)
    allc = sorted_unique(np.concatenate(codes)) if codes else np.empty(0, dtype=np.int64)
    shared = np.isin(allc, phone_codes, assume_unique=True)
    return Candidates(a=allc // n, b=allc % n, shared_phone=shared, skipped=skipped)
