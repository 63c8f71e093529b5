"""Benchmark the cache: upsert 100k realistic patients in pages of 100, then scan them.

Run on demand (not collected by pytest): ``uv run python tests/benchmarks/bench_store.py``.
Prints wall and CPU seconds; generating the patients (the "network" side) is not timed.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from desktop.store import Cache, iter_patient_rows, patient_ids, transaction, upsert_patients

BASE = "https://api.au1.cliniko.com/v1"
MATCH_COLUMNS = ["id", "first_name", "last_name", "date_of_birth", "email", "phones", "medicare"]


def patient(i: int) -> dict:
    """A patient shaped like Cliniko's (about 2.4 KB of JSON)."""
    pid = str(1390726237298631770 + i)
    link = lambda tail: {"links": {"self": f"{BASE}/{tail}"}}  # noqa: E731
    return {
        "id": pid,
        "title": "Ms",
        "first_name": ("Anna", "Ben", "Chloe", "David")[i % 4],
        "last_name": f"Przybylski{i % 5000}",
        "preferred_first_name": None,
        "label": "x",
        "date_of_birth": f"19{50 + i % 50}-0{1 + i % 9}-1{i % 10}",
        "email": f"p{i}@example.com",
        "patient_phone_numbers": [
            {"number": "0412 345 678", "phone_type": "Mobile", "normalized_number": "+61412345678"}
        ],
        "address_1": "12 Long Street",
        "address_2": None,
        "address_3": None,
        "city": "Melbourne",
        "state": "VIC",
        "post_code": "3000",
        "country": "Australia",
        "country_code": "AU",
        "sex": "Female",
        "gender_identity": None,
        "medicare": "2123456701",
        "medicare_reference_number": "1",
        "dva_card_number": None,
        "occupation": "Teacher",
        "emergency_contact": "Someone 0400 000 000",
        "notes": "Some notes about this patient " * 3,
        "appointment_notes": None,
        "old_reference_id": "",
        "referral_source": "",
        "invoice_default_to": None,
        "invoice_email": None,
        "invoice_extra_information": None,
        "reminder_type": "SMS",
        "receives_confirmation_emails": True,
        "receives_cancellation_emails": True,
        "accepted_privacy_policy": True,
        "accepted_email_marketing": False,
        "accepted_sms_marketing": False,
        "time_zone": "Australia/Melbourne",
        "custom_fields": None,
        "created_at": "2020-01-01T00:00:00Z",
        "updated_at": "2024-01-01T00:00:00Z",
        "archived_at": None,
        "deleted_at": None,
        "merged_at": None,
        "merged_with_patient": None,
        "concession_type": link("concession_types/1"),
        "referring_doctor": link("contacts/1"),
        "links": {"self": f"{BASE}/patients/{pid}"},
        "appointments": link(f"patients/{pid}/appointments"),
        "attendees": link(f"attendees?q[]=patient_id:={pid}"),
        "invoices": link(f"patients/{pid}/invoices"),
        "medical_alerts": link(f"patients/{pid}/medical_alerts"),
        "patient_attachments": link(f"patients/{pid}/attachments"),
        "relationships": link(f"relationships?q[]=patient_id:={pid}"),
        "latest_booking": link("bookings/1"),
    }


def pages(total: int, size: int = 100) -> Iterator[list[dict]]:
    """Yield pages of patients, as the sync would receive them."""
    for start in range(0, total, size):
        yield [patient(i) for i in range(start, min(start + size, total))]


def main() -> None:
    """Run the benchmark and print a small table."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--patients", type=int, default=100_000)
    parser.add_argument("--not-durable", action="store_true", help="transaction(durable=False)")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="mergedesk-bench-"))
    try:
        with Cache.open(folder / "cache.db", "5a" * 32) as cache:
            wall = cpu = 0.0
            for page in pages(args.patients):
                w, c = time.perf_counter(), time.process_time()
                with transaction(cache, durable=not args.not_durable) as db:
                    upsert_patients(db, page)
                wall += time.perf_counter() - w
                cpu += time.process_time() - c
        print(f"upsert {args.patients:,} in pages of 100: wall {wall:.2f} s, cpu {cpu:.2f} s")
        with Cache.open(folder / "cache.db", "5a" * 32, readonly=True) as cache:
            for label, columns in (("all row columns", None), ("matcher columns", MATCH_COLUMNS)):
                w, c = time.perf_counter(), time.process_time()
                count = sum(1 for _ in iter_patient_rows(cache.db, columns))
                print(
                    f"iterate {count:,} ({label}): wall {time.perf_counter() - w:.2f} s, "
                    f"cpu {time.process_time() - c:.2f} s"
                )
            w = time.perf_counter()
            ids = patient_ids(cache.db)
            print(f"patient_ids ({len(ids):,}): {time.perf_counter() - w:.2f} s")
        size = (folder / "cache.db").stat().st_size / 1e6
        print(f"file size: {size:.0f} MB")
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
