"""The online half of a guided merge: PATCH the survivor and verify it, point the person to
Cliniko's own Merge page, and poll the duplicates until Cliniko shows them merged.

These functions talk to Cliniko through a :class:`~desktop.cliniko.client.ClinikoClient` and do
not touch the cache; :mod:`desktop.merge.flow` persists what they return. Error messages name
fields and ids at most, never a patient's data.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from desktop.account import Account
from desktop.cliniko.client import ClinikoClient
from desktop.cliniko.shards import is_loopback_host
from desktop.display import display_value, field_label, full_name, readable, shortened
from desktop.merge.plan import (
    MergePlan,
    changed_fields,
    field_value,
    fields_sha256,
    same_value,
    stale_fields,
    values_sha256,
)
from desktop.store.patients import linked_id
from desktop.store.quarantine import patient_problem


class MergeError(Exception):
    """Base of the guided merge's errors; ``user_message`` is for the administrator."""

    default_message = "The merge could not continue."

    def __init__(self, detail: str = "", *, user_message: str | None = None) -> None:
        """``detail`` is technical (logs); neither it nor the message holds patient data."""
        self.detail = detail
        self._user_message = user_message
        super().__init__(f"{type(self).__name__}: {detail}" if detail else type(self).__name__)

    @property
    def user_message(self) -> str:
        """A plain-words explanation."""
        return self._user_message or self.default_message


class StepError(MergeError):
    """The flow cannot do that at its current step (a guard refused it)."""

    default_message = "This can't be done at this step of the merge."


class NeedsConnection(MergeError):
    """A step that talks to Cliniko was asked to run without a connection."""

    default_message = (
        "This step needs a connection to Cliniko. The plan is saved and waits in "
        '"Ready to apply"; continue when you are online.'
    )


class RecordUnreadable(MergeError):
    """Cliniko sent a patient record MergeDesk cannot read or keep (a sync would set it aside
    as malformed): nothing is done with it."""

    def __init__(self, patient_id: str, why: str) -> None:
        """``why``: what is wrong, in plain words without patient data."""
        super().__init__(
            f"patient {patient_id}: {why}",
            user_message=(
                f"Cliniko sent the record of patient {patient_id} in a form MergeDesk cannot "
                f"read ({why}), so MergeDesk did nothing with it and the merge stays where it "
                "is. Try again in a while; if this keeps happening, open that record in Cliniko "
                "and check it."
            ),
        )


def read_patient(client: ClinikoClient, patient_id: str) -> dict[str, Any]:
    """One patient from Cliniko (archived and merged too), checked as a sync checks each
    record before it is kept.

    Raises:
        RecordUnreadable: the record is not in a shape MergeDesk can read or keep.
        ClinikoError: the API failed.
    """
    record = client.get_patient(patient_id)
    why = patient_problem(record)
    if why is not None:
        raise RecordUnreadable(str(patient_id), why)
    return record


def _labels(fields: Sequence[str]) -> str:
    """Fields as the administrator knows them from Cliniko ("Medicare number"), not as the
    API names them ("medicare"): for messages shown to a person."""
    return ", ".join(field_label(name) for name in fields)


class WriteNotApplied(MergeError):
    """Cliniko answered the PATCH with success, but reading the record back shows old values."""

    def __init__(self, fields: Sequence[str]) -> None:
        """``fields``: names of the fields whose stored value differs from what was written."""
        self.fields = tuple(fields)
        super().__init__(
            f"read-back hash differs for {len(self.fields)} field(s): {', '.join(self.fields)}",
            user_message=(
                "Cliniko said the changes to the surviving record were saved, but when MergeDesk "
                "read the record back these fields still had other values: "
                f"{_labels(self.fields)}. Nothing has "
                "been merged. Try again; if it keeps happening, make these changes in Cliniko "
                "by hand and then continue."
            ),
        )


