"""Contacts many patients share: a care home's address, a boarding house's phone.

Two records that share a phone or an address usually share a person or a household. At an
address or a phone that ten or more patients of the clinic hold, they share a building: two
residents of a care home named Margaret are two people as often as one.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from desktop.matching.features import Features

# Patients holding one address or phone from which on it is a place's, not a household's.
CROWD_PATIENTS = 10


def _crowded_codes(codes: np.ndarray, values: list[str], saved: Sequence[str] | None) -> np.ndarray:
    """Per vocabulary code: held by ``CROWD_PATIENTS`` or more of these records, or among
    the ``saved`` values (a re-score sees a few records, the model saw the whole clinic)."""
    counts = np.bincount(codes[codes >= 0], minlength=len(values))
    out: np.ndarray = counts >= CROWD_PATIENTS
    if saved:
        known = set(saved)
        out |= np.fromiter((v in known for v in values), dtype=bool, count=len(values))
    return out


def crowded_values(f: Features) -> dict[str, list[str]]:
    """The addresses and phones this batch's records hold ``CROWD_PATIENTS`` times or more,
    to save with the model."""
    address = _crowded_codes(f.address, f.vocabs["address"].values, None)
    phone = _crowded_codes(f.phone_code, f.vocabs["phones"].values, None)
    return {
        "address": [f.vocabs["address"].values[c] for c in np.flatnonzero(address).tolist()],
        "phones": [f.vocabs["phones"].values[c] for c in np.flatnonzero(phone).tolist()],
    }


def crowd_contact(
    f: Features,
    a: np.ndarray,
    b: np.ndarray,
    shared_phone: np.ndarray,
    address_agrees: np.ndarray,
    saved: Mapping[str, Sequence[str]] | None = None,
) -> np.ndarray:
    """Per pair ``(a[i], b[i])``: the records share a phone or an address, and every phone
    they share and the address (where it agrees, ``address_agrees``) is one many patients
    hold. ``saved``: crowded values from the model (see :func:`crowded_values`)."""
    saved = saved or {}
    address = _crowded_codes(f.address, f.vocabs["address"].values, saved.get("address"))
    phone = _crowded_codes(f.phone_code, f.vocabs["phones"].values, saved.get("phones"))
    at_crowd = np.append(address, False)  # code -1 (no address): no crowd
    crowd_address = address_agrees & (at_crowd[f.address[a]] | at_crowd[f.address[b]])
    personal = address_agrees & ~crowd_address
    # A phone both records hold is a crowded one only if each record holds a crowded phone:
    # pairs sharing a phone without that share a personal one (no per-pair look needed).
    holds = np.zeros(len(f), dtype=bool)
    holds[f.phone_rec[phone[f.phone_code]]] = True
    look = shared_phone & holds[a] & holds[b]
    crowd_phone = np.zeros(a.size, dtype=bool)
    personal |= shared_phone & ~look
    if look.any():
        starts, codes = f.phone_starts(), f.phone_code
        for i in np.flatnonzero(look).tolist():
            x, y = int(a[i]), int(b[i])
            common = np.intersect1d(
                codes[starts[x] : starts[x + 1]], codes[starts[y] : starts[y + 1]]
            )
            if phone[common].all():
                crowd_phone[i] = True
            else:
                personal[i] = True
    out: np.ndarray = (crowd_address | crowd_phone) & ~personal
    return out
