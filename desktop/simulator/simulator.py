"""The Simulator: a local Cliniko API on loopback, run in a background thread."""

from __future__ import annotations

import base64
import json
import logging
import threading
import time
from collections.abc import Callable, Mapping
from datetime import datetime
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

from desktop.simulator.api import COUNTRIES, Api
from desktop.simulator.faults import FaultConfig, FaultInjector
from desktop.simulator.patients import render_patient
from desktop.simulator.query import Clock, format_time
from desktop.simulator.ratelimit import RateLimiter
from desktop.simulator.server import Gate, SimulatorHTTPServer
from desktop.simulator.state import ClinicState, gc_paused

if TYPE_CHECKING:
    from desktop.simulator.live import LiveClinic

log = logging.getLogger(__name__)

DEFAULT_SIZE = 500
DEFAULT_CLINIC_NAME = "Sunnyside Physiotherapy (simulated)"


def demo_api_key(seed: int = 1) -> str:
    """A deterministic demo key in Cliniko's ``<key>-<shard>`` form (no other dashes)."""
    raw = base64.b64encode(f"{seed}-1-demo-simulator".encode()).decode().rstrip("=")
    return raw.replace("+", "A").replace("/", "B") + "-au1"


def load_patients_json(path: str | Path) -> list[dict[str, Any]]:
    """Patients from a JSON file in Cliniko's shape: a list, or ``{"patients": [...]}``."""
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    if isinstance(data, Mapping):
        data = data.get("patients")
    if not isinstance(data, list) or not all(isinstance(p, Mapping) for p in data):
        raise ValueError(f"{path}: expected a list of patients or {{'patients': [...]}}")
    for index, patient in enumerate(data):
        if "id" not in patient:
            raise ValueError(f"{path}: patient #{index} has no id")
    return [dict(p) for p in data]