class SurvivorChanged(MergeError):
    """The survivor was edited in Cliniko after the plan was made, in a field the plan sets."""

    def __init__(self, fields: Sequence[str], survivor: Mapping[str, Any]) -> None:
        """``fields``: the decided fields that changed in Cliniko since the plan was made;
        ``survivor``: the record as Cliniko has it now."""
        self.fields = tuple(fields)
        self.survivor = dict(survivor)
        super().__init__(
            f"survivor changed in Cliniko since planning: {', '.join(self.fields)}",
            user_message=(
                "Someone changed the surviving record in Cliniko after this plan was made "
                f"(fields: {_labels(self.fields)}). Nothing was written. The plan now keeps "
                "Cliniko's new values for these fields: go back to the fields step if one "
                "should change."
            ),
        )


class SurvivorDrifted(MergeError):
    """After MergeDesk updated the survivor, and before Cliniko's merge, the survivor lost a
    value MergeDesk wrote (changed in Cliniko again)."""

    def __init__(self, fields: Sequence[str]) -> None:
        """``fields``: the decided fields whose value is no longer the one written."""
        self.fields = tuple(fields)
        super().__init__(
            f"survivor changed in Cliniko after the update: {', '.join(self.fields)}",
            user_message=(
                "The record that stays changed in Cliniko after MergeDesk updated it "
                f"(fields: {_labels(self.fields)}), so it no longer has the values you chose. "
                "Nothing is merged yet: do not merge in Cliniko now. Press “Try again” to "
                "write the values again and check them, then merge."
            ),
        )


def answer_words(why: str) -> str | None:
    """The answer a back-out was for, as its button says it ("Not the same person"), or None
    for Back (``why`` as :attr:`MergeFlow.restore_interrupted` gives it)."""
    return {"not_same": "“Not the same person”"}.get(why)


class BackOutInterrupted(MergeError):
    """MergeDesk stopped while it put the survivor's previous values back (a kill during the
    back-out): Cliniko may have some of them back, or all, or (``none_back``) none."""

    def __init__(self, why: str, *, none_back: bool = False) -> None:
        """``why``: what the back-out was for, ``back`` or the answer (``not_same``, ...);
        ``none_back``: Cliniko shows the values chosen still (the merge can go on)."""
        self.why = why
        answer = answer_words(why)
        opening = (
            f"Your answer {answer} was under way when MergeDesk stopped: it puts the previous "
            "values of the record that stays back in Cliniko first, and that did not finish."
            if answer
            else "Putting the previous values of the record that stays back in Cliniko "
            "(Back) did not finish: MergeDesk stopped during it."
        )
        finish = f"press {answer} again" if answer else "press Back"
        if none_back:
            state = "None of them is back: the record that stays still has the values you chose."
            then = "to merge after all, follow the steps above."
        else:
            state = "Cliniko may have some of them back, or all. Nothing is merged: do not merge "
            state += "in Cliniko now."
            then = "“Try again” writes the values you chose again instead."
        super().__init__(
            f"back-out interrupted ({why})",
            user_message=f"{opening} {state} To finish, {finish}; {then}",
        )


def drifted_fields(plan: MergePlan, survivor: Mapping[str, Any]) -> list[str]:
    """The decided fields whose value on ``survivor`` (as Cliniko has it now) is not the one
    the plan chose."""
    country = str(survivor.get("country_code") or "AU")
    return [
        name
        for name, value in sorted(plan.decisions.items())
        if not same_value(name, field_value(survivor, name), value, country)
    ]


class SurvivorGone(MergeError):
    """The survivor is merged in Cliniko, so nothing can be merged into it."""

    default_message = (
        "The record chosen to stay has been merged in Cliniko in the meantime. "
        "Nothing was written. Cancel this merge and review the pair again."
    )


def survivor_merged_elsewhere(survivor_id: str, target_id: str | None) -> SurvivorGone:
    """The error of a record chosen to stay that Cliniko merged into a patient outside the
    plan (ticked on that patient's page) after MergeDesk updated it. Ids only."""
    return SurvivorGone(
        "survivor merged into another patient",
        user_message=(
            f"The record chosen to stay (id {survivor_id}) was merged in Cliniko into another "
            f"patient (id {target_id or 'unknown'}), so this merge cannot be made as planned. "
            "Check both records in Cliniko; a merge there cannot be undone. Back (or “Not the "
            "same person”) ends the merge step here."
        ),
    )


