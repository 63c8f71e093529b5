"""Splink 5 on DuckDB, set up the way a competent user would for patient records.

Preparation (what a careful user does in pandas before Splink sees the data): names
lower-cased, accents folded, punctuation dropped; emails lower-cased; phones reduced to an
Australian national number ("+61 412..." and "0412..." both become "0412..."); Medicare split
into the 10-digit card number and card + individual reference number; dates of birth kept
as ISO text (impossible dates become null inside the DOB comparison, Splink's default).

Model:

* Blocking rules for prediction (any one suffices): shared phone (array exploded), email,
  Medicare card number, date of birth, surname + first initial, first name + date of birth
  (Splink removes the pairs an earlier rule already produced, so this rule costs little
  but also adds little after "date of birth"), first name + postcode.
* Comparisons: NameComparison on first name and surname (exact level term-frequency
  adjusted, Jaro-Winkler 0.92/0.88/0.70), DateOfBirthComparison (exact, one edit, within
  a month/year/10 years), EmailComparison, phone array intersection, Medicare (card and
  individual reference number, same card only: a family shares one card),
  postcode (exact, first three digits), first address line (Jaro-Winkler 0.95/0.80) and
  sex. A comparison is left out when fewer than 1% of records have the field (Febrl has
  no phones, emails or sex).
* Training: probability two random records match from the deterministic rule
  first name + surname + date of birth at an assumed recall of 0.6; u by random sampling
  (1e7 pairs, seed 1); m by expectation maximisation blocked on (first name, surname) and
  then on date of birth.
* Bands: match probability >= 0.95 is "likely", >= 0.50 "possible" (more likely a match
  than not). Pairs down to probability 0.001 are kept so the harness can also report Splink
  at the threshold that reaches MergeDesk's likely+possible recall.
"""

from __future__ import annotations

import json
import logging
import re
import unicodedata
from typing import Any

from tests.benchmarks.metrics import LIKELY, POSSIBLE, Scored

LIKELY_THRESHOLD = 0.95
POSSIBLE_THRESHOLD = 0.50
KEEP_THRESHOLD = 0.001
U_MAX_PAIRS = 1e7
PRIOR_RECALL = 0.6

_NON_LETTERS = re.compile(r"[^a-z\s-]")
_SPACES = re.compile(r"\s+")


def clean_name(value: Any) -> str | None:
    """Fold accents, lower-case, drop punctuation, collapse spaces."""
    if not value:
        return None
    text = unicodedata.normalize("NFKD", str(value))
    text = "".join(ch for ch in text if not unicodedata.combining(ch)).lower()
    text = _SPACES.sub(" ", _NON_LETTERS.sub("", text)).strip()
    return text or None


def clean_phones(phones_json: Any) -> list[str] | None:
    """Phones as Australian national numbers ("0412345678"); None when there are none."""
    if not phones_json:
        return None
    try:
        phones = json.loads(phones_json) if isinstance(phones_json, str) else phones_json
    except json.JSONDecodeError:
        return None
    out: list[str] = []
    for phone in phones or []:
        number = phone.get("number") if isinstance(phone, dict) else phone
        digits = "".join(ch for ch in str(number or "") if ch.isdigit())
        if digits.startswith("61") and len(digits) == 11:
            digits = "0" + digits[2:]
        if len(digits) >= 6 and digits not in out:
            out.append(digits)
    return out or None


def _clean_text(value: Any) -> str | None:
    """Stripped, lower-cased text or None."""
    text = str(value).strip().lower() if value else ""
    return text or None


def _digits(value: Any) -> str | None:
    """Only the digits, or None."""
    digits = "".join(ch for ch in str(value or "") if ch.isdigit())
    return digits or None


def _medicare(number: Any, irn: Any) -> dict[str, str | None]:
    """Medicare card number (10 digits, shared by a family) and card + individual ref."""
    digits = _digits(number)
    if digits is None:
        return {"medicare": None, "medicare_irn": None}
    ref = _digits(irn) or (digits[10] if len(digits) == 11 else None)
    card = digits[:10] if len(digits) in (10, 11) else digits
    return {"medicare": card, "medicare_irn": f"{card}/{ref}" if ref else None}


def prepare(rows: list[dict[str, Any]]) -> Any:
    """The pandas DataFrame Splink links: one cleaned row per patient."""
    import pandas as pd

    records = [
        {
            "unique_id": str(row["id"]),
            "first_name": clean_name(row.get("first_name")),
            "surname": clean_name(row.get("last_name")),
            "dob": (str(row["date_of_birth"])[:10] if row.get("date_of_birth") else None),
            "email": _clean_text(row.get("email")),
            "phones": clean_phones(row.get("phones")),
            **_medicare(row.get("medicare"), row.get("medicare_reference_number")),
            "post_code": _digits(row.get("post_code")),
            "address_1": _clean_text(row.get("address_1")),
            "sex": _clean_text(row.get("sex")),
        }
        for row in rows
    ]
    frame = pd.DataFrame.from_records(records)
    frame["phones"] = frame["phones"].astype(object)
    return frame


