"""Live mode: new patients and bookings arrive while the simulator runs.

A plan of events is drawn up front (deterministic from the seed) over a span of the clinic's
clock: in business hours the front desk adds full records; after hours a share are made the way
a phone assistant makes them (name and phone only, a note "Created by ... assistant"), often
a second record of someone already on file; the rest are online bookings. Each new patient gets
a booking in the next days; an assistant's record is completed at the front desk when the
patient first comes in. Events are applied when the clock reaches them, lazily, before the API
answers a request, so a test with a manual clock sees exactly what is due and never waits::

    sim = Simulator(size=2000, clock=clock)
    live = sim.go_live(hours=8)            # or LiveClinic.plan(sim, ...) and live.attach()
    clock.tick(3600); live.catch_up()      # what arrived in the first hour
    live.planted_duplicates()              # the truth a test checks the watch against
"""

from __future__ import annotations

import random
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from desktop.simulator.query import format_time

if TYPE_CHECKING:
    from desktop.simulator.simulator import Simulator

ASSISTANT_NOTE = "Created by Riley, the after-hours phone assistant"
ONLINE_BOOKING = "Online booking"
DEFAULT_ZONE = "Australia/Melbourne"  # the simulated user's time zone (GET /user)
OPENS, CLOSES = time(8, 0), time(18, 0)
# Fields a new record may carry (Cliniko's data fields, less what the server assigns).
_COPIED = (
    "title", "first_name", "last_name", "preferred_first_name", "date_of_birth", "email",
    "patient_phone_numbers", "address_1", "address_2", "city", "state", "post_code",
    "country_code", "sex", "medicare", "medicare_reference_number", "occupation",
)  # fmt: skip


@dataclass(frozen=True)
class LiveRates:
    """How busy the clinic is, per hour of its clock, and who makes the records."""

    business_per_hour: float = 3.0
    after_hours_per_hour: float = 1.0
    weekend_per_hour: float = 0.5
    assistant_share: float = 0.6  # of after-hours and weekend arrivals
    assistant_duplicate_share: float = 0.5  # of the assistant's records
    desk_duplicate_share: float = 0.02  # of the front desk's records


@dataclass
class LiveEvent:
    """One thing that happens at ``at``: a patient created (with a booking) or completed."""

    at: datetime
    kind: str  # "create" or "complete"
    window: str  # "business hours", "after hours", "weekend" (clinic's clock)
    source: str  # "front desk", "phone assistant", "online booking"
    patient: dict[str, Any]  # the record to create, or the fields a completion adds
    duplicate_of: str | None = None  # the existing patient it is a second record of
    booking_at: datetime | None = None
    completes: LiveEvent | None = None  # for "complete": the create event it completes
    patient_id: str | None = None  # set once applied
    applied: bool = False


@dataclass
class LiveClinic:
    """A simulator whose clinic keeps changing with its clock (see the module docstring)."""

    sim: Simulator
    events: list[LiveEvent]
    lock: threading.Lock = field(default_factory=threading.Lock)

    @classmethod
    def plan(
        cls,
        sim: Simulator,
        *,
        hours: float = 8.0,
        start: datetime | None = None,
        seed: int = 1,
        rates: LiveRates | None = None,
        zone: str = DEFAULT_ZONE,
        first_duplicate_after: float | None = None,
    ) -> LiveClinic:
        """Draw the events of ``hours`` from ``start`` (the clinic's clock now by default).

        ``first_duplicate_after``: also plant a phone assistant's duplicate this many seconds
        after the start, whatever the hour (the demo uses it so something happens soon).
        """
        rates = rates or LiveRates()
        rng = random.Random(f"live:{seed}")
        begin = start or datetime.fromtimestamp(int(sim.clock()), UTC)
        tz = ZoneInfo(zone)
        on_file = _known_people(sim)
        newcomers = _newcomers(seed, int(hours * rates.business_per_hour * 2) + 20)
        events: list[LiveEvent] = []
        moments = _arrival_times(rng, begin, hours, tz, rates)
        if first_duplicate_after is not None:
            moments.append(begin + timedelta(seconds=first_duplicate_after))
            moments.sort()
        planted = begin + timedelta(seconds=first_duplicate_after or 0)
        for at in moments:
            window = _window(at, tz)
            forced = first_duplicate_after is not None and at == planted
            event = _arrival(rng, at, window, rates, on_file, newcomers, tz, forced)
            events.append(event)
            if event.source == "phone assistant" and event.duplicate_of is None:
                assert event.booking_at is not None
                events.append(_completion(rng, event))
        events.sort(key=lambda e: e.at)
        return cls(sim, events)

    def attach(self) -> LiveClinic:
        """Apply due events before every API request the simulator answers."""
        self.sim.set_before_request(self._before_request)
        return self

    def _before_request(self) -> None:
        self.catch_up()

    def catch_up(self) -> list[LiveEvent]:
        """Apply every event due by the clinic's clock; returns those applied now."""
        now = datetime.fromtimestamp(self.sim.clock(), UTC)
        done = []
        with self.lock:
            for event in self.events:
                if event.applied:
                    continue
                if event.at > now:
                    break
                self._apply(event)
                done.append(event)
        return done

    def _apply(self, event: LiveEvent) -> None:
        if event.kind == "create":
            stamp = format_time(event.at)
            patient = {**event.patient, "id": _arrival_id(event.at), "created_at": stamp}
            created = self.sim.add_patient(patient)
            event.patient_id = str(created["id"])
            if event.booking_at is not None:
                self.sim.book(event.patient_id, event.booking_at, event.at)
        else:
            assert event.completes is not None
            target = event.completes.patient_id
            if target is not None:
                self.sim.touch_patient(target, **event.patient)
        event.applied = True

    def planted_duplicates(self) -> list[LiveEvent]:
        """The applied create events that are a second record of someone on file."""
        return [e for e in self.events if e.kind == "create" and e.applied and e.duplicate_of]

    def created(self) -> list[LiveEvent]:
        """Every applied create event."""
        return [e for e in self.events if e.kind == "create" and e.applied]