class ArchivedMeanwhile(MergeError):
    """A record of the merge was archived in Cliniko, not merged, while the merge waited (the
    old way of tidying a duplicate away): the merge cannot go on as planned until it is
    unarchived. Ids only. ``written``: MergeDesk has updated the record that stays (the merge
    step); before that (at Apply) nothing was written."""

    def __init__(self, patient_id: str, *, stays: bool, written: bool = True) -> None:
        which = "The record chosen to stay" if stays else "The record to tick"
        if written:
            then = "merge into it" if stays else "tick it on the merge page"
            advice = (
                f"Unarchive it in Cliniko (on its page), then {then}; MergeDesk goes on "
                "checking. Back (or “Not the same person”) puts back the values MergeDesk "
                "wrote to the record that stays."
            )
        else:
            advice = (
                "Nothing was written. Unarchive it in Cliniko (on its page), then press "
                "“Try again”; or Back, to plan the merge again."
            )
        super().__init__(
            "a record of the merge was archived",
            user_message=(
                f"{which} (id {patient_id}) was archived in Cliniko meanwhile, not merged. {advice}"
            ),
        )


class MergedIntoOther(MergeError):
    """A duplicate was merged in Cliniko, but into a different patient than the survivor."""

    def __init__(self, duplicate_id: str, target_id: str | None) -> None:
        """Ids only: which duplicate, and into which patient it went."""
        self.duplicate_id = duplicate_id
        self.target_id = target_id
        super().__init__(
            "a duplicate was merged into another patient",
            user_message=(
                f"The record with id {duplicate_id} was merged in Cliniko, but into a different "
                f"patient (id {target_id or 'unknown'}) than the one chosen to stay, so this "
                "merge cannot be made as planned. Check both records in Cliniko; a merge there "
                "cannot be undone. Back (or “Not the same person”) puts back the values "
                "MergeDesk wrote to the record that stays."
            ),
        )


class AlreadyMerged(StepError):
    """The pair (or a record of it) is already merged: there is nothing left to merge."""

    default_message = (
        "These records are already merged in Cliniko, so there is nothing left to merge. "
        "MergeDesk made no new plan for them."
    )


class RestoreNotApplied(MergeError):
    """Cliniko answered the restoring PATCH with success, but the old values did not come back."""

    def __init__(self, fields: Sequence[str]) -> None:
        """``fields``: names of the fields that still hold the values MergeDesk wrote."""
        self.fields = tuple(fields)
        super().__init__(
            f"restore read-back differs for {len(self.fields)} field(s): {', '.join(self.fields)}",
            user_message=(
                "MergeDesk asked Cliniko to put back the previous values of the record that "
                "stays, but when it read the record back these fields still had the new values: "
                f"{_labels(self.fields)}. Nothing has been merged. Press “Try again”; if it keeps "
                "happening, change these fields back in Cliniko by hand."
            ),
        )


@dataclass(frozen=True)
class UpdateResult:
    """What :func:`update_survivor` did: the fields sent, the survivor as stored, the hash."""

    sent_fields: tuple[str, ...]
    survivor: dict[str, Any]
    written_sha256: str


def update_survivor(
    client: ClinikoClient,
    plan: MergePlan,
    before_write: Callable[[Sequence[str]], None] | None = None,
    *,
    merged_already: bool = False,
) -> UpdateResult:
    """PATCH the survivor's changed fields, read it back, and compare hashes.

    Safe to repeat (after a crash): the body is computed against the survivor as Cliniko has
    it now, so fields already written are not sent again, and the check covers every decided
    field. ``before_write(field names)`` is called just before the PATCH is sent (the caller
    records its intent there, so a back-out knows the survivor may have changed).
    ``merged_already``: Cliniko merged the records the other way round, so duplicates merged
    into this survivor are expected (the plan turned to the record that stays).

    Raises:
        AlreadyMerged, MergedIntoOther: a duplicate is merged already (nothing written).
        SurvivorGone, SurvivorChanged: refused before writing.
        ArchivedMeanwhile: a record of the plan is archived in Cliniko (nothing written).
        WriteNotApplied: the read-back values differ from what was written.
        ClinikoError: the API failed (offline, 422, ...).
    """
    if plan.survivor_id is None:
        raise StepError("no survivor chosen")
    before = read_patient(client, plan.survivor_id)
    if before.get("merged_at"):
        raise SurvivorGone("survivor merged")
    if before.get("archived_at"):
        raise ArchivedMeanwhile(str(plan.survivor_id), stays=True, written=False)
    check_not_merged(
        client,
        plan.survivor_id,
        plan.duplicate_ids,
        into_survivor_ok=merged_already,
        archived_ok=False,
    )
    stale = stale_fields(plan, before)
    if stale:
        raise SurvivorChanged(stale, before)
    body = changed_fields(plan, before)
    if body:
        if before_write is not None:
            before_write(sorted(body))
        client.update_patient(plan.survivor_id, body)
    after = read_patient(client, plan.survivor_id) if body else before
    names = sorted(plan.decisions)
    country = str(after.get("country_code") or "AU")
    expected = values_sha256({n: plan.decisions[n] for n in names}, country)
    stored = fields_sha256(after, names)
    if expected != stored:
        raise WriteNotApplied(drifted_fields(plan, after) or names)
    return UpdateResult(tuple(sorted(body)), after, stored)