class Simulator:
    """A faithful local Cliniko API (``base_url``) and merge web UI (``web_url``).

    ``patients`` in Cliniko's JSON shape; if None, a sample clinic of ``size`` patients is
    generated from ``seed``. ``history`` gives per patient id the counts of appointments,
    treatment_notes, invoices and attachments (made up deterministically when omitted).
    ``clock`` gives the clinic's time in epoch seconds (``time.time`` by default; a test passes
    a manual clock so records get the times it chooses, without waiting).
    ``account_id`` is the account's id in ``GET /settings/public`` (two simulators with
    different ids are two clinics); by default the seed's, so two seeds are two clinics.
    ``country`` is the account's country code (a key of :data:`~desktop.simulator.api.COUNTRIES`):
    its country, currency and the user's time zone as Cliniko gives them.
    """

    def __init__(
        self,
        patients: list[dict[str, Any]] | None = None,
        *,
        size: int | None = None,
        seed: int = 1,
        rate_limit_per_minute: int = 200,
        faults: FaultConfig | None = None,
        api_key: str | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        history: Mapping[str, Mapping[str, int]] | None = None,
        clinic_name: str | None = None,
        clock: Clock = time.time,
        account_id: str | None = None,
        country: str = "AU",
    ) -> None:
        if country not in COUNTRIES:
            raise ValueError(f"unknown country {country!r}: one of {', '.join(COUNTRIES)}")
        if patients is None:
            from desktop.simulator.sample_clinic import generate_clinic

            clinic = generate_clinic(size if size is not None else DEFAULT_SIZE, seed)
            patients = list(clinic.patients)
            if history is None:
                history = getattr(clinic, "history", None)
            clinic_name = clinic_name or getattr(clinic, "name", None)
        self.seed = seed
        self.host = host
        self._port = port
        self._api_key = api_key or demo_api_key(seed)
        self.clock = clock  # epoch seconds: every stamp, the rate limit and storms read it
        self.state = ClinicState(patients, history, seed, clock)
        name = clinic_name or DEFAULT_CLINIC_NAME
        account = {
            "id": account_id or str(seed),
            "name": name,
            "subdomain": "demo-clinic",
            "user_email": "admin@demo-clinic.example",
            "country_code": country,
        }
        self._api = Api(self.state, account)
        self._injector = FaultInjector(faults, clock)
        self._api.silent_write_drop = lambda: self._injector.config.silent_write_drop
        self._limiter = RateLimiter(rate_limit_per_minute, 60.0, clock)
        self._gate = Gate(self._api, lambda: self._api_key, self._limiter, self._injector)
        self._server: SimulatorHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._api.base_url = self.base_url

    # ----- lifecycle ----------------------------------------------------------------------
    def start(self) -> Simulator:
        """Bind the port and serve in a background thread."""
        if self._server is not None:
            return self
        server = SimulatorHTTPServer((self.host, self._port), self._gate)
        self._server = server
        self._port = server.server_address[1]
        self._api.base_url = self.base_url
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05},
            name=f"cliniko-simulator-{self._port}", daemon=True,
        )  # fmt: skip
        self._thread.start()
        log.info("Cliniko simulator listening on %s", self.base_url)
        return self

    def stop(self) -> None:
        """Stop serving and close every connection."""
        server, self._server = self._server, None
        if server is None:
            return
        server.shutdown()
        server.close_connections()
        server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    @property
    def running(self) -> bool:
        """True while serving."""
        return self._server is not None

    def __enter__(self) -> Simulator:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def __repr__(self) -> str:
        state = "running" if self.running else "stopped"
        return (
            f"<Simulator {state} {self.base_url} patients={len(self.state)} "
            f"rate_limit={self._limiter.limit}/min faults={self._injector.config}>"
        )

    __str__ = __repr__

    # ----- addresses and settings ---------------------------------------------------------
    @property
    def port(self) -> int:
        """The bound port (the requested one before start)."""
        return self._port

    @property
    def web_url(self) -> str:
        """Root of the fake Cliniko web UI, e.g. ``http://127.0.0.1:PORT``."""
        return f"http://{self.host}:{self._port}"

    @property
    def base_url(self) -> str:
        """API base, e.g. ``http://127.0.0.1:PORT/v1``."""
        return f"{self.web_url}/v1"

    @property
    def api_key(self) -> str:
        """A key the simulator accepts."""
        return self._api_key

    @property
    def faults(self) -> FaultConfig:
        """The active fault configuration; assign a new FaultConfig (or None) at any time."""
        return self._injector.config

    @faults.setter
    def faults(self, value: FaultConfig | None) -> None:
        self._injector.config = value

    @property
    def rate_limit_per_minute(self) -> int:
        """Requests allowed per key in any 60 s; can be changed while running."""
        return self._limiter.limit

    @rate_limit_per_minute.setter
    def rate_limit_per_minute(self, value: int) -> None:
        self._limiter.limit = value
        self._limiter.reset()

    @property
    def stats(self) -> dict[str, Any]:
        """Request counters: requests_total, requests_by_route, responses_429/5xx, dropped."""
        return self._gate.stats.snapshot()

    def reset_stats(self) -> None:
        """Zero the request counters."""
        self._gate.stats.reset()

    # ----- the clinic, as Cliniko staff would change it -----------------------------------
    def _render(self, record: Mapping[str, Any]) -> dict[str, Any]:
        return render_patient(record, self.base_url)

    def patients_snapshot(self) -> list[dict[str, Any]]:
        """Every patient as ``GET /patients/{id}`` shows it, archived included, oldest first."""
        with gc_paused():
            return [self._render(r) for r in self.state.all()]

    def patient(self, patient_id: str) -> dict[str, Any]:
        """One patient as ``GET /patients/{id}`` shows it (KeyError if unknown)."""
        return self._render(self.state.get(str(patient_id)))

    def touch_patient(self, patient_id: str, **fields: Any) -> dict[str, Any]:
        """Change fields as if edited in Cliniko (always bumps updated_at)."""
        return self._render(self.state.touch(str(patient_id), fields))

    def drift_patient(self, patient_id: str, **fields: Any) -> dict[str, Any]:
        """Change fields WITHOUT bumping updated_at: drift no incremental sync can see."""
        return self._render(self.state.touch(str(patient_id), fields, bump=False))

    def add_patient(self, patient: Mapping[str, Any]) -> dict[str, Any]:
        """Add a patient (id, created_at, updated_at assigned unless given)."""
        return self._render(self.state.add(patient))

    def archive_patient(self, patient_id: str, archived: bool = True) -> dict[str, Any]:
        """Archive (or unarchive) a patient as Cliniko staff would."""
        return self._render(self.state.set_archived(str(patient_id), archived))

    def merge(self, survivor_id: str, duplicate_ids: list[str] | str) -> list[dict[str, Any]]:
        """What Cliniko's web-UI merge does; returns the merged duplicates."""
        ids = [duplicate_ids] if isinstance(duplicate_ids, str) else list(duplicate_ids)
        return [self._render(r) for r in self.state.merge(str(survivor_id), ids)]

    def book(
        self, patient_id: str, starts_at: datetime | str, made_at: datetime | None = None
    ) -> None:
        """Book an appointment for ``patient_id`` (made now on the clinic's clock by default).

        A text ``starts_at`` is served as written: an odd or hostile server's time, such as
        ``2026-12-08T10:30:00+11:00`` or ``2026-12-99T10:30:00Z``.
        """
        made = self.state.now() if made_at is None else format_time(made_at)
        starts = starts_at if isinstance(starts_at, str) else format_time(starts_at)
        self.state.add_appointment(str(patient_id), starts, made)

    def write_note(self, patient_id: str, written_at: datetime | None = None) -> None:
        """A practitioner writes a treatment note for ``patient_id`` (now on the clinic's
        clock by default)."""
        written = self.state.now() if written_at is None else format_time(written_at)
        self.state.add_treatment_note(str(patient_id), written)

    def set_before_request(self, hook: Callable[[], None]) -> None:
        """Run ``hook`` before answering each API request (live mode applies due events)."""
        self._gate.before_request = hook

    def go_live(self, **plan: Any) -> LiveClinic:
        """Live mode: patients and bookings arrive with the clock (see ``simulator.live``);
        ``plan`` goes to :meth:`LiveClinic.plan`."""
        from desktop.simulator.live import LiveClinic

        return LiveClinic.plan(self, **plan).attach()

    def history_counts(self, patient_id: str) -> dict[str, int]:
        """How many appointments, treatment_notes, invoices, attachments the API lists now."""
        from desktop.simulator.history import KINDS
        from desktop.simulator.query import Filter

        pid = str(patient_id)
        counts = {}
        for kind, name in KINDS.items():
            f = Filter("patient_id", "=", pid, "int", frozenset([int(pid)]))
            _, total = self.state.list_history(kind, [f], [("created_at", False)], 1, 1)
            counts[name] = total
        return counts


def run_forever(sim: Simulator) -> None:
    """Serve until Ctrl-C (starts the simulator if needed, stops it on the way out)."""
    sim.start()
    stop = threading.Event()
    try:
        while not stop.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        sim.stop()
