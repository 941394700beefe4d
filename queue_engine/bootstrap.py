"""The composition root: the database, the bus, every desk, their subscriptions and timers.

Like opening the hall in the morning: the ledger (database) is unlocked, the announcement
system (bus) switched on, each counter (desk) staffed, the listeners told what to listen for,
and the clocks on the wall (periodic jobs) wound. It happens here, in this order, once, for
the web app, the command line, the demo, the workers and the tests alike; nothing else wires
desks together, so nothing depends on the order blueprints are registered in.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, cast

from queue_engine.adapters.channels import Channels, build_channels
from queue_engine.adapters.log_notifier import LogNotifier
from queue_engine.adapters.pii_crypto import PiiCipher, new_key_spec
from queue_engine.adapters.unit_of_work import Database
from queue_engine.domain.access import AuditEntry
from queue_engine.domain.clock import Clock, SystemClock
from queue_engine.domain.events import EventType
from queue_engine.domain.identity import subkey
from queue_engine.domain.notices import Notifier
from queue_engine.domain.outbox import DeliveryRules
from queue_engine.services.accounts import AccountDesk
from queue_engine.services.admin import AdminDesk
from queue_engine.services.appeals import AppealDesk
from queue_engine.services.appointments import MOVES_QUEUE_FORWARD, AppointmentDesk, TurnNotices
from queue_engine.services.bus import MessageBus
from queue_engine.services.catalogue import CatalogueDesk
from queue_engine.services.counter import CounterDesk
from queue_engine.services.efficiency import SWEEP_SECONDS, EfficiencyDesk
from queue_engine.services.escalations import CardNotices, StaffContactDesk
from queue_engine.services.evaluation_reports import EvaluationReports
from queue_engine.services.evaluations import EvaluationDesk
from queue_engine.services.integrations import CaseNumbers, ClientDesk, WebhookDesk
from queue_engine.services.notices import CaseNotices, NoticeQueue, TicketNotices
from queue_engine.services.outbox import DeliveryLog, DeliveryWorker, Outbox, purge_contacts
from queue_engine.services.plans import PlanBook
from queue_engine.services.push import PushDesk
from queue_engine.services.supervision import SupervisionDesk
from queue_engine.services.tickets import QueueEngine
from queue_engine.services.visits import VisitDesk

log = logging.getLogger(__name__)

APPOINTMENT_CHORES_SECONDS = 30.0  # the no-show sweep and the reminders
SUPERVISION_FULL_SECONDS = 15.0  # every hall's alerts, even those nothing happened in
PURGE_SECONDS = 3600.0  # ciphertexts past their visit + N days


@dataclass
class PeriodicJob:
    """A chore run every ``every`` seconds by whoever drives the timers (a server's loop)."""

    name: str
    every: float
    run: Callable[[bool], None]  # run(full): full is True on the job's own period
    _due: float = 0.0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def tick(self, force: bool = False) -> None:
        """Run the job: a full round when it is due (or forced), a light one otherwise."""
        with self._lock:
            now = time.monotonic()
            full = force or now >= self._due
            if full:
                self._due = now + self.every
        try:
            self.run(full)
        except Exception:  # a chore never breaks the loop that happened to run it
            log.exception("periodic job %s failed", self.name)


# The desks that record a staff request's audit entry with their changes (``acting``).
ACTING_DESKS = frozenset(
    {
        "engine",
        "accounts",
        "admin",
        "appointments",
        "evaluations",
        "supervision",
        "visits",
        "counter",
        "appeals",
        "efficiency",
        "deliveries",
        "staff_contacts",
        "clients",
        "webhooks",
        "cases",
        "catalogue",
        "plans",
    }
)


class _Acting:
    """``HallServices`` acting for one audit entry: each desk made on its first use."""

    def __init__(self, services: HallServices, entry: AuditEntry) -> None:
        self._services = services
        self._entry = entry

    def __getattr__(self, name: str) -> Any:
        value = getattr(self._services, name)
        if name in ACTING_DESKS:
            value = value.acting(self._entry)
        self.__dict__[name] = value  # once per request and desk
        return value

    def acting(self, entry: AuditEntry | None) -> HallServices:
        return self._services.acting(entry)


@dataclass
class HallServices:
    """Everything a caller of the service layer needs, built once by ``bootstrap``."""

    db: Database
    bus: MessageBus
    clock: Clock
    engine: QueueEngine
    accounts: AccountDesk
    admin: AdminDesk
    appointments: AppointmentDesk
    evaluations: EvaluationDesk
    supervision: SupervisionDesk
    notifier: Notifier
    visits: VisitDesk
    counter: CounterDesk

    appeals: AppealDesk
    efficiency: EfficiencyDesk
    evaluation_reports: EvaluationReports
    outbox: Outbox
    channels: Channels
    deliveries: DeliveryLog
    push: PushDesk  # Web Push opt-ins of citizens' pages (issue 17)
    staff_contacts: StaffContactDesk  # staff addresses for escalation cards (issue 19)
    clients: ClientDesk  # API clients, webhooks and case numbers (issue 20)
    webhooks: WebhookDesk
    cases: CaseNumbers
    catalogue: CatalogueDesk  # 实施编码 and departments of services
    plans: PlanBook  # the planner's kept plans (issue 21)
    jobs: list[PeriodicJob] = field(default_factory=list)

    def worker(self, name: str = "worker", batch: int = 20) -> DeliveryWorker:
        """A delivery worker on this database and these channels (a thread or ``hall worker``)."""
        return DeliveryWorker(self.db, self.outbox, self.channels, name=name, batch=batch)

    def acting(self, entry: AuditEntry | None) -> HallServices:
        """The same desks, recording ``entry`` (a staff request) with the changes they commit.

        Each desk is made for ``entry`` when it is first used: a request uses one or two of
        them, and copying all of them for every staff request cost 2 % of the server's CPU
        under the peer workload (issue 16).
        """
        if entry is None:
            return self
        return cast(HallServices, _Acting(self, entry))

    def run_jobs(self, force: bool = False) -> None:
        """Give every periodic job its turn (each decides whether a full round is due)."""
        for job in self.jobs:
            job.tick(force)

    def close(self) -> None:
        self.db.dispose()


def bootstrap(
    database_url: str,
    *,
    pepper: bytes,
    clock: Clock | None = None,
    notifier: Notifier | None = None,
    cipher: PiiCipher | None = None,
    channels: Channels | None = None,
    rules: DeliveryRules | None = None,
    public_url: str = "",
    pool_size: int = 10,
    max_overflow: int = 10,
    webhook_disable_after: int = 10,
    webhook_timeout: float = 10.0,
    webhook_allow_private: bool = True,
) -> HallServices:
    """Build the service layer on one database: desks, bus subscriptions, periodic jobs."""
    db = Database(database_url, pool_size=pool_size, max_overflow=max_overflow)
    clock = clock or SystemClock()
    bus = MessageBus()
    notifier = notifier or LogNotifier()
    engine = QueueEngine(db, clock, bus)
    appointments = AppointmentDesk(engine, pepper, notifier)
    # Without a configured key (tests, tools) a key of this process only: rows it seals are
    # readable by its own workers, which is all such a caller has.
    cipher = cipher or PiiCipher(new_key_spec("mem"))
    outbox = Outbox(cipher, clock, rules)
    notices = NoticeQueue(outbox, pepper=pepper)
    engine.keep_contact = notices.ticket_contact
    appointments.notices = notices
    supervision = SupervisionDesk(engine)
    efficiency = EfficiencyDesk(engine)
    admin = AdminDesk(db, clock)
    webhooks = WebhookDesk(
        engine,
        outbox,
        cipher,
        disable_after=webhook_disable_after,
        timeout=webhook_timeout,
        allow_private=webhook_allow_private,
    )
    channels = channels or build_channels({})
    if isinstance(channels, Channels):  # issue 20's webhooks, signed per Standard Webhooks
        channels.by_name["hook"] = webhooks.channel
        channels.providers["hook"] = "standard-webhooks"
    services = HallServices(
        db=db,
        bus=bus,
        clock=clock,
        engine=engine,
        accounts=AccountDesk(db, clock),
        admin=admin,
        appointments=appointments,
        evaluations=EvaluationDesk(
            engine, subkey(pepper, "rating-keys"), notices=notices, public_url=public_url
        ),
        supervision=supervision,
        notifier=notifier,
        visits=VisitDesk(engine, pepper),
        counter=CounterDesk(engine),
        appeals=AppealDesk(engine),
        efficiency=efficiency,
        evaluation_reports=EvaluationReports(db, clock, efficiency),
        outbox=outbox,
        channels=channels,
        deliveries=DeliveryLog(db, clock),
        push=PushDesk(engine, appointments, notices=notices),
        staff_contacts=StaffContactDesk(admin, notices, pepper),
        clients=ClientDesk(engine),
        webhooks=webhooks,
        cases=CaseNumbers(engine),
        catalogue=CatalogueDesk(engine),
        plans=PlanBook(db, clock),
    )
    invite = services.evaluations.invite_on_finish
    bus.within(TicketNotices(notices, public_url, invite), *TicketNotices.KINDS)
    bus.within(CardNotices(notices), EventType.CARD_ISSUED)
    case_notices = CaseNotices(notices, _rating_link(services.evaluations, public_url))
    bus.within(case_notices, EventType.CASE_OPENED, EventType.CASE_CHANGED)
    bus.within(webhooks, when=webhooks.interested)
    bus.subscribe(TurnNotices(appointments), *MOVES_QUEUE_FORWARD)
    bus.subscribe(supervision.note_changes)
    services.jobs += [
        PeriodicJob("appointments", APPOINTMENT_CHORES_SECONDS, _appointment_chores(appointments)),
        PeriodicJob("supervision", SUPERVISION_FULL_SECONDS, supervision.tick),
        PeriodicJob("efficiency cards", SWEEP_SECONDS, _on_full(efficiency.sweep_all)),
        PeriodicJob("pii purge", PURGE_SECONDS, _on_full(_purge(db, clock))),
    ]
    return services


def _rating_link(evaluations: EvaluationDesk, public_url: str) -> Callable[[str, str], str]:
    """The ticket page with the holder's rating key in its fragment (never sent to a server)."""
    base = public_url.rstrip("/")

    def link(ticket_id: str, ticket_channel: str) -> str:
        return f"{base}/t/{ticket_id}#k={evaluations.holder_key(ticket_id, ticket_channel)}"

    return link


def _on_full(chore: Callable[[bool], None]) -> Callable[[bool], None]:
    """A chore that runs on its own period only (not on every light tick of the loop)."""

    def run(full: bool) -> None:
        if full:
            chore(full)

    return run


def _appointment_chores(desk: AppointmentDesk) -> Callable[[bool], None]:
    def chores(full: bool) -> None:
        if full:  # the sweep and the reminders are cheap but need not run every second
            desk.sweep()
            desk.send_reminders()

    return chores


def _purge(db: Database, clock: Clock) -> Callable[[bool], None]:
    def chore(full: bool) -> None:
        purge_contacts(db, clock)

    return chore