def check_not_merged(
    client: ClinikoClient,
    survivor_id: str,
    duplicate_ids: Sequence[str],
    *,
    into_survivor_ok: bool = False,
    into_other_ok: bool = False,
    archived_ok: bool = True,
) -> None:
    """Refuse when Cliniko shows a duplicate merged already: into the survivor (unless
    ``into_survivor_ok``), or into another patient (unless ``into_other_ok``); or archived
    (unless ``archived_ok``: Cliniko's merge page would not offer it).

    Raises:
        AlreadyMerged: a duplicate is merged into the survivor.
        MergedIntoOther: a duplicate is merged into another patient.
        ArchivedMeanwhile: a duplicate is archived, not merged.
    """
    for dup_id in duplicate_ids:
        record = read_patient(client, dup_id)
        if not record.get("merged_at"):
            if record.get("archived_at") and not archived_ok:
                raise ArchivedMeanwhile(str(dup_id), stays=False, written=False)
            continue
        target = merged_into(record)
        if target == str(survivor_id):
            if into_survivor_ok:
                continue
            raise AlreadyMerged(f"duplicate {dup_id} already merged into the survivor")
        if not into_other_ok:
            raise MergedIntoOther(str(dup_id), target)


@dataclass(frozen=True)
class RestoreResult:
    """What :func:`restore_survivor` did.

    Attributes:
        restored_fields: fields put back to the value they had before the update.
        left_fields: fields someone changed in Cliniko after the update (left as they are).
        survivor: the survivor as stored after the restore.
    """

    restored_fields: tuple[str, ...]
    left_fields: tuple[str, ...]
    survivor: dict[str, Any]


def restore_survivor(client: ClinikoClient, plan: MergePlan) -> RestoreResult:
    """Put the survivor's previous values back (the plan's ``base_values``) and verify them.

    Only fields that still hold the value MergeDesk wrote are restored: a field someone changed
    in Cliniko since is left alone (and named in the result). Safe to repeat.

    Raises:
        AlreadyMerged: Cliniko merged a duplicate into the survivor already (nothing written).
        RestoreNotApplied: the read-back still shows the written values.
        ClinikoError: the API failed.
    """
    if plan.survivor_id is None:
        raise StepError("no survivor chosen")
    try:
        # A duplicate merged into another patient leaves the record that stays unmerged: its
        # previous values can go back (else that plan could neither go back nor end).
        check_not_merged(client, plan.survivor_id, plan.duplicate_ids, into_other_ok=True)
    except AlreadyMerged as exc:
        raise AlreadyMerged(
            "merged in Cliniko before the restore",
            user_message=(
                "Cliniko has already merged a record of this merge, and a merge there cannot "
                "be undone, so MergeDesk leaves the record that stays as it is. The merge "
                "finishes once Cliniko shows every record of it merged."
            ),
        ) from exc
    now = read_patient(client, plan.survivor_id)
    if now.get("merged_at"):  # merged into another patient: nothing of it can change now
        return RestoreResult((), (), now)
    country = str(now.get("country_code") or "AU")
    body: dict[str, Any] = {}
    left: list[str] = []
    for name in sorted(plan.decisions):
        if name not in plan.base_values:
            continue
        base, current = plan.base_values[name], field_value(now, name)
        if same_value(name, current, base, country):
            continue
        if same_value(name, current, plan.decisions[name], country):
            body[name] = base
        else:
            left.append(name)
    if not body:
        return RestoreResult((), tuple(left), now)
    client.update_patient(plan.survivor_id, body)
    after = read_patient(client, plan.survivor_id)
    wrong = [n for n in body if not same_value(n, field_value(after, n), body[n], country)]
    if wrong:
        raise RestoreNotApplied(wrong)
    return RestoreResult(tuple(sorted(body)), tuple(left), after)


