"""Names of what a patient's link fields point at (a concession type, a referring doctor).

The cache keeps only their links ("…/concession_types/1100000000000000002"), whose ids tell an
administrator choosing between two records' values nothing; the reconcile step asks Cliniko
for the names, at the address each link gives.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

from desktop.cliniko.errors import Cancelled, ClinikoError, Offline


class _Getter(Protocol):
    def get(self, path: str, params: Any = None) -> dict[str, Any]: ...


def linked_name(record: Mapping[str, Any]) -> str:
    """A linked record's name in words: a concession type's name, a contact's title and names
    (else its company); "" when it has none."""
    name = record.get("name")
    if isinstance(name, str) and name.strip():
        return name.strip()
    words = [record.get(k) for k in ("title", "first_name", "last_name")]
    person = " ".join(w.strip() for w in words if isinstance(w, str) and w.strip())
    company = record.get("company_name")
    return person or (company.strip() if isinstance(company, str) else "")


def fetch_link_names(
    client: _Getter, links: Mapping[tuple[str, str], str]
) -> dict[tuple[str, str], str]:
    """The names of the records ``links`` point at ((link field, id) -> the link's address).

    A record Cliniko no longer has (deleted since) or answers oddly for is left out, and so is
    every one after a connection failure: the caller shows those by id, as before.

    Raises:
        Cancelled: the client's cancel event was set.
    """
    names: dict[tuple[str, str], str] = {}
    for key, url in links.items():
        try:
            record = client.get(url)
        except Cancelled:
            raise
        except Offline:
            break  # no connection: the rest stay ids
        except ClinikoError:  # deleted since (404), or an odd answer: this one stays an id
            continue
        name = linked_name(record) if isinstance(record, Mapping) else ""
        if name:
            names[key] = name
    return names
