"""The field registry: every patient field MergeDesk compares, explains, shows or writes.

Each field is declared once, here. Two kinds of entry:

* :class:`PatientField`, one per Cliniko patient field (its API name): the label a person
  reads, whether a merge may write it, whether the compare view shows it, whether the cache
  keeps it as a text column and the matcher reads it, and how two values are judged alike.
* :class:`ComparedField`, one per comparison the matcher scores (``first_name``, ``phone``,
  ``address``...): the Cliniko fields it reads, its levels of agreement from least to most,
  each level with its prior m, its default u and its explanation text, all named by level.

Matching, the explanations, ``display``, the compare view, the merge plan and the store read
these tables; none of them keeps a list of fields of its own. This module imports nothing
from ``desktop`` (any package may import it without an import loop) and nothing from Qt.

Adding a field: one :class:`PatientField` entry (and, when the matcher should score it, one
:class:`ComparedField` entry plus its comparison function in ``matching/compare.py``); see
``docs/architecture.md``. ``tests/unit/test_field_registry.py`` checks the tables agree.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Literal

# How two values of a field are judged the same (``display.comparable``) and shown.
Normaliser = Literal[
    "words", "date", "timestamp", "phones", "email", "post_code", "address", "medicare"
]
MISSING = "missing"  # level 0 of every comparison: one record has no value (weight 0)


@dataclass(frozen=True)
class PatientField:
    """One Cliniko patient field, by its API name."""

    api_name: str
    label: str  # Cliniko's label on the patient form (its column name where it has none)
    writable: bool = False  # a PATCH /patients/{id} may set it (API reference §5)
    shown: bool = False  # a row of the compare view
    always_shown: bool = False  # ... even when no record has a value
    highlighted: bool = True  # the compare view marks differing values (not ids, stamps)
    cached: bool = False  # a plain-text column of the cache's ``patients`` table
    matched: bool = False  # the matcher reads its cache column (it always reads the id)
    column: str = ""  # its cache column when not named like the field ("" = the API name)
    normaliser: Normaliser = "words"
    link_of: str = ""  # written as this id; read from the link field named here
    consent: bool = False  # a marketing consent: where records disagree, a merge keeps "No"

    @property
    def cache_column(self) -> str:
        """The ``patients`` column holding the field."""
        return self.column or self.api_name


@dataclass(frozen=True)
class Level:
    """One level of agreement of a comparison, with its model numbers and its words."""

    name: str
    m_prior: float = 0.0  # share of true duplicate pairs at this level (before EM)
    u_default: float = 0.0  # share of different people at this level (before any data)
    text: str = ""  # evidence text; "" where the explanation words it from the values
    max_weight: float | None = None  # the most this level may count, in bits


@dataclass(frozen=True)
class ComparedField:
    """One comparison the matcher scores, with its levels from least to most agreement."""

    name: str
    label: str  # the evidence label in the compare view ("Surname")
    sources: tuple[str, ...]  # the Cliniko fields it reads
    levels: tuple[Level, ...]
    frequency_key: str = ""  # Features attribute whose value frequency adjusts "exact"

    @cached_property
    def level_names(self) -> tuple[str, ...]:
        """Level names, least agreement first (``"missing"`` is level 0)."""
        return tuple(lv.name for lv in self.levels)

    def level(self, name: str) -> int:
        """The integer of a named level."""
        return self.level_names.index(name)

    def text(self, level: str) -> str:
        """The evidence text of a level."""
        return self.levels[self.level(level)].text


_PATIENT_FIELDS: tuple[PatientField, ...] = (
    # In the order of Cliniko's patient form: the compare view and the merge wizard show them so.
    PatientField("title", "Title", writable=True, shown=True, cached=True),
    PatientField(
        "first_name", "First name", writable=True, shown=True, always_shown=True,
        cached=True, matched=True,
    ),
    PatientField(
        "preferred_first_name", "Preferred first name", writable=True, shown=True,
        cached=True, matched=True,
    ),
    PatientField(
        "last_name", "Last name", writable=True, shown=True, always_shown=True, cached=True,
        matched=True,
    ),
    PatientField(
        "date_of_birth", "Date of birth", writable=True, shown=True, always_shown=True,
        cached=True, matched=True, normaliser="date",
    ),
    PatientField("sex", "Sex", writable=True, shown=True, cached=True, matched=True),
    PatientField("gender_identity", "Gender identity", writable=True, shown=True),
    PatientField("gender", "Gender"),
    PatientField("pronouns", "Pronouns", writable=True, shown=True),
    PatientField(
        "email", "Email", writable=True, shown=True, always_shown=True, cached=True,
        matched=True, normaliser="email",
    ),
    PatientField(
        "patient_phone_numbers", "Phone numbers", writable=True, shown=True,
        always_shown=True, matched=True, column="phones", normaliser="phones",
    ),
    PatientField(
        "address_1", "Address line 1", writable=True, shown=True, always_shown=True,
        cached=True, matched=True, normaliser="address",
    ),
    PatientField(
        "address_2", "Address line 2", writable=True, shown=True, cached=True, matched=True,
        normaliser="address",
    ),
    PatientField(
        "address_3", "Address line 3", writable=True, shown=True, cached=True,
        normaliser="address",
    ),
    PatientField(
        "city", "City", writable=True, shown=True, always_shown=True, cached=True,
        matched=True,
    ),
    PatientField("state", "State", writable=True, shown=True, cached=True, matched=True),
    PatientField(
        "post_code", "Post code", writable=True, shown=True, always_shown=True, cached=True,
        matched=True, normaliser="post_code",
    ),
    PatientField("country_code", "Country", writable=True, cached=True, matched=True),
    PatientField("country", "Country name (old field)", writable=True),
    PatientField(
        "medicare", "Medicare number", writable=True, shown=True, cached=True, matched=True,
        normaliser="medicare",
    ),
    PatientField(
        "medicare_reference_number", "Medicare reference number", writable=True, shown=True,
        cached=True, matched=True,
    ),
    PatientField("dva_card_number", "DVA card number", writable=True, shown=True),
    PatientField("emergency_contact", "Emergency contact", writable=True, shown=True),
    PatientField("occupation", "Occupation", writable=True, shown=True),
    # Shown when a record has one: often how the record was made ("Created by the phone
    # assistant", a referral), which says whether a new record is a duplicate.
    PatientField("notes", "Notes", writable=True, shown=True),
    PatientField("appointment_notes", "Appointment notes", writable=True),
    PatientField("old_reference_id", "Old reference ID", writable=True),
    PatientField("referral_source", "Referral source", writable=True, shown=True),
    PatientField("invoice_default_to", "Invoice to", writable=True),
    PatientField("invoice_email", "Invoice email", writable=True, normaliser="email"),
    PatientField("invoice_extra_information", "Extra invoice information", writable=True),
    PatientField("reminder_type", "Reminder type", writable=True),
    PatientField("receives_confirmation_emails", "Receives confirmation emails", writable=True),
    PatientField("receives_cancellation_emails", "Receives cancellation emails", writable=True),
    PatientField("accepted_privacy_policy", "Accepted privacy policy", writable=True),
    PatientField(
        "accepted_email_marketing", "Accepted email marketing", writable=True, consent=True
    ),
    PatientField("accepted_sms_marketing", "Accepted SMS marketing", consent=True),
    PatientField("time_zone", "Time zone", writable=True),
    PatientField("custom_fields", "Custom fields", writable=True),
    PatientField("concession_type", "Concession type"),
    PatientField("referring_doctor", "Referring doctor"),
    PatientField(
        "concession_type_id", "Concession type", writable=True, link_of="concession_type"
    ),
    PatientField(
        "referring_doctor_id", "Referring doctor", writable=True, link_of="referring_doctor"
    ),
    PatientField(
        "created_at", "Created", shown=True, highlighted=False, cached=True, matched=True,
        normaliser="timestamp",
    ),
    PatientField(
        "updated_at", "Last changed", shown=True, highlighted=False, cached=True,
        matched=True, normaliser="timestamp",
    ),
    PatientField(
        "archived_at", "Archived", shown=True, cached=True, matched=True,
        normaliser="timestamp",
    ),
    PatientField("merged_at", "Merged", cached=True, matched=True, normaliser="timestamp"),
    PatientField("deleted_at", "Deleted at", normaliser="timestamp"),
    PatientField("id", "Cliniko id", shown=True, highlighted=False),
)  # fmt: skip

_COMPARED_FIELDS: tuple[ComparedField, ...] = (
    # In the order of the matcher's level columns (which the stored models index by).
    ComparedField(
        "first_name",
        "First name",
        sources=("first_name", "preferred_first_name"),
        frequency_key="first",
        levels=(
            Level(MISSING),
            Level("different", 0.02, 0.96, "different first names"),
            Level("initial", 0.01, 0.002, "an initial that fits the first name"),
            Level("similar", 0.03, 0.02, "first names alike"),
            Level("close", 0.06, 0.005, "first names nearly the same (a typing slip?)"),
            Level("alias", 0.06, 0.003),  # worded from the names: a nickname or middle name
            Level("exact", 0.82, 0.01, "same first name"),
        ),
    ),
    ComparedField(
        "last_name",
        "Surname",
        sources=("last_name",),
        frequency_key="last",
        levels=(
            Level(MISSING),
            Level("different", 0.04, 0.97, "different surnames"),
            Level("similar", 0.03, 0.02, "surnames alike"),
            Level("close", 0.06, 0.003, "surnames nearly the same (a typing slip?)"),
            Level("part", 0.02, 0.001, "one surname is part of the other (double-barrelled?)"),
            Level("exact", 0.85, 0.006, "same surname"),
        ),
    ),
    ComparedField(
        "date_of_birth",
        "Birth date",
        sources=("date_of_birth",),
        levels=(
            Level(MISSING),
            Level("different", 0.02, 0.9996),  # worded from the dates: years apart
            Level("near", 0.06, 0.0003),  # worded from the dates: a slip or day/month swapped
            Level("exact", 0.92, 0.0001, "same birth date"),
        ),
    ),
    ComparedField(
        "sex",
        "Sex",
        sources=("sex",),
        levels=(
            Level(MISSING),
            Level("different", 0.02, 0.5, "different sex"),
            Level("same", 0.98, 0.5, "same sex"),
        ),
    ),
    ComparedField(
        "phone",
        "Phone",
        sources=("patient_phone_numbers",),
        levels=(
            Level(MISSING),
            Level("different", 0.25, 0.99999, "no phone number in common"),
            Level("same", 0.75, 1e-5, "same phone number"),  # or "same mobile number"
        ),
    ),
    ComparedField(
        "email",
        "Email",
        sources=("email",),
        frequency_key="email",
        levels=(
            Level(MISSING),
            Level("different", 0.2, 0.99999, "different email addresses"),
            Level("similar", 0.05, 1e-6, "email addresses nearly the same"),
            # "jo.lee@gmail.com" / "jolee@gmail.com": one mailbox, but people with one name
            # pick such addresses alike; it says less than an identical address.
            Level(
                "dots", 0.03, 1e-6, "the same mailbox, written with different dots",
                max_weight=4.0,
            ),
            Level("exact", 0.72, 1e-5, "same email address"),
        ),
    ),
    ComparedField(
        "medicare",
        "Medicare",
        sources=("medicare", "medicare_reference_number"),
        levels=(
            Level(MISSING),
            Level("different", 0.05, 0.99998, "different Medicare numbers"),
            # One card, two individual reference numbers: the card says "one family", the
            # IRNs say "two people". That is never evidence for a duplicate.
            Level(
                "family", 0.01, 1e-6,
                "same Medicare card, different individual number (usually family members)",
                max_weight=-1.0,
            ),
            Level("near", 0.04, 1e-5, "Medicare numbers one digit apart"),
            Level("card", 0.30, 1e-6, "same Medicare card number"),
            Level("exact", 0.60, 1e-6, "same Medicare number and individual reference number"),
        ),
    ),
    ComparedField(
        "address",
        "Address",
        sources=("address_1", "address_2", "city", "post_code"),
        frequency_key="address",
        levels=(
            Level(MISSING),
            Level("different", 0.10, 0.97, "different addresses"),
            Level("city", 0.04, 0.02, "same suburb, different street"),
            Level("post_code", 0.08, 0.008, "same postcode, different street"),
            Level("similar", 0.10, 1e-4, "addresses nearly the same"),
            Level("same", 0.68, 1e-4, "same address"),
        ),
    ),
    # Whether the records have a birth date at all. A quick second registration (a phone
    # call, a tax or insurance form, an online booking) often leaves it out, so a record
    # without one beside a dated record is a little evidence of a duplicate: as much as this
    # clinic's own pairs show (EM), and never more than 3 bits.
    ComparedField(
        "birth_date_recorded",
        "Birth date recorded",
        sources=("date_of_birth",),
        levels=(
            Level(MISSING),  # neither record has one: nothing to tell
            Level(
                "both", 0.45, 0.75,
                "both records have a birth date (quick registrations often lack one)",
            ),
            Level(
                "one", 0.55, 0.25,
                "only one record has a birth date (quick registrations often lack one)",
                max_weight=3.0,
            ),
        ),
    ),
)  # fmt: skip

PATIENT_FIELDS: dict[str, PatientField] = {f.api_name: f for f in _PATIENT_FIELDS}
COMPARED_FIELDS: dict[str, ComparedField] = {f.name: f for f in _COMPARED_FIELDS}


def patient_field(api_name: str) -> PatientField | None:
    """The registry entry of a Cliniko patient field, or None for a field it does not know."""
    return PATIENT_FIELDS.get(api_name)


def patient_field_names(**wanted: bool) -> tuple[str, ...]:
    """API names of the fields whose flags have the values given, in the registry's order.

    ``patient_field_names(writable=True)``: every field a merge may write.
    """
    return tuple(
        f.api_name
        for f in _PATIENT_FIELDS
        if all(getattr(f, flag) == value for flag, value in wanted.items())
    )


def fields_normalised_as(normaliser: Normaliser) -> frozenset[str]:
    """API names of the fields whose values are judged alike by ``normaliser``."""
    return frozenset(f.api_name for f in _PATIENT_FIELDS if f.normaliser == normaliser)