# ----------------------------------------------------------------------------- merge page


def is_loopback(url: str) -> bool:
    """True for a URL on this machine (the simulator)."""
    return is_loopback_host(urlsplit(url).hostname or "")


def merge_page_url(api_base_url: str, survivor_id: str, account: Account | None = None) -> str:
    """Where the person merges: the survivor's page in Cliniko's web app.

    Real Cliniko: ``https://<subdomain>.<shard>.cliniko.com/patients/<id>`` (press Merge
    there), from the account's subdomain and the key's shard. The simulator (a loopback API at
    ``.../v1``): its merge page ``<web root>/patients/<id>/merge``.

    Raises:
        MergeError: a real account whose subdomain or shard is unknown.
    """
    if is_loopback(api_base_url):
        root = api_base_url.rstrip("/")
        if root.endswith("/v1"):
            root = root[: -len("/v1")]
        return f"{root}/patients/{survivor_id}/merge"
    url = account.patient_page_url(survivor_id) if account else None
    if not url:
        raise MergeError("the clinic's web address (subdomain and shard) is unknown")
    return url


def display_name(record: Mapping[str, Any]) -> str:
    """The patient's full name as Cliniko labels it."""
    label = record.get("label")
    return shortened(readable(str(label))) if label else full_name(record)


def shown_phone(record: Mapping[str, Any]) -> str:
    """The phone number Cliniko's merge list shows for a patient: the first mobile, else the
    first number, else ""."""
    phones = [p for p in record.get("patient_phone_numbers") or [] if isinstance(p, Mapping)]
    mobiles = [p.get("number") for p in phones if p.get("phone_type") == "Mobile"]
    numbers = [n for n in (*mobiles, *(p.get("number") for p in phones)) if n]
    return str(numbers[0]) if numbers else ""


@dataclass(frozen=True)
class DuplicateToTick:
    """One record the person must tick on Cliniko's merge page, as that page shows it."""

    patient_id: str
    name: str
    date_of_birth: str
    phone: str = ""

    @property
    def described(self) -> str:
        """Name, birth date, phone and id, the way the row reads in Cliniko's list."""
        phone = f", mobile {self.phone}" if self.phone else ", no phone"
        return f"{self.name}, born {self.date_of_birth}{phone}, id {self.patient_id}"


@dataclass(frozen=True)
class MergeInstructions:
    """What to show at the "Merge in Cliniko" step: the page to open and exactly what to do.

    ``steps`` are the numbered actions (without their numbers); ``text`` is them numbered.
    """

    url: str
    survivor_id: str
    survivor_name: str
    duplicates: tuple[DuplicateToTick, ...]
    text: str
    steps: tuple[str, ...] = ()


# What Cliniko's own merge does (reference notes §8, §7): said before the merge step.
CLINIKO_MERGE_MOVES = (
    "Cliniko moves the appointments, treatment notes and invoices of each record you tick to "
    "the record that stays."
)
CLINIKO_MERGE_LIMITS = (
    "Cliniko's merge never overwrites a field of the record that stays (that is why MergeDesk "
    "updates those first), and a merge cannot be undone: a wrong merge means re-creating each "
    "patient merged by mistake by hand. Exactly which other items (attachments, letters and "
    "messages, group bookings) move is not documented by Cliniko; check them on the record "
    "that stays afterwards."
)