def _present(frame: Any, column: str) -> bool:
    """True when at least 1% of rows have a value in ``column``."""
    return bool(frame[column].notna().mean() >= 0.01)


def settings_for(frame: Any) -> Any:
    """The SettingsCreator: blocking rules and comparisons for the columns present."""
    import splink.comparison_level_library as cll
    import splink.comparison_library as cl
    from splink import ColumnExpression, SettingsCreator, block_on

    rules = []
    if _present(frame, "phones"):
        rules.append(block_on("phones", arrays_to_explode=["phones"]))
    if _present(frame, "email"):
        rules.append(block_on("email"))
    if _present(frame, "medicare"):
        rules.append(block_on("medicare"))
    rules += [
        block_on("dob"),
        block_on("surname", "substr(first_name, 1, 1)"),
        block_on("first_name", "dob"),
        block_on("first_name", "post_code"),
    ]

    postcode = ColumnExpression("post_code")
    comparisons: list[Any] = [
        cl.NameComparison("first_name"),
        cl.NameComparison("surname"),
        cl.DateOfBirthComparison("dob", input_is_string=True, datetime_format="%Y-%m-%d"),
        cl.CustomComparison(
            [
                cll.NullLevel("post_code"),
                cll.ExactMatchLevel("post_code"),
                cll.ExactMatchLevel(postcode.substr(1, 3)).configure(
                    label_for_charts="Same first three postcode digits"
                ),
                cll.ElseLevel(),
            ],
            output_column_name="post_code",
        ),
        cl.JaroWinklerAtThresholds("address_1", [0.95, 0.80]),
    ]
    if _present(frame, "email"):
        comparisons.append(cl.EmailComparison("email"))
    if _present(frame, "phones"):
        comparisons.append(cl.ArrayIntersectAtSizes("phones", [1]))
    if _present(frame, "medicare_irn"):  # a family shares a card; the IRN tells them apart
        comparisons.append(
            cl.CustomComparison(
                [
                    cll.NullLevel("medicare"),
                    cll.ExactMatchLevel("medicare_irn"),
                    cll.ExactMatchLevel("medicare").configure(
                        label_for_charts="Same card, different or missing IRN"
                    ),
                    cll.ElseLevel(),
                ],
                output_column_name="medicare",
            )
        )
    elif _present(frame, "medicare"):
        comparisons.append(cl.ExactMatch("medicare"))
    if _present(frame, "sex"):
        comparisons.append(cl.ExactMatch("sex"))

    return SettingsCreator(
        link_type="dedupe_only",
        unique_id_column_name="unique_id",
        blocking_rules_to_generate_predictions=rules,
        comparisons=comparisons,
        retain_intermediate_calculation_columns=False,
        retain_matching_columns=False,
    )


def band_for(probability: float) -> str:
    """Map Splink's match probability to MergeDesk's bands."""
    if probability >= LIKELY_THRESHOLD:
        return LIKELY
    if probability >= POSSIBLE_THRESHOLD:
        return POSSIBLE
    return "unlikely"


def run(
    rows: list[dict[str, Any]], memory_limit: str | None = None
) -> tuple[list[Scored], dict[str, Any]]:
    """Train Splink on ``rows`` without labels, predict, and return the banded pairs."""
    import duckdb
    from splink import DuckDBAPI, Linker, block_on

    logging.getLogger("splink").setLevel(logging.WARNING)
    frame = prepare(rows)
    con = duckdb.connect()
    if memory_limit:
        con.execute(f"SET memory_limit = '{memory_limit}'")
    db_api = DuckDBAPI(connection=con)
    table = db_api.register(frame, dataset_display_name="patients")
    linker = Linker(table, settings_for(frame), log_level=logging.WARNING)

    training = linker.training
    training.estimate_probability_two_random_records_match(
        [block_on("first_name", "surname", "dob")], recall=PRIOR_RECALL
    )
    training.estimate_u_using_random_sampling(max_pairs=U_MAX_PAIRS, seed=1)
    training.estimate_parameters_using_expectation_maximisation(block_on("first_name", "surname"))
    training.estimate_parameters_using_expectation_maximisation(block_on("dob"))

    predictions = linker.inference.predict(threshold_match_probability=KEEP_THRESHOLD)
    result = db_api.duckdb_con.execute(
        f"SELECT unique_id_l, unique_id_r, match_probability FROM {predictions.physical_name}"
    ).fetchall()
    scored = [Scored(str(a), str(b), band_for(float(p)), float(p)) for a, b, p in result]
    return scored, {"predictions": len(scored)}
