"""A Cliniko-shaped clinic built from pseudopeople's simulated US population (offline sample).

pseudopeople (PyPI) ships a small sample population (one town in Washington state) as
several noisy administrative sources with the true person (``simulant_id``) and household
(``household_id``) behind every row. Nobody on this project wrote its people or its noise,
which is what makes it an outside yardstick.

Construction (seeded, so every run builds the same set):

* Every 2020 census row becomes a patient record (the clinic's first registration).
* A share of those people registered again, from what another source says about them in
  2019-2024: a survey (American Community Survey, Current Population Survey, WIC), a tax form
  (W-2 / 1099: no birth date or sex; the mailing address, sometimes a P.O. Box) or their
  social security record (no address). A few registered a third time.
* Phones: pseudopeople has none. A share of records carries the person's own mobile or the
  household's landline, written as US receptionists write them ("(206) 555-0134",
  "+1 206 555 0134", "1-206-555-0134", "206.555.0134"); a few with one wrong digit.
* True pairs: records of one ``simulant_id``. Look-alikes (different people) from the true
  values: ``twins`` (one household, one birth date), ``parent_child_same_name`` (one
  household, same first and last name, 12+ years apart), ``same_name`` (same first and last
  name elsewhere), ``household`` (any other two people of one household).
* Noise: pseudopeople's default configuration, or every cell and row probability doubled.
"""

from __future__ import annotations

import json
import random
from collections import defaultdict
from itertools import combinations
from typing import Any

from tests.benchmarks.datasets import Dataset, Pair, empty_row, pair

# The years a clinic's records span: pseudopeople simulates 2019-2041, and two decades of
# moves would make a second registration a stranger's.
YEARS = range(2019, 2025)
SECOND_RECORD_SHARE = 0.25  # people who registered twice
THIRD_RECORD_SHARE = 0.04  # ... and a third time
PHONE_SHARE = 0.45  # records with a phone number
PHONE_SLIP = 0.03  # phone numbers with one digit typed wrong
AREA_CODES = ("206", "253", "360", "425", "509")
PHONE_FORMS = (
    "({a}) {b}-{c}",
    "+1 {a} {b} {c}",
    "1-{a}-{b}-{c}",
    "{a}.{b}.{c}",
    "{a}{b}{c}",
    "{a}-{b}-{c}",
)


def _scaled(config: Any, factor: float) -> Any:
    """The configuration with every row and cell probability multiplied by ``factor``."""
    if isinstance(config, dict):
        out = {}
        for key, value in config.items():
            if key in ("cell_probability", "row_probability") or key.startswith(
                "row_probability_in"
            ):
                out[key] = min(float(value) * factor, 0.95)
            elif key == "possible_age_differences":
                out[key] = value
            else:
                out[key] = _scaled(value, factor)
        return out
    return config


def _frames(noise: float, seed: int) -> dict[str, Any]:
    """Each source's rows at this noise level (pseudopeople's sample population)."""
    import pseudopeople as psp

    config = _scaled(psp.get_config(), noise) if noise != 1.0 else None
    kw: dict[str, Any] = {"seed": seed, "config": config}
    acs = psp.generate_american_community_survey(year=None, **kw)
    cps = psp.generate_current_population_survey(year=None, **kw)
    wic = psp.generate_women_infants_and_children(year=None, **kw)
    tax = psp.generate_taxes_w2_and_1099(year=None, **kw)
    return {
        "census": psp.generate_decennial_census(**kw),
        "acs": acs[acs["survey_date"].dt.year.isin(YEARS)],
        "cps": cps[cps["survey_date"].dt.year.isin(YEARS)],
        "wic": wic[wic["year"].isin(YEARS)],
        "ssa": psp.generate_social_security(**kw),
        "tax": tax[tax["tax_year"].isin(YEARS)],
    }


def _text(value: Any) -> str | None:
    if value is None or isinstance(value, float):  # NaN
        return None
    text = str(value).strip()
    return text or None


def _dob(value: Any, source: str) -> str | None:
    """pseudopeople's dates to ISO text: MM/DD/YYYY (census, surveys), MMDDYYYY (WIC),
    YYYYMMDD (social security). Dates noise made impossible are kept as typed."""
    text = _text(value)
    if text is None:
        return None
    digits = text.replace("/", "")
    if len(digits) != 8 or not digits.isdigit():
        return text
    if source == "ssa":
        return f"{digits[:4]}-{digits[4:6]}-{digits[6:]}"
    return f"{digits[4:]}-{digits[:2]}-{digits[2:4]}"