def merge_instructions(
    url: str, survivor: Mapping[str, Any], duplicates: Sequence[Mapping[str, Any]]
) -> MergeInstructions:
    """Build the numbered actions naming the survivor's page and each record to tick."""
    ticks = tuple(
        DuplicateToTick(
            str(d["id"]),
            display_name(d),
            display_value("date_of_birth", d.get("date_of_birth")) or "not recorded",
            shown_phone(d),
        )
        for d in duplicates
    )
    name = display_name(survivor)
    merge_page = url.endswith("/merge")
    steps = [
        f"Open {name}'s page in Cliniko (id {survivor['id']}) with the button below, or copy "
        "the link into your browser.",
        *(() if merge_page else ("Press Merge.",)),
        "Cliniko lists possible duplicates; several may share the name. Tick only "
        + ("this record:" if len(ticks) == 1 else "these records:")
        + "".join(f"\n   • {t.described}" for t in ticks),
        'Press "Merge patients". Do not tick any other record: a merge cannot be undone.',
        "Come back here: MergeDesk notices the merge by itself and then finishes.",
    ]
    text = "\n".join(f"{i}. {step}" for i, step in enumerate(steps, start=1))
    return MergeInstructions(url, str(survivor["id"]), name, ticks, text, tuple(steps))


# ----------------------------------------------------------------------------- polling


@dataclass(frozen=True)
class PollResult:
    """One look at the duplicates: which are merged into the survivor, which are not yet."""

    merged: tuple[str, ...]
    waiting: tuple[str, ...]
    records: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def done(self) -> bool:
        """True when every duplicate shows the merge."""
        return not self.waiting


def partly_merged_words(result: PollResult, ticks: Sequence[DuplicateToTick]) -> str:
    """What a look at a merge half done in Cliniko says: the records merged, those still to
    tick (a person who ticked another record by mistake also needs to hear it)."""
    merged = [t for t in ticks if t.patient_id in result.merged]
    left = [t for t in ticks if t.patient_id in result.waiting]
    done = "; ".join(f"{t.name} (id {t.patient_id})" for t in merged)
    return (
        f"Cliniko shows {done} merged, but not yet: "
        + "; ".join(t.described for t in left)
        + f". Tick {'it' if len(left) == 1 else 'them'} on the merge page and press “Merge "
        "patients”. If a record not named here was ticked instead, it is merged now too: a "
        "merge cannot be undone in Cliniko."
    )


def merged_other_way_words(
    gone: Mapping[str, Any], stays: Mapping[str, Any], fields: Sequence[str]
) -> str:
    """What to say when Cliniko merged the record chosen to stay (``gone``) into a duplicate
    (``stays``), the merge done from the duplicate's page; ``fields``: the values chosen that
    ``stays`` lacks."""
    gone_name, stays_name = display_name(gone), display_name(stays)
    said = (
        f"Cliniko merged these records the other way round: {gone_name} (id {gone['id']}) was "
        f"merged into {stays_name} (id {stays['id']}), which now stays in Cliniko with the "
        "appointments, notes and invoices of both, and its own details."
    )
    if not fields:
        return said + " It already has every value you chose. Press “Try again” to finish."
    return said + (
        f" It lacks values you chose: {_labels(fields)}. Press “Try again” to write them to "
        f"{stays_name} (id {stays['id']}); then MergeDesk finishes this merge."
    )


def merged_into(record: Mapping[str, Any]) -> str | None:
    """The id in ``merged_with_patient.links.self``, or None."""
    return linked_id(record.get("merged_with_patient"))


def poll_duplicates(
    client: ClinikoClient, survivor_id: str, duplicate_ids: Sequence[str]
) -> PollResult:
    """GET each duplicate (archived included) and see whether Cliniko merged it.

    Raises:
        MergedIntoOther: a duplicate was merged into another patient.
        ArchivedMeanwhile: a duplicate was archived in Cliniko, not merged.
        ClinikoError: the API failed.
    """
    merged: list[str] = []
    waiting: list[str] = []
    records: dict[str, dict[str, Any]] = {}
    for dup_id in duplicate_ids:
        record = read_patient(client, dup_id)
        records[str(dup_id)] = record
        if not record.get("merged_at"):
            if record.get("archived_at"):  # by someone in Cliniko: it cannot be ticked
                raise ArchivedMeanwhile(str(dup_id), stays=False)
            waiting.append(str(dup_id))
            continue
        target = merged_into(record)
        if target != str(survivor_id):
            raise MergedIntoOther(str(dup_id), target)
        merged.append(str(dup_id))
    return PollResult(tuple(merged), tuple(waiting), records)
