"""A tiny hand-written clinic for tests and demos (the sample clinic generator makes big ones)."""

from __future__ import annotations

from typing import Any

TINY_HISTORY: dict[str, dict[str, int]] = {
    "1001": {"appointments": 3, "treatment_notes": 2, "invoices": 1, "attachments": 1},
    "1002": {"appointments": 2, "treatment_notes": 1, "invoices": 1, "attachments": 1},
    "1003": {"appointments": 1, "treatment_notes": 0, "invoices": 0, "attachments": 0},
}


def _phone(number: str, kind: str = "Mobile") -> dict[str, str]:
    return {"number": number, "phone_type": kind}


def tiny_clinic(extra: int = 0) -> tuple[list[dict[str, Any]], dict[str, dict[str, int]]]:
    """(patients, history counts): five named patients (1004 archived) plus ``extra`` fillers.

    1001 Jane Smith and 1002 Jane Smyth are the same person; 1003 John Citizen has accepted the
    privacy policy; 1005 Mary O'Brien has no birth date or email. Fillers are 2001, 2002, ...
    created in 2023, one day apart.
    """
    patients: list[dict[str, Any]] = [
        {
            "id": "1001", "first_name": "Jane", "last_name": "Smith", "title": "Ms",
            "date_of_birth": "1980-05-12", "email": "jane.smith@example.com",
            "patient_phone_numbers": [_phone("0412 345 678"), _phone("03 9876 5432", "Home")],
            "address_1": "1 Smith Street", "city": "Melbourne", "state": "VIC",
            "post_code": "3000", "medicare": "2123456701", "sex": "Female",
            "created_at": "2020-01-01T09:00:00Z", "updated_at": "2024-01-01T09:00:00Z",
        },
        {
            "id": "1002", "first_name": "Jane", "last_name": "Smyth",
            "date_of_birth": "1980-05-12", "email": "JANE.SMITH@example.com",
            "patient_phone_numbers": [_phone("0412345678")], "city": "Melbourne",
            "created_at": "2021-03-04T10:30:00Z", "updated_at": "2021-03-04T10:30:00Z",
        },
        {
            "id": "1003", "first_name": "John", "last_name": "Citizen",
            "date_of_birth": "1975-11-30", "email": "john@example.org",
            "accepted_privacy_policy": True, "old_reference_id": "LEGACY-77",
            "created_at": "2020-06-01T00:00:00Z", "updated_at": "2022-06-01T00:00:00Z",
        },
        {
            "id": "1004", "first_name": "Archie", "last_name": "Ved",
            "date_of_birth": "1990-05-01", "archived_at": "2022-01-01T00:00:00Z",
            "created_at": "2019-01-01T00:00:00Z", "updated_at": "2022-01-01T00:00:00Z",
        },
        {
            "id": "1005", "first_name": "Mary", "last_name": "O'Brien",
            "preferred_first_name": "Molly",
            "created_at": "2022-02-02T00:00:00Z", "updated_at": "2022-02-02T00:00:00Z",
        },
    ]  # fmt: skip
    for i in range(extra):
        day = f"2023-{1 + i // 28 % 12:02d}-{1 + i % 28:02d}T{i // 336 % 24:02d}:00:00Z"
        patients.append(
            {
                "id": str(2001 + i),
                "first_name": f"Filler{i}",
                "last_name": "Patient",
                "date_of_birth": f"{1940 + i % 70}-{1 + i % 12:02d}-{1 + i % 28:02d}",
                "created_at": day,
                "updated_at": day,
            }
        )
    return patients, {k: dict(v) for k, v in TINY_HISTORY.items()}