def _street(number: Any, name: Any, unit: Any, po_box: Any = None) -> str | None:
    box = _text(po_box)
    if box:
        return f"PO Box {box}"
    parts = [p for p in (_text(number), _text(name)) if p]
    line = " ".join(parts)
    unit_text = _text(unit)
    if line and unit_text:
        line = f"{line} {unit_text}"
    return line or None


def _record(source: str, row: dict[str, Any]) -> dict[str, Any]:
    """The Cliniko fields one source row gives (phones and ids added later)."""
    out: dict[str, Any] = {
        "first_name": _text(row.get("first_name")),
        "last_name": _text(row.get("last_name")),
        "sex": _text(row.get("sex")),
        "date_of_birth": _dob(row.get("date_of_birth"), source),
        "state": _text(row.get("state")) or "WA",
        "country_code": "US",
    }
    if source == "tax":
        out["address_1"] = _street(
            row.get("mailing_address_street_number"),
            row.get("mailing_address_street_name"),
            row.get("mailing_address_unit_number"),
            row.get("mailing_address_po_box"),
        )
        out["city"] = _text(row.get("mailing_address_city"))
        out["post_code"] = _text(row.get("mailing_address_zipcode"))
    elif source != "ssa":
        out["address_1"] = _street(
            row.get("street_number"), row.get("street_name"), row.get("unit_number")
        )
        out["city"] = _text(row.get("city"))
        out["post_code"] = _text(row.get("zipcode"))
    return out


def _phone(rng: random.Random, digits: str) -> str:
    if rng.random() < PHONE_SLIP:
        k = rng.randrange(3, 10)
        digits = digits[:k] + str((int(digits[k]) + rng.randrange(1, 10)) % 10) + digits[k + 1 :]
    form = rng.choice(PHONE_FORMS)
    return form.format(a=digits[:3], b=digits[3:6], c=digits[6:])


# The seed of the sets the rules were developed on; other seeds draw other noise and other
# second registrations from the same population, as held-out sets ("pp-default-s7").
DEVELOPMENT_SEED = 3


def set_name(noise: float, seed: int = DEVELOPMENT_SEED) -> str:
    """The set's name: "pp-default" or "pp-noise2x", with "-s<seed>" for a held-out seed."""
    base = "pp-default" if noise == 1.0 else f"pp-noise{noise:g}x"
    return base if seed == DEVELOPMENT_SEED else f"{base}-s{seed}"


def build(noise: float = 1.0, seed: int = DEVELOPMENT_SEED) -> Dataset:
    """The pseudopeople clinic at ``noise`` times pseudopeople's default noise."""
    frames = _frames(noise, seed)
    rng = random.Random(seed)
    census = frames["census"].to_dict("records")
    people = {str(r["simulant_id"]) for r in census}
    others: dict[str, list[tuple[str, dict]]] = defaultdict(list)
    for source in ("acs", "cps", "wic", "ssa", "tax"):
        for row in frames[source].to_dict("records"):
            sid = str(row["simulant_id"])
            if sid in people:
                others[sid].append((source, row))
    household: dict[str, str] = {}
    truth_of: dict[str, dict[str, Any]] = {}
    records: list[tuple[str, dict[str, Any]]] = []
    for row in census:
        sid = str(row["simulant_id"])
        household.setdefault(sid, str(row["household_id"]))
        truth_of.setdefault(sid, row)
        records.append((sid, _record("census", row)))
    for sid in sorted(others):
        extra = 1 if rng.random() < SECOND_RECORD_SHARE else 0
        extra += 1 if extra and rng.random() < THIRD_RECORD_SHARE / SECOND_RECORD_SHARE else 0
        choices = others[sid][:]
        rng.shuffle(choices)
        for source, row in choices[:extra]:
            records.append((sid, _record(source, row)))
    rows, by_person = _rows(records, household, rng)
    truth = {pair(a, b) for ids in by_person.values() for a, b in combinations(ids, 2)}
    lookalikes = _lookalikes(census, by_person)
    label = set_name(noise, seed)
    return Dataset(
        name=label,
        rows=rows,
        true_pairs=truth,
        lookalikes=lookalikes,
        note=(
            f"{label}: pseudopeople {_version()} sample population at {noise:g}x its default "
            f"noise (seed {seed}); {len(rows)} records of {len(by_person)} people, "
            f"{len(truth)} true pairs, {len(lookalikes)} look-alike pairs "
            f"({_kinds(lookalikes)}); see tests/benchmarks/pseudopeople_set.py"
        ),
        labels={pid: sid for sid, ids in by_person.items() for pid in ids},
    )