def _window(at: datetime, tz: ZoneInfo) -> str:
    local = at.astimezone(tz)
    if local.weekday() >= 5:
        return "weekend"
    return "business hours" if OPENS <= local.time() < CLOSES else "after hours"


def _rate(window: str, rates: LiveRates) -> float:
    return {
        "business hours": rates.business_per_hour,
        "after hours": rates.after_hours_per_hour,
        "weekend": rates.weekend_per_hour,
    }[window]


def _arrival_times(
    rng: random.Random, begin: datetime, hours: float, tz: ZoneInfo, rates: LiveRates
) -> list[datetime]:
    """Arrival moments, a Poisson process whose rate follows the clinic's windows."""
    moments: list[datetime] = []
    at, end = begin, begin + timedelta(hours=hours)
    while True:
        rate = _rate(_window(at, tz), rates)
        at += (
            timedelta(seconds=max(1, int(rng.expovariate(rate / 3600.0))))
            if rate
            else (timedelta(hours=1))
        )
        if at >= end:
            return moments
        if rate:
            moments.append(at.replace(microsecond=0))


def _known_people(sim: Simulator) -> list[dict[str, Any]]:
    """Active patients on file with a name and a phone (whom an assistant could re-create)."""
    return [
        r
        for r in sim.state.all()
        if not r["archived_at"] and r["patient_phone_numbers"] and r["first_name"]
    ]


def _arrival_id(at: datetime) -> str:
    """A new patient's id from its creation time, as Cliniko's ids grow with time: never the
    id of a record a cache kept from an earlier run of the same (seeded) clinic."""
    return str(int(at.timestamp() * 1000) << 22)


def _newcomers(seed: int, count: int) -> list[dict[str, Any]]:
    """Full records of people not on file (a sample clinic of its own seed)."""
    from desktop.simulator.sample_clinic import generate_clinic

    clinic = generate_clinic(count, seed + 7919, duplicate_rate=0.0, lookalike_rate=0.0)
    people = [p for p in clinic.patients if not p.get("archived_at")]
    return [{k: p.get(k) for k in _COPIED if p.get(k) is not None} for p in people]


def _next_booking(rng: random.Random, at: datetime, tz: ZoneInfo) -> datetime:
    """A slot in business hours on one of the next five weekdays."""
    day = at.astimezone(tz).date()
    ahead = rng.randint(1, 5)
    while ahead:
        day += timedelta(days=1)
        if day.weekday() < 5:
            ahead -= 1
    slot = datetime.combine(day, time(9, 0), tz) + timedelta(minutes=30 * rng.randrange(16))
    return slot.astimezone(UTC)


def _arrival(
    rng: random.Random,
    at: datetime,
    window: str,
    rates: LiveRates,
    on_file: list[dict[str, Any]],
    newcomers: list[dict[str, Any]],
    tz: ZoneInfo,
    assistant_duplicate: bool = False,
) -> LiveEvent:
    """One new patient arriving at ``at``."""
    booking = _next_booking(rng, at, tz)
    after = window != "business hours"
    if assistant_duplicate or (after and rng.random() < rates.assistant_share):
        duplicate = assistant_duplicate or rng.random() < rates.assistant_duplicate_share
        person = rng.choice(on_file) if duplicate and on_file else newcomers.pop()
        record = {
            "first_name": person["first_name"],
            "last_name": person["last_name"],
            "patient_phone_numbers": person["patient_phone_numbers"][:1],
            "notes": f"{ASSISTANT_NOTE} ({format_time(at)}).",
        }
        return LiveEvent(
            at, "create", window, "phone assistant", record,
            str(person["id"]) if "id" in person and duplicate else None, booking,
        )  # fmt: skip
    if not after and on_file and rng.random() < rates.desk_duplicate_share:
        person = rng.choice(on_file)
        record = {k: person[k] for k in _COPIED if person.get(k) is not None}
        record.pop("email", None)
        return LiveEvent(at, "create", window, "front desk", record, str(person["id"]), booking)
    record = dict(newcomers.pop())
    source = "front desk" if not after else "online booking"
    if after:
        record["referral_source"] = ONLINE_BOOKING
    return LiveEvent(at, "create", window, source, record, None, booking)


def _completion(rng: random.Random, made: LiveEvent) -> LiveEvent:
    """The front desk completes an assistant's record when the patient first comes in."""
    assert made.booking_at is not None
    year = rng.randint(1950, 2005)
    fields = {
        "date_of_birth": f"{year}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}",
        "email": f"{made.patient['first_name']}.{made.patient['last_name']}@example.com".lower(),
    }
    return LiveEvent(made.booking_at, "complete", made.window, "front desk", fields, completes=made)


__all__ = ["ASSISTANT_NOTE", "LiveClinic", "LiveEvent", "LiveRates"]
