"""The fake Cliniko web UI: a patient page and the "Merge patients" page (HTML, no auth)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from html import escape
from typing import Any

_STYLE = (
    "body{font-family:sans-serif;margin:2em;max-width:60em}"
    "table{border-collapse:collapse}td,th{padding:.3em .8em;border-bottom:1px solid #ddd;"
    "text-align:left}.note{color:#555}.button{background:#2a7;color:#fff;padding:.5em 1em;"
    "border:0;border-radius:4px;text-decoration:none}"
)


def _page(title: str, body: str) -> str:
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{escape(title)} - Cliniko (simulator)</title><style>{_STYLE}</style></head>"
        f"<body><h1>{escape(title)}</h1>\n{body}\n</body></html>\n"
    )


def _name(p: Mapping[str, Any]) -> str:
    return str(p.get("label") or f"{p.get('first_name', '')} {p.get('last_name', '')}".strip())


def _mobile(p: Mapping[str, Any]) -> str:
    phones = p.get("patient_phone_numbers") or []
    mobiles = [x["number"] for x in phones if x.get("phone_type") == "Mobile"]
    return (mobiles or [x["number"] for x in phones] or [""])[0]


def patient_page(patient: Mapping[str, Any]) -> str:
    """A minimal patient profile with a Merge button."""
    pid = escape(str(patient["id"]))
    rows = "".join(
        f"<tr><th>{escape(label)}</th><td>{escape(str(patient.get(key) or ''))}</td></tr>"
        for label, key in (
            ("ID", "id"),
            ("Date of birth", "date_of_birth"),
            ("Email", "email"),
            ("Archived", "archived_at"),
            ("Merged", "merged_at"),
        )
    )
    body = (
        f"<table>{rows}<tr><th>Mobile</th><td>{escape(_mobile(patient))}</td></tr></table>"
        f'<p><a class="button" id="merge" href="/patients/{pid}/merge">Merge</a></p>'
    )
    return _page(_name(patient), body)


def merge_form(
    survivor: Mapping[str, Any], candidates: Sequence[Mapping[str, Any]], search: str = ""
) -> str:
    """The "Merge patients into <name>" page: candidates with checkboxes and a submit button."""
    pid = escape(str(survivor["id"]))
    rows = "".join(
        "<tr>"
        f'<td><input type="checkbox" name="duplicate_ids" value="{escape(str(c["id"]))}" '
        f'id="dup-{escape(str(c["id"]))}"></td>'
        f'<td><label for="dup-{escape(str(c["id"]))}">{escape(_name(c))}</label></td>'
        f"<td>{escape(str(c.get('date_of_birth') or ''))}</td>"
        f"<td>{escape(_mobile(c))}</td><td>{escape(str(c['id']))}</td>"
        "</tr>"
        for c in candidates
    )
    if not rows:
        rows = '<tr><td colspan="5">No possible duplicates found.</td></tr>'
    body = (
        f'<form method="get" action="/patients/{pid}/merge"><input name="search" '
        f'value="{escape(search)}" placeholder="Search by name"> <button>Search</button></form>'
        '<p class="note">Check the date of birth and mobile number before merging. '
        f"None of {escape(_name(survivor))}'s information will be overwritten. "
        "A merge cannot be undone.</p>"
        f'<form method="post" action="/patients/{pid}/merge">'
        "<table><tr><th></th><th>Name</th><th>Date of birth</th><th>Mobile</th><th>ID</th></tr>"
        f'{rows}</table><p><button class="button" type="submit">Merge patients</button></p>'
        "</form>"
    )
    return _page(f"Merge patients into {_name(survivor)}", body)


def merge_done(survivor: Mapping[str, Any], merged: Sequence[Mapping[str, Any]]) -> str:
    """Confirmation shown after a merge."""
    items = "".join(f"<li>{escape(_name(m))} ({escape(str(m['id']))})</li>" for m in merged)
    sid = escape(str(survivor["id"]))
    body = (
        f"<p>Merged into {escape(_name(survivor))} ({sid}):</p>"
        f'<ul>{items}</ul><p><a href="/patients/{sid}">Back to patient</a></p>'
    )
    return _page("Patients merged", body)


def error_page(title: str, message: str) -> str:
    """A plain error page."""
    return _page(title, f"<p>{escape(message)}</p>")