def _rows(
    records: list[tuple[str, dict[str, Any]]], household: dict[str, str], rng: random.Random
) -> tuple[list[dict[str, Any]], dict[str, list[str]]]:
    """Patient rows with ids, phones and creation dates; ids per person."""
    mobile: dict[str, str] = {}
    landline: dict[str, str] = {}
    rows: list[dict[str, Any]] = []
    by_person: dict[str, list[str]] = defaultdict(list)
    order = list(range(len(records)))
    rng.shuffle(order)  # registrations in no particular order
    for n, k in enumerate(order):
        sid, fields = records[k]
        pid = str(5_000_001 + n)
        row = empty_row(pid)
        row.update(fields)
        if rng.random() < PHONE_SHARE:
            hh = household.get(sid, sid)
            if rng.random() < 0.7:
                number = mobile.setdefault(sid, _number(rng))
            else:
                number = landline.setdefault(hh, _number(rng))
            row["phones"] = json.dumps([{"number": _phone(rng, number), "phone_type": "Mobile"}])
        day = 16_436 + rng.randrange(0, 3_650)  # 2015-2024
        stamp = f"{_iso_day(day)}T09:00:00Z"
        row["created_at"] = row["updated_at"] = stamp
        rows.append(row)
        by_person[sid].append(pid)
    return rows, by_person


def _number(rng: random.Random) -> str:
    return rng.choice(AREA_CODES) + f"{rng.randrange(200, 999)}{rng.randrange(0, 10_000):04d}"


def _iso_day(day: int) -> str:
    import datetime as dt

    return (dt.date(1970, 1, 1) + dt.timedelta(days=day)).isoformat()


def _lookalikes(census: list[dict], by_person: dict[str, list[str]]) -> dict[Pair, str]:
    """Labelled pairs of records of different people who resemble each other."""
    kinds: dict[tuple[str, str], str] = {}
    truth = {str(r["simulant_id"]): r for r in census}
    homes: dict[str, list[str]] = defaultdict(list)
    names: dict[tuple[str, str], list[str]] = defaultdict(list)
    for sid, r in truth.items():
        if r.get("housing_type") == "Household":
            homes[str(r["household_id"])].append(sid)
        first, last = _text(r.get("first_name")), _text(r.get("last_name"))
        if first and last:
            names[(first.lower(), last.lower())].append(sid)
    for members in names.values():
        for a, b in combinations(sorted(members), 2):
            kinds[(a, b)] = "same_name"
    for members in homes.values():
        for a, b in combinations(sorted(members), 2):
            ra, rb = truth[a], truth[b]
            same_name = kinds.get((a, b)) == "same_name"
            dob_a, dob_b = _text(ra.get("date_of_birth")), _text(rb.get("date_of_birth"))
            if dob_a and dob_a == dob_b:
                kinds[(a, b)] = "twins"
            elif same_name and _years_apart(dob_a, dob_b) >= 12:
                kinds[(a, b)] = "parent_child_same_name"
            elif not same_name:
                kinds[(a, b)] = "household"
    out: dict[Pair, str] = {}
    for (a, b), kind in kinds.items():
        for x in by_person.get(a, ()):
            for y in by_person.get(b, ()):
                out[pair(x, y)] = kind
    return out


def _years_apart(a: str | None, b: str | None) -> int:
    if not a or not b or len(a) < 4 or len(b) < 4:
        return 0
    try:
        return abs(int(a[-4:]) - int(b[-4:]))
    except ValueError:
        return 0


def _kinds(lookalikes: dict[Pair, str]) -> str:
    counts: dict[str, int] = defaultdict(int)
    for kind in lookalikes.values():
        counts[kind] += 1
    return ", ".join(f"{k} {n}" for k, n in sorted(counts.items()))


def _version() -> str:
    import pseudopeople

    return str(getattr(pseudopeople, "__version__", "?"))
