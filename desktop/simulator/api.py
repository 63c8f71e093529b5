"""Route handlers of the simulated Cliniko API (/v1) and its web UI, independent of sockets."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple
from urllib.parse import parse_qs

from desktop.simulator import history, linked, merge_page
from desktop.simulator.patients import (
    FILTERS,
    SORTABLE,
    render_patient,
    validate_patient_body,
)
from desktop.simulator.query import (
    QueryError,
    page_links,
    parse_filters,
    parse_paging,
    parse_sort,
)
from desktop.simulator.state import ClinicState, MergeError, NotFound

JSON_TYPE = "application/json; charset=utf-8"
HTML_TYPE = "text/html; charset=utf-8"
Pairs = Sequence[tuple[str, str]]


@dataclass
class Response:
    """An HTTP answer: status, headers and body bytes."""

    status: int
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)


def json_response(status: int, payload: Any, headers: Mapping[str, str] | None = None) -> Response:
    """A JSON answer."""
    body = json.dumps(payload, separators=(",", ":")).encode()
    return Response(status, body, {"Content-Type": JSON_TYPE, **(headers or {})})


def html_response(status: int, text: str) -> Response:
    """An HTML answer."""
    return Response(status, text.encode(), {"Content-Type": HTML_TYPE})


def error(status: int, message: str) -> Response:
    """A JSON error ``{"message": ...}``."""
    return json_response(status, {"message": message})


@dataclass
class Request:
    """What a route handler sees of one request."""

    method: str
    path: str
    pairs: Pairs
    body: bytes
    match: re.Match[str] | None = None

    def values(self, name: str) -> list[str]:
        """Every value of a query parameter."""
        return [v for k, v in self.pairs if k == name]

    def last(self, name: str) -> str | None:
        """The last value of a query parameter, or None."""
        found = self.values(name)
        return found[-1] if found else None

    def json(self) -> Any:
        """The body parsed as JSON (ValueError if it is not)."""
        return json.loads(self.body.decode("utf-8") or "null")


Handler = Callable[[Request], Response]

_ID = r"(?P<id>[^/]+)"
_NESTED = {
    "appointments": "individual_appointments",
    "treatment_notes": "treatment_notes",
    "invoices": "invoices",
    "attachments": "patient_attachments",
    "patient_attachments": "patient_attachments",
}


class Country(NamedTuple):
    """An account's country as Cliniko gives it: in ``GET /settings/public`` (its name and
    currency symbol) and in ``GET /user`` (the user's time zone, by name and identifier)."""

    name: str
    currency: str
    zone: str
    zone_id: str


# The sample clinic is Australian; a seed file's clinic may be in any of these.
COUNTRIES: dict[str, Country] = {
    "AU": Country("Australia", "$", "Melbourne", "Australia/Melbourne"),
    "NZ": Country("New Zealand", "$", "Auckland", "Pacific/Auckland"),
    "GB": Country("United Kingdom", "£", "London", "Europe/London"),
    "IE": Country("Ireland", "€", "Dublin", "Europe/Dublin"),
    "CA": Country("Canada", "$", "Eastern Time (US & Canada)", "America/Toronto"),
    "US": Country("United States", "$", "Pacific Time (US & Canada)", "America/Los_Angeles"),
}


class Api:
    """Answers API and web-UI requests against one ClinicState."""

    def __init__(self, state: ClinicState, account: Mapping[str, Any]) -> None:
        self.state = state
        self.account = dict(account)
        self.country = str(account.get("country_code") or "AU")
        self.base_url = ""
        self.silent_write_drop: Callable[[], bool] = lambda: False
        kinds = "|".join(history.KINDS)
        nested = "|".join(_NESTED)
        self.api_routes: list[tuple[str, re.Pattern[str], str, Handler]] = []
        self.web_routes: list[tuple[str, re.Pattern[str], str, Handler]] = []
        for method, pattern, label, handler in (
            ("GET", "/user", "/user", self.get_user),
            ("GET", "/settings/public", "/settings/public", self.get_public_settings),
            ("GET", "/patients", "/patients", self.list_patients),
            ("POST", "/patients", "/patients", self.create_patient),
            ("GET", f"/patients/{_ID}", "/patients/{id}", self.get_patient),
            ("PATCH", f"/patients/{_ID}", "/patients/{id}", self.patch_patient),
            ("PUT", f"/patients/{_ID}", "/patients/{id}", self.patch_patient),
            ("DELETE", f"/patients/{_ID}", "/patients/{id}", self.archive),
            ("POST", f"/patients/{_ID}/archive", "/patients/{id}/archive", self.archive),
            ("POST", f"/patients/{_ID}/unarchive", "/patients/{id}/unarchive", self.unarchive),
            ("GET", f"/concession_types/{_ID}", "/concession_types/{id}",
             self.get_concession_type),
            ("GET", f"/contacts/{_ID}", "/contacts/{id}", self.get_contact),
            ("GET", f"/(?P<kind>{kinds})", "/{kind}", self.list_history),
            ("GET", f"/patients/{_ID}/(?P<nested>{nested})", "/patients/{id}/{kind}",
             self.list_nested_history),
        ):  # fmt: skip
            self.api_routes.append((method, re.compile(pattern + "/?"), label, handler))
        for method, pattern, label, handler in (
            ("GET", "/", "/", self.web_index),
            ("GET", f"/patients/{_ID}", "/patients/{id}", self.web_patient),
            ("GET", f"/patients/{_ID}/merge", "/patients/{id}/merge", self.web_merge_form),
            ("POST", f"/patients/{_ID}/merge", "/patients/{id}/merge", self.web_merge),
            ("POST", "/_simulator/merge", "/_simulator/merge", self.test_merge),
        ):
            self.web_routes.append((method, re.compile(pattern + "/?"), label, handler))

    @staticmethod
    def route(
        routes: Sequence[tuple[str, re.Pattern[str], str, Handler]], method: str, path: str
    ) -> tuple[str, Handler | None, re.Match[str] | None]:
        """Find the handler for ``method path``: (stats label, handler or None, match)."""
        known_path = False
        for m, pattern, label, handler in routes:
            match = pattern.fullmatch(path)
            if match:
                known_path = True
                if m == method:
                    groups = match.groupdict()
                    name = groups.get("kind") or groups.get("nested") or ""
                    return f"{method} {label.replace('{kind}', name)}", handler, match
        return f"{method} {'(method not allowed)' if known_path else '(unknown)'}", None, None

    # ----- helpers --------------------------------------------------------------------------
    def _patient_json(self, record: Mapping[str, Any]) -> dict[str, Any]:
        return render_patient(record, self.base_url)

    def _find(self, request: Request) -> dict[str, Any]:
        assert request.match is not None
        pid = request.match["id"]
        if not pid.isdigit():
            raise NotFound(pid)
        return self.state.get(pid)

    def _list(
        self, name: str, request: Request, items: list[Any], total: int, page: int, per: int
    ) -> Response:
        url = f"{self.base_url}{request.path}"
        links = page_links(url, request.pairs, page, per, total)
        return json_response(200, {name: items, "total_entries": total, "links": links})

    # ----- API: account -------------------------------------------------------------------
    def get_user(self, request: Request) -> Response:
        """``GET /user``: the owner of the key."""
        country = COUNTRIES[self.country]
        user = {
            "active": True, "created_at": "2019-02-01T00:00:00Z",
            "email": self.account["user_email"], "first_name": "Alex", "id": "1",
            "last_name": "Administrator", "links": {"self": f"{self.base_url}/users/1"},
            "phone_numbers": [], "role": "administrator", "time_zone": country.zone,
            "time_zone_identifier": country.zone_id, "title": None,
            "updated_at": "2024-01-01T00:00:00Z", "user_active": True,
        }  # fmt: skip
        return json_response(200, user)

    def get_public_settings(self, request: Request) -> Response:
        """``GET /settings/public``."""
        country = COUNTRIES[self.country]
        account = {
            "country": country.name, "country_code": self.country,
            "currency_symbol": country.currency,
            "has_time_travelers": False, "id": self.account.get("id", "1"),
            "name": self.account["name"],
            "subdomain": self.account["subdomain"], "time_zone_support": False,
        }  # fmt: skip
        settings: dict[str, Any] = {
            "account": account,
            "calendar": None, "documents_and_printing": None, "integrations": None,
            "online_bookings": None, "online_payments": None,
            "patient_custom_fields_definition": {"sections": []}, "patient_privacy": None,
            "reminders": {"default_reminder_type": "SMS"}, "sms": None,
            "terminology": {"patient": "patient", "titles": ["Mr", "Mrs", "Ms", "Miss", "Dr"]},
            "wait_list": None,
        }  # fmt: skip
        return json_response(200, settings)

    # ----- API: patients ------------------------------------------------------------------
    def list_patients(self, request: Request) -> Response:
        """``GET /patients`` with q[], sort, page, per_page."""
        filters = parse_filters([*request.values("q[]"), *request.values("q")], FILTERS)
        sort = parse_sort(request.last("sort"), request.last("order"), SORTABLE)
        page, per = parse_paging(_multi(request.pairs))
        records, total = self.state.list_patients(filters, sort, page, per)
        items = [self._patient_json(r) for r in records]
        return self._list("patients", request, items, total, page, per)

    def get_patient(self, request: Request) -> Response:
        """``GET /patients/{id}``: archived ones only with ``q[]=archived_at:...``."""
        record = self._find(request)
        filters = parse_filters(request.values("q[]"), {"archived_at": "datetime"})
        if not all(f.matches(record) for f in filters):
            raise NotFound(record["id"])
        return json_response(200, self._patient_json(record))

    # ----- API: records a patient links to ---------------------------------------------
    def get_concession_type(self, request: Request) -> Response:
        """``GET /concession_types/{id}``."""
        assert request.match is not None
        found = linked.concession_type(request.match["id"], self.base_url)
        return json_response(200, found) if found else error(404, "Not found")

    def get_contact(self, request: Request) -> Response:
        """``GET /contacts/{id}``: a referring doctor."""
        assert request.match is not None
        found = linked.contact(request.match["id"], self.base_url)
        return json_response(200, found) if found else error(404, "Not found")

    def _body(self, request: Request) -> Mapping[str, Any] | Response:
        try:
            body = request.json()
        except ValueError:
            return error(400, "Request body is not valid JSON")
        if (
            isinstance(body, dict)
            and set(body) == {"patient"}
            and isinstance(body["patient"], dict)
        ):
            body = body["patient"]
        if not isinstance(body, dict):
            return error(422, "must be an object")
        return body

    def patch_patient(self, request: Request) -> Response:
        """``PATCH /patients/{id}``: writable fields only; 422 on validation errors."""
        record = self._find(request)
        body = self._body(request)
        if isinstance(body, Response):
            return body
        changes, errors = validate_patient_body(body)
        if errors:
            return json_response(422, {"message": "Validation Failed", "errors": errors})
        commit = not self.silent_write_drop()
        updated = self.state.apply_changes(record["id"], changes, commit=commit)
        return json_response(200, self._patient_json(updated))

    def create_patient(self, request: Request) -> Response:
        """``POST /patients``: 201 with the new patient and a Location header."""
        body = self._body(request)
        if isinstance(body, Response):
            return body
        changes, errors = validate_patient_body(body, creating=True)
        if errors:
            return json_response(422, {"message": "Validation Failed", "errors": errors})
        record = self.state.add(changes)
        out = self._patient_json(record)
        return json_response(201, out, {"Location": out["links"]["self"]})

    def archive(self, request: Request) -> Response:
        """``POST /patients/{id}/archive`` (and deprecated DELETE): 204."""
        record = self._find(request)
        self.state.set_archived(record["id"], True)
        return Response(204)

    def unarchive(self, request: Request) -> Response:
        """``POST /patients/{id}/unarchive``: 200 with the patient."""
        record = self._find(request)
        return json_response(200, self._patient_json(self.state.set_archived(record["id"], False)))

    # ----- API: history -------------------------------------------------------------------
    def list_history(self, request: Request, kind: str | None = None) -> Response:
        """``GET /individual_appointments`` etc., usually with ``q[]=patient_id:=ID``."""
        assert request.match is not None
        kind = kind or request.match["kind"]
        fields = history.FILTERS[kind]
        filters = parse_filters([*request.values("q[]"), *request.values("q")], fields)
        sort = parse_sort(request.last("sort"), request.last("order"), fields)
        page, per = parse_paging(_multi(request.pairs))
        rows, total = self.state.list_history(kind, filters, sort, page, per)
        items = [history.render(kind, rec, owner, self.base_url) for rec, owner in rows]
        return self._list(kind, request, items, total, page, per)

    def list_nested_history(self, request: Request) -> Response:
        """``GET /patients/{id}/treatment_notes`` and the deprecated nested lists."""
        record = self._find(request)
        assert request.match is not None
        kind = _NESTED[request.match["nested"]]
        scoped = Request(
            request.method,
            request.path,
            [*request.pairs, ("q[]", f"patient_id:={record['id']}")],
            request.body,
            request.match,
        )
        return self.list_history(scoped, kind)

    # ----- web UI -------------------------------------------------------------------------
    def web_index(self, request: Request) -> Response:
        """The web root: a hint of what is here."""
        return html_response(
            200,
            merge_page.error_page(
                "Cliniko simulator", "Open /patients/<id> to see a patient and merge duplicates."
            ),
        )

    def web_patient(self, request: Request) -> Response:
        """A patient's page in the web UI."""
        return html_response(200, merge_page.patient_page(self._find(request)))

    def web_merge_form(self, request: Request) -> Response:
        """``GET /patients/{id}/merge``: the merge page."""
        survivor = self._find(request)
        search = (request.last("search") or "").strip().casefold()
        if search:
            every = self.state.all()
            candidates = [
                p
                for p in every
                if p["id"] != survivor["id"]
                and not p["archived_at"]
                and search in (p["label"] or "").casefold()
            ][:50]
        else:
            candidates = self.state.merge_candidates(survivor["id"])
        return html_response(200, merge_page.merge_form(survivor, candidates, search))

    def web_merge(self, request: Request) -> Response:
        """``POST /patients/{id}/merge`` with form field ``duplicate_ids`` (repeatable)."""
        survivor = self._find(request)
        form = parse_qs(request.body.decode("utf-8"), keep_blank_values=False)
        dup_ids = [v for key in ("duplicate_ids", "duplicate_ids[]") for v in form.get(key, [])]
        try:
            merged = self.state.merge(survivor["id"], dup_ids)
        except MergeError as exc:
            return html_response(422, merge_page.error_page("Could not merge", str(exc)))
        return html_response(200, merge_page.merge_done(survivor, merged))

    def test_merge(self, request: Request) -> Response:
        """``POST /_simulator/merge`` {"survivor_id", "duplicate_ids"}: the same merge, as JSON."""
        body = self._body(request)
        if isinstance(body, Response):
            return body
        try:
            merged = self.state.merge(
                str(body.get("survivor_id")), [str(d) for d in body.get("duplicate_ids") or []]
            )
        except MergeError as exc:
            return error(422, str(exc))
        return json_response(200, {"merged": [self._patient_json(m) for m in merged]})


def _multi(pairs: Pairs) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for key, value in pairs:
        out.setdefault(key, []).append(value)
    return out


def handle(handler: Handler, request: Request) -> Response:
    """Run a handler, turning NotFound and QueryError into 404 and 400 answers."""
    try:
        return handler(request)
    except NotFound:
        return error(404, "Not found")
    except QueryError as exc:
        return error(400, str(exc))
