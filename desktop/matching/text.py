"""Name folding, tokenising and phonetic codes.

All functions are pure and cached per distinct value, so normalising a large clinic costs one
call per distinct spelling rather than one per record.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

import jellyfish

_SPECIAL = str.maketrans(
    {
        "ß": "ss",
        "æ": "ae",
        "œ": "oe",
        "ø": "o",
        "ł": "l",
        "đ": "d",
        "ð": "d",
        "þ": "th",
        "ı": "i",
    }
)
_APOSTROPHES = re.compile(r"['’‘`´ʼ]")
_NON_WORD = re.compile(r"[^\w]+|_")
# The same two rules for ASCII text, as a bytes table (bytes.translate is several times
# faster than str.translate): apostrophes go, every other character that is not a letter or
# a digit becomes a space.
_ASCII_APOSTROPHES = b"'`"
_ASCII_SPACES = bytes(32 if c < 128 and not chr(c).isalnum() else c for c in range(256))


def _ascii_spaced(text: str) -> str:
    """An ASCII text in lower case, apostrophes dropped and other punctuation made spaces."""
    return text.lower().encode().translate(_ASCII_SPACES, _ASCII_APOSTROPHES).decode()


_TITLES = frozenset(
    [
        "mr",
        "mrs",
        "ms",
        "miss",
        "mx",
        "dr",
        "prof",
        "sir",
        "dame",
        "rev",
        "master",
        "mstr",
        "fr",
        "sr",
        "jr",
    ]
)


@lru_cache(maxsize=200_000)
def fold(text: str | None) -> str:
    """Fold a free-text value: Unicode compatibility, accents off, lower case, single spaces.

    Apostrophes disappear (``O'Brien`` -> ``obrien``); any other punctuation, hyphens included,
    becomes a space. Letters of non-Latin scripts are kept as they are (case-folded).
    """
    if not text:
        return ""
    if not isinstance(text, str):
        text = str(text)
    if text.isascii():
        return " ".join(_ascii_spaced(text).split())
    text = unicodedata.normalize("NFKD", text)
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    text = text.casefold().translate(_SPECIAL)
    text = _APOSTROPHES.sub("", text)
    text = _NON_WORD.sub(" ", text)
    return " ".join(text.split())


def search_key(text: str) -> str:
    """``text`` lower case and without accents, punctuation kept: what a name search
    compares ("nunez" finds "Núñez"). Cheap on ASCII, which most names are."""
    if text.isascii():
        return text.lower()
    text = unicodedata.normalize("NFKD", text)
    return (
        "".join(ch for ch in text if not unicodedata.combining(ch)).casefold().translate(_SPECIAL)
    )


def fold_words(text: str) -> list[str]:
    """The words of :func:`fold` (uncached: for values seen once, such as addresses)."""
    if text.isascii():
        return _ascii_spaced(text).split()
    return fold(text).split()


@lru_cache(maxsize=200_000)
def name_tokens(text: str | None) -> tuple[str, ...]:
    """The folded words of a name, without titles such as ``Dr`` or ``Mrs``."""
    words = fold(text).split()
    kept = tuple(w for w in words if w not in _TITLES)
    return kept or tuple(words)


# Words typed into a first-name field when the name was not known: a relation, a role or a
# placeholder ("Baby Smith", "Mrs Dunevant", "Female Child", "Husband"). A field made only of
# them names nobody. Words that are also given names (Son, Nino, Man, Na) are left out.
_PLACEHOLDERS = frozenset(
    [
        "baby",
        "boy",
        "girl",
        "child",
        "kid",
        "infant",
        "newborn",
        "daughter",
        "dau",
        "husband",
        "wife",
        "mother",
        "mom",
        "mum",
        "mommy",
        "father",
        "dad",
        "daddy",
        "brother",
        "sister",
        "grandson",
        "granddaughter",
        "grandchild",
        "nephew",
        "niece",
        "friend",
        "person",
        "patient",
        "client",
        "unknown",
        "unk",
        "resident",
        "respondent",
        "female",
        "male",
        "woman",
        "lady",
        "gent",
        "gentle",
        "gentleman",
        "gentelman",
        "gentlemen",
        "minor",
        "adult",
        "oldest",
        "youngest",
        "hijo",
        "hija",
        "senor",
        "senora",
        "madam",
        "test",
        "tba",
        "tbc",
        "none",
        "nil",
        "of",
        "the",
        "in",
        "house",
    ]
)


@lru_cache(maxsize=200_000)
def first_name_tokens(first_name: str | None) -> tuple[str, ...]:
    """:func:`name_tokens` of a first-name field; none when it holds only placeholder words
    (``"Female Child"``, ``"Mrs"``)."""
    tokens = name_tokens(first_name)
    if all(t in _PLACEHOLDERS or t in _TITLES for t in tokens):
        return ()
    return tokens


def given_name(first_name: str | None) -> str:
    """The first word of a first-name field (``"John Paul"`` -> ``"john"``); ``""`` for a
    placeholder such as ``"Baby"``."""
    tokens = first_name_tokens(first_name)
    return tokens[0] if tokens else ""


# What is typed into a surname field when the surname was not given ("Unknown", "Resident",
# "Dont Know", "Lady of the House"): a whole field equal to one of these names nobody. Words
# that are also real surnames (House, Child, Friend, Parent, Na, No) are left out.
_PLACEHOLDER_SURNAMES = frozenset(
    [
        "unknown",
        "unk",
        "anon",
        "anonymous",
        "resident",
        "occupant",
        "householder",
        "household",
        "respondent",
        "respondant",
        "refused",
        "declined",
        "dont know",
        "do not know",
        "not known",
        "no name",
        "no last name",
        "no surname",
        "last name",
        "surname",
        "apellido",
        "xxx",
        "xx",
        "none",
        "nil",
        "tba",
        "tbc",
        "test",
        "adult",
        "of the house",
        "lady of the house",
        "lady of house",
        "man of the house",
        "the house",
        "of house",
        "of the home",
        "de la casa",
        "de casa",
    ]
)


@lru_cache(maxsize=200_000)
def surname_tokens(last_name: str | None) -> tuple[str, ...]:
    """:func:`name_tokens` of a surname field; none when it holds only a placeholder
    (``"Unknown"``, ``"Dont Know"``)."""
    tokens = name_tokens(last_name)
    return () if " ".join(tokens) in _PLACEHOLDER_SURNAMES else tokens


def surname_key(last_name: str | None) -> str:
    """A surname with its words run together (``"Smith-Jones"`` -> ``"smithjones"``); ``""``
    for a placeholder such as ``"Unknown"``."""
    return "".join(surname_tokens(last_name))


@lru_cache(maxsize=200_000)
def phonetic(word: str) -> str:
    """A phonetic code for a folded word (Metaphone; the word itself for non-Latin scripts)."""
    if not word:
        return ""
    if not word.isascii():
        return word
    letters = "".join(ch for ch in word if ch.isalpha())
    if not letters:
        return word
    try:
        code = jellyfish.metaphone(letters)
    except Exception:  # jellyfish rejects some inputs; fall back to the word
        return letters
    return code or letters
