"""好差评 commands: rate each service of a finished visit (with its indicators, reasons and one
追评), invite a rating, and work the follow-up case of a bad review to its deadlines."""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Row
from sqlalchemy.exc import IntegrityError

from queue_engine.adapters import citizen_records as bookings
from queue_engine.adapters import evaluation_store as store
from queue_engine.adapters import repository as repo
from queue_engine.adapters import visit_store
from queue_engine.adapters.unit_of_work import Database, UnitOfWork
from queue_engine.domain.access import Actor
from queue_engine.domain.case_deadlines import (
    case_deadlines,
    check_rectification_rating,
    effective_rectification_rating,
    overdue,
    parse_rectification,
)
from queue_engine.domain.errors import Conflict, Forbidden, InvalidInput, NotFound
from queue_engine.domain.evaluation_rules import (
    EvaluationRules,
    RectificationRating,
    check_follow_up,
    check_indicators,
    check_reasons,
)
from queue_engine.domain.evaluations import (
    HANDOVER_CHANNEL,
    KEY_CHANNELS,
    MAX_KEY_LENGTH,
    CaseAction,
    CaseStatus,
    CaseView,
    RatingChannel,
    check_comment,
    check_score,
    choose_supervisor,
    is_bad_review,
    is_overdue,
    key_channel,
    may_rate_visit,
    next_status,
    parse_action,
    rating_key,
    require_evaluator,
    window_rating_channel,
)
from queue_engine.domain.events import DomainEvent, EventType
from queue_engine.domain.model import HallConfig, Ticket, TicketStatus, format_number
from queue_engine.domain.visits import SegmentStatus, Visit
from queue_engine.services.desk import Desk
from queue_engine.services.notices import NoticeQueue
from queue_engine.services.tickets import QueueEngine

EVALUATOR_MINUTES = 15  # how long after finishing the window's evaluator still offers a rating
VISIT_LOOKBACK = timedelta(days=1)  # a window's current visit was called within the last day
SOURCES = frozenset(RatingChannel) | {"ticket", "api"}  # "ticket", "api": ratings of old
INVITED = frozenset({RatingChannel.INVITATION, RatingChannel.RATE_LATER})


@dataclass(frozen=True)
class Evaluation:
    id: int
    ticket_id: str
    ticket_number: str
    score: int
    comment: str
    case_id: int | None
    channel: str = "api"
    segment: int = 0
    indicators: dict[str, int] | None = None
    reasons: tuple[str, ...] = ()


@dataclass(frozen=True)
class Rating:
    """What a rating carries besides its level: the hall's indicators and the bad-review
    reasons (both validated against the hall's rules), and the service segment it rates."""

    segment: int = 0
    indicators: dict[str, Any] | None = None
    reasons: tuple[str, ...] = ()


def _key_hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def segments_of(ticket: Ticket, visit: Visit | None = None) -> list[str]:
    """The services of a visit, one rating each (一次一评): one segment for a one-service ticket."""
    return list(visit.services) if visit is not None else [ticket.service]


def rateable(ticket: Ticket, visit: Visit | None, segment: int) -> bool:
    """A service segment is rated once it is finished: a multi-service ticket's earlier
    services while the citizen goes on to the next, a plain ticket when it is done."""
    if visit is not None and len(visit.segments) > 1:
        return visit.segments[segment].status is SegmentStatus.DONE
    return ticket.status is TicketStatus.DONE


@dataclass(frozen=True)
class PendingRating:
    """What a window's evaluator offers: the service segment of a visit just finished."""

    ticket: Ticket
    segment: int
    service: str
    segments: int


class EvaluationDesk(Desk):
    """Ratings and follow-up cases of every hall in one database.

    ``secret`` keys the tickets' rating keys (``domain.evaluations.rating_key``); every process
    of a deployment must hold the same one (bootstrap derives it from the PII pepper).
    ``notices`` (the outbox's queue) sends the ``rating_invite`` notice of an invitation, with
    the ticket page's address under ``public_url`` and the invitation's key in its fragment.
    """

    def __init__(
        self,
        engine: QueueEngine,
        secret: bytes,
        notices: NoticeQueue | None = None,
        public_url: str = "",
    ) -> None:
        if len(secret) < 16:
            raise ValueError("the rating secret must be at least 16 bytes")
        self.engine = engine
        self.db: Database = engine.db
        self.secret = secret
        self.notices = notices
        self.public_url = public_url.rstrip("/")

    # -- rating keys -------------------------------------------------------------------------

    def rating_key(self, ticket_id: str, channel: RatingChannel) -> str:
        """The key the citizen gets with the ticket (the slip's QR code, an online answer)."""
        if channel not in KEY_CHANNELS:
            raise ValueError(f"no rating key is made for the channel {channel}")
        return rating_key(self.secret, ticket_id, channel)

    def holder_key(self, ticket_id: str, ticket_channel: str) -> str:
        """The key for the holder of a ticket taken by ``ticket_channel`` (kiosk, app, …)."""
        return self.rating_key(ticket_id, HANDOVER_CHANNEL.get(ticket_channel, RatingChannel.APP))

    def key_channel(self, ticket_id: str, key: str | None) -> RatingChannel:
        """Which hand-over's key this is (``Forbidden`` for a wrong or missing key)."""
        return key_channel(self.secret, ticket_id, key)

    # -- rating ------------------------------------------------------------------------------

    def evaluate(
        self,
        ticket_id: str,
        score: int,
        comment: str | None = None,
        source: str = "api",
        rating: Rating | None = None,
    ) -> Evaluation:
        """Rate a service of a finished ticket, once; a rating of 1 or 2 opens a follow-up case.

        The caller has checked who rates: ``evaluate_with_key`` and ``evaluate_window`` are
        the doors of the web; this is the desk behind them (and the CLI's and the tests').
        """
        score, text = check_score(score), check_comment(comment)
        try:
            with self.unit() as uow:
                row = repo.get_ticket_row(uow.conn, ticket_id)
                config = self.db.hall_config_by_id(uow.conn, row.hall_id)
                result = self._rate(uow, row.hall_id, config, row, score, text, source, rating)
                self.engine.bus.commit(uow)
                return result
        except IntegrityError:
            raise Conflict("this visit has already been rated", code="already_rated") from None

    def evaluate_with_key(
        self,
        ticket_id: str,
        key: str | None,
        score: int,
        comment: str | None = None,
        rating: Rating | None = None,
    ) -> Evaluation:
        """The citizen's rating with the ticket's rating key; the key tells the channel.

        An invitation's key (SMS/push link, the clerk's "rate later") rates only a visit that
        was invited that way.
        """
        segment = (rating or Rating()).segment
        channel = self.checked_key(ticket_id, key, segment, rating=True)
        return self.evaluate(ticket_id, score, comment, source=channel, rating=rating)

    def checked_key(
        self, ticket_id: str, key: str | None, segment: int = 0, *, rating: bool = False
    ) -> RatingChannel:
        """The channel of a citizen's key for this ticket (404 unknown ticket, 403 wrong key).

        An invitation's key counts for the service segments invited that way, and a
        ``rating`` with it only until the invitation expires (403 ``invitation_expired``;
        a 追评 or the rectification's rating of a rating made in time still counts)."""
        with UnitOfWork(self.db, write=False) as uow:
            repo.get_ticket_row(uow.conn, ticket_id)  # 404 before anything is said of keys
            channel = self.key_channel(ticket_id, key)
            if channel in INVITED:
                sent = store.invitation(uow.conn, ticket_id, segment)
                if sent is None or sent.channel != channel:
                    raise Forbidden("this visit was not invited to be rated", code="rating_key")
                expires = sent.expires_at
                if rating and expires is not None and self.engine.clock.now() >= expires:
                    raise Forbidden("this rating invitation has expired", code="invitation_expired")
        return channel

    def is_rated(self, ticket_id: str, segment: int = 0) -> bool:
        with UnitOfWork(self.db, write=False) as uow:
            return bookings.evaluation_of(uow.conn, ticket_id, segment) is not None

    def rules(self, hall: str) -> EvaluationRules:
        """The hall's 好差评 rules (indicators, reasons, deadlines, cards)."""
        with UnitOfWork(self.db, write=False) as uow:
            hall_id, _ = self.db.hall_config(uow.conn, hall)
            return store.rules(uow.conn, hall_id)

    def set_rules(self, hall: str, data: dict[str, Any], by: str) -> EvaluationRules:
        rules = EvaluationRules.from_mapping(data)
        with self.unit() as uow:
            hall_id, _ = self.db.hall_config(uow.conn, hall)
            store.save_rules(uow.conn, hall_id, rules, by, self.engine.clock.now())
            uow.commit()
        return rules

    # -- 追评, invitations, the rectification's rating -----------------------------------------

    def follow_up(
        self, ticket_id: str, key: str | None, comment: str | None, segment: int = 0
    ) -> Evaluation:
        """追评: the citizen adds to a rating once, within the hall's days (default 15)."""
        self.checked_key(ticket_id, key, segment)
        text = check_comment(comment)
        if not text:
            raise InvalidInput("a follow-up rating says something")
        now = self.engine.clock.now()
        with self.unit() as uow:
            row = self._evaluation_row(uow, ticket_id, segment)
            rules = store.rules(uow.conn, row.hall_id)
            check_follow_up(row.created_at, now, row.follow_up_at is not None, rules)
            if not store.save_follow_up(uow.conn, row.id, text, now):
                raise Conflict("this rating already has its follow-up", code="already_followed_up")
            uow.commit()
        return self._evaluation(row)

    def follow_up_open(self, ticket_id: str, segment: int = 0) -> bool:
        """Whether this service's rating may still take its 追评 (the ticket page's card)."""
        now = self.engine.clock.now()
        with UnitOfWork(self.db, write=False) as uow:
            row = bookings.evaluation_of(uow.conn, ticket_id, segment)
            if row is None:
                return False
            rules = store.rules(uow.conn, row.hall_id)
        try:
            check_follow_up(row.created_at, now, row.follow_up_at is not None, rules)
        except Conflict:
            return False
        return True

    def invite(self, ticket_id: str, channel: RatingChannel, by: str, segment: int = 0) -> bool:
        """Record a rating invitation (SMS/push link, or the clerk's "rate later") and send its
        ``rating_invite`` notice when the citizen left a contact (True: a notice was queued).

        One invitation per service segment: a "rate later" of a visit already invited by SMS
        sends nothing again, it only takes the visit off the window's evaluator."""
        if channel not in INVITED:
            raise ValueError(f"{channel} is no invitation channel")
        with self.unit() as uow:
            row = repo.get_ticket_row(uow.conn, ticket_id)
            config = self.db.hall_config_by_id(uow.conn, row.hall_id)
            found = visit_store.load_visit(uow.conn, ticket_id)
            visit = None if found is None else found.visit
            ticket = repo.ticket_from_row(row, config)
            if not 0 <= segment < len(segments_of(ticket, visit)) or not rateable(
                ticket, visit, segment
            ):
                raise Conflict("only a finished visit is invited to rate", code="not_finished")
            if bookings.evaluation_of(uow.conn, ticket_id, segment) is not None:
                raise Conflict("this visit has already been rated", code="already_rated")
            now = self.engine.clock.now()
            sent = store.invitation(uow.conn, ticket_id, segment)
            if sent is not None:
                if channel is RatingChannel.RATE_LATER and store.mark_left(
                    uow.conn, ticket_id, segment, now
                ):
                    uow.commit()  # invited by SMS already: one invitation, one notice
                    return False
                raise Conflict("this visit has been invited already", code="already_invited")
            self._record_invitation(uow, row.hall_id, ticket_id, segment, channel, by)
            queued = self._tell_invitation(uow, config.code, ticket, segment, channel)
            uow.commit()
            return queued

    def invite_on_finish(self, uow: UnitOfWork, e: DomainEvent) -> str | None:
        """The SMS/push invitation of a service just finished, inside the finish's unit of
        work: recorded (and its link given, for the ``rating_invite`` notice) only when the
        citizen left a contact and the segment is not invited yet. It leaves the visit on the
        window's evaluator (the citizen may still rate there)."""
        assert e.ticket_id is not None
        segment = e.payload.get("segment", 0)
        segment = segment if isinstance(segment, int) and not isinstance(segment, bool) else 0
        if self.notices is None or not self.notices.reachable(uow, self._refs(uow, e.ticket_id)):
            return None
        if store.invitation(uow.conn, e.ticket_id, segment) is not None:
            return None
        hall_id = repo.get_ticket_row(uow.conn, e.ticket_id).hall_id
        channel = RatingChannel.INVITATION
        self._record_invitation(uow, hall_id, e.ticket_id, segment, channel, "system")
        return self.invitation_link(e.ticket_id, channel)

    def invitation_link(self, ticket_id: str, channel: RatingChannel) -> str:
        """The short link of an invitation, ``/r/<key>`` (keeps the SMS to one part); it
        redirects to the ticket page with the key in its fragment (``invitation_ticket``)."""
        return f"{self.public_url}/r/{self.rating_key(ticket_id, channel)}"

    def invitation_ticket(self, key: str) -> str:
        """The ticket an invitation's key was sent for (404 for a key no invitation has).

        The key is found by its SHA-256, kept with the invitation; the key itself is made
        again from the secret (HMAC), never stored."""
        if not key or len(key) > MAX_KEY_LENGTH:
            raise NotFound("no such rating invitation")
        with UnitOfWork(self.db, write=False) as uow:
            row = store.invitation_by_key_hash(uow.conn, _key_hash(key))
        if row is None or not hmac.compare_digest(
            self.rating_key(row.ticket_id, RatingChannel(row.channel)), key
        ):
            raise NotFound("no such rating invitation")
        return str(row.ticket_id)

    def _record_invitation(
        self,
        uow: UnitOfWork,
        hall_id: int,
        ticket_id: str,
        segment: int,
        channel: RatingChannel,
        by: str,
    ) -> None:
        now = self.engine.clock.now()
        days = store.rules(uow.conn, hall_id).invitation_days
        store.insert_invitation(
            uow.conn,
            {
                "ticket_id": ticket_id,
                "segment": segment,
                "channel": channel.value,
                "created_at": now,
                "created_by": by,
                "expires_at": now + timedelta(days=days),
                "left_at": now if channel is RatingChannel.RATE_LATER else None,
                "key_hash": _key_hash(self.rating_key(ticket_id, channel)),
            },
        )

    def _refs(self, uow: UnitOfWork, ticket_id: str) -> list[tuple[str, str]]:
        assert self.notices is not None
        booking = bookings.by_ticket(uow.conn, ticket_id)
        return self.notices.refs(None if booking is None else booking.code, ticket_id)

    def _tell_invitation(
        self, uow: UnitOfWork, hall: str, ticket: Ticket, segment: int, channel: RatingChannel
    ) -> bool:
        if self.notices is None:
            return False
        params = {
            "number": ticket.number,
            "window": ticket.window_label or "",
            "link": self.invitation_link(ticket.id, channel),
        }
        key = f"rating_invite:{ticket.id}:{segment}"
        refs = self._refs(uow, ticket.id)
        return (
            self.notices.tell(uow, "rating_invite", hall=hall, refs=refs, params=params, key=key)
            > 0
        )

    def rate_later(self, window_id: int, *, by: Actor) -> str:
        """The clerk's "rate later" for a citizen who left before rating at the window: the
        window's current visit is invited by link and no longer offered on the evaluator."""
        pending = self.pending_segment_at_window(window_id)
        if pending is None:
            raise Conflict("no finished visit to rate at this window", code="nothing_to_rate")
        if self.pending_at_window(window_id, by=by) is None:
            raise Forbidden(
                "only the clerk who has the window open and served the visit invites it",
                code="not_window_evaluator",
            )
        self.invite(pending.ticket.id, RatingChannel.RATE_LATER, by.username, pending.segment)
        return pending.ticket.id

    def rate_rectification(
        self, ticket_id: str, key: str | None, value: str, segment: int = 0
    ) -> CaseView:
        """The citizen rates how the problem was put right: 满意, 基本满意 or 不满意."""
        self.checked_key(ticket_id, key, segment)
        rating = parse_rectification(value)
        now = self.engine.clock.now()
        with self.unit() as uow:
            row = self._evaluation_row(uow, ticket_id, segment)
            case = store.case_of_evaluation(uow.conn, row.id)
            if case is None:
                raise NotFound("this rating has no follow-up case")
            rules = store.rules(uow.conn, row.hall_id)
            check_rectification_rating(
                case.resolved_at, case.rectification_rating is not None, now, rules
            )
            values = {"rectification_rating": rating.value, "rectification_rated_at": now}
            if not bookings.save_case(uow.conn, case.id, case.version, updated_at=now, **values):
                raise Conflict("the case was changed meanwhile; try again")
            uow.commit()
        return self.case(case.id)

    def rectification_open(self, ticket_id: str, segment: int = 0) -> bool:
        """Whether the citizen may rate the rectification of this visit's bad review now
        (the ticket page shows its card; the ``rectified`` notice links there)."""
        now = self.engine.clock.now()
        with UnitOfWork(self.db, write=False) as uow:
            row = bookings.evaluation_of(uow.conn, ticket_id, segment)
            case = None if row is None else store.case_of_evaluation(uow.conn, row.id)
            if row is None or case is None:
                return False
            rules = store.rules(uow.conn, row.hall_id)
        try:
            check_rectification_rating(
                case.resolved_at, case.rectification_rating is not None, now, rules
            )
        except Conflict:
            return False
        return True

    def _evaluation_row(self, uow: UnitOfWork, ticket_id: str, segment: int) -> Row[Any]:
        row = bookings.evaluation_of(uow.conn, ticket_id, segment)
        if row is None:
            raise NotFound("this visit has not been rated")
        return row

    @staticmethod
    def _evaluation(row: Row[Any]) -> Evaluation:
        return Evaluation(
            row.id,
            row.ticket_id,
            "",
            row.score,
            row.comment,
            None,
            row.source,
            row.segment,
            row.indicators or None,
            tuple(row.reasons or ()),
        )

    def evaluate_window(
        self,
        window_id: int,
        score: int,
        comment: str | None = None,
        *,
        by: Actor,
        rating: Rating | None = None,
    ) -> Evaluation:
        """Rate the window's current visit from its evaluator screen (``by`` is the session).

        The window's row is locked while the visit is chosen and rated, so a call at the
        window cannot slip in between and make an older visit look current.
        """
        score, text = check_score(score), check_comment(comment)
        try:
            with self.unit() as uow:
                record = repo.load_window(uow.conn, window_id, lock=True)
                device, window_clerk = record.row.evaluator_device, record.row.clerk
                require_evaluator(by, device, window_clerk)
                current = self._current_visit(uow, record)
                if current is None:
                    raise Conflict(
                        "no finished visit to rate at this window", code="nothing_to_rate"
                    )
                row, segment, served_by = current
                channel = window_rating_channel(by, device, window_clerk, served_by)
                config = self.db.hall_config_by_id(uow.conn, record.hall_id)
                rating = replace(rating or Rating(), segment=segment)  # the service just done
                result = self._rate(uow, record.hall_id, config, row, score, text, channel, rating)
                self.engine.bus.commit(uow)
                return result
        except IntegrityError:
            raise Conflict("this visit has already been rated", code="already_rated") from None

    def pending_at_window(self, window_id: int, by: Actor | None = None) -> Ticket | None:
        """The window's current visit that waits for a rating, if any (and if ``by``, the
        session asking, may rate it: other sessions see nothing to rate)."""
        pending = self.pending_segment_at_window(window_id, by)
        return None if pending is None else pending.ticket

    def pending_segment_at_window(
        self, window_id: int, by: Actor | None = None
    ) -> PendingRating | None:
        """The service segment the window has just finished and that waits for its rating."""
        with UnitOfWork(self.db, write=False) as uow:
            record = repo.load_window(uow.conn, window_id, lock=False)
            current = self._current_visit(uow, record)
            if current is None:
                return None
            row, segment, served_by = current
            device, window_clerk = record.row.evaluator_device, record.row.clerk
            if by is not None and may_rate_visit(by, device, window_clerk, served_by) is None:
                return None
            config = self.db.hall_config_by_id(uow.conn, record.hall_id)
            ticket = repo.ticket_from_row(row, config)
            found = visit_store.load_visit(uow.conn, ticket.id)
            services = segments_of(ticket, None if found is None else found.visit)
            return PendingRating(ticket, segment, services[segment], len(services))

    def _current_visit(
        self, uow: UnitOfWork, record: repo.WindowRecord
    ) -> tuple[Row[Any], int, str | None] | None:
        """The ticket, segment and clerk of the service the window has just finished, if
        nobody has been called there since, it ended within ``EVALUATOR_MINUTES`` and it is
        not rated (nor invited) yet. From the event log: a visit of several services leaves
        the window for its next service at once."""
        if record.row.current_ticket_id is not None:
            return None  # somebody is at the window (called or being served) now
        now = self.engine.clock.now()
        hall = self.db.hall_config_by_id(uow.conn, record.hall_id).code
        since = now - timedelta(minutes=EVALUATOR_MINUTES)
        finish = store.latest_finish_at_window(uow.conn, hall, str(record.row.number), since)
        if finish is None:
            return None
        last = bookings.latest_visit_at_window(uow.conn, record.row.id, now - VISIT_LOOKBACK)
        if last is not None and last.id != finish.ticket_id and last.called_at > finish.ts:
            return None  # somebody else was called here since (and did not come)
        row = repo.get_ticket_row(uow.conn, finish.ticket_id)
        if bookings.evaluation_of(uow.conn, row.id, finish.segment) is not None:
            return None
        invited = store.invitation(uow.conn, row.id, finish.segment)
        if invited is not None and invited.left_at is not None:
            return None  # the clerk's "rate later": the citizen left (an SMS invite stays here)
        return row, finish.segment, finish.clerk

    def _rate(
        self,
        uow: UnitOfWork,
        hall_id: int,
        config: HallConfig,
        row: Row[Any],
        score: int,
        comment: str,
        source: str,
        rating: Rating | None = None,
    ) -> Evaluation:
        now = self.engine.clock.now()
        rating = rating or Rating()
        ticket = repo.ticket_from_row(row, config)
        found = visit_store.load_visit(uow.conn, ticket.id)
        visit = None if found is None else found.visit
        services = segments_of(ticket, visit)
        if isinstance(rating.segment, bool) or not 0 <= rating.segment < len(services):
            raise InvalidInput(f"this visit has {len(services)} service(s) to rate")
        if not rateable(ticket, visit, rating.segment):
            raise Conflict("only a finished service can be rated", code="not_finished")
        # the window and clerk of the segment rated (a visit of several moves between windows)
        finish = store.segment_finishes(uow.conn, ticket.id).get(rating.segment)
        window = ticket.window_label if finish is None else finish.window
        clerk = ticket.clerk if finish is None else finish.clerk
        rules = store.rules(uow.conn, hall_id)
        indicators = check_indicators(rating.indicators, rules)
        reasons = check_reasons(score, rating.reasons, rules)
        if bookings.evaluation_of(uow.conn, ticket.id, rating.segment) is not None:
            raise Conflict("this visit has already been rated", code="already_rated")
        channel = source if source in SOURCES else "api"
        event = ticket.evaluated_event(score, comment, now, channel, segment_done=True)
        extra = {"segment": rating.segment, "indicators": indicators, "reasons": reasons}
        payload = {**event.payload, **extra}
        service = services[rating.segment]
        uow.record(replace(event, payload=payload, service=service, window=window, clerk=clerk))
        evaluation_id = bookings.insert_evaluation(
            uow.conn,
            {
                "ticket_id": ticket.id,
                "segment": rating.segment,
                "indicators": indicators,
                "reasons": reasons,
                "hall_id": hall_id,
                "service": services[rating.segment],
                "window": window,
                "clerk": clerk,
                "score": score,
                "comment": comment,
                "source": channel,
                "created_at": now,
                "excluded": False,
            },
        )
        case_id = None
        if is_bad_review(score):
            case_id = self._open_case(uow, hall_id, config, ticket, evaluation_id, now, rules)
        return Evaluation(
            evaluation_id,
            ticket.id,
            ticket.number,
            score,
            comment,
            case_id,
            channel,
            rating.segment,
            indicators or None,
            tuple(reasons),
        )

    def _open_case(
        self,
        uow: UnitOfWork,
        hall_id: int,
        config: HallConfig,
        ticket: Ticket,
        evaluation_id: int,
        now: datetime,
        rules: EvaluationRules,
    ) -> int:
        fallback = bookings.settings(uow.conn, hall_id).follow_up_working_days
        deadlines = case_deadlines(config.business_date(now), rules, fallback)
        deadline = deadlines.rectify
        supervisor = choose_supervisor(bookings.supervisor_loads(uow.conn, hall_id))
        case_id = bookings.insert_case(
            uow.conn,
            {
                "hall_id": hall_id,
                "evaluation_id": evaluation_id,
                "status": CaseStatus.OPEN.value,
                "supervisor": supervisor,
                "opened_at": now,
                "deadline": deadline,
                "callback_deadline": deadlines.callback,
                "updated_at": now,
                "note": "",
            },
        )
        uow.record(
            case_event(
                EventType.CASE_OPENED,
                config.code,
                ticket,
                now,
                case=case_id,
                deadline=deadline.isoformat(),
                callback_deadline=deadlines.callback.isoformat(),
                supervisor=supervisor,
            )
        )
        return case_id

    # -- follow-up cases ---------------------------------------------------------------------

    def cases(self, hall: str, *, include_final: bool = True) -> list[CaseView]:
        with UnitOfWork(self.db, write=False) as uow:
            hall_id, config = self.db.hall_config(uow.conn, hall)
            rows = bookings.cases(uow.conn, hall_id, include_final)
            rules = store.rules(uow.conn, hall_id)
            appeals = store.latest_appeals(uow.conn, [r.id for r in rows])
            return [self._case_view(r, config, rules, appeals.get(r.id)) for r in rows]

    def overdue_cases(self, hall: str) -> list[CaseView]:
        return [c for c in self.cases(hall, include_final=False) if c.overdue]

    def case(self, case_id: int) -> CaseView:
        with UnitOfWork(self.db, write=False) as uow:
            row = bookings.case_by_id(uow.conn, case_id) if 0 < case_id < 2**31 else None
            if row is None:
                raise NotFound(f"no case {case_id}")
            config = self.db.hall_config_by_id(uow.conn, row.hall_id)
            appeal = store.latest_appeals(uow.conn, [case_id]).get(case_id)
            return self._case_view(row, config, store.rules(uow.conn, row.hall_id), appeal)

    def act(
        self,
        case_id: int,
        action: str,
        actor: str,
        note: str = "",
        rerating: int | None = None,
    ) -> CaseView:
        """Move a case on: call-back (回访), rectify (整改), explain (解释说明, closes it) or close
        (with the supervisor's record of the citizen's re-rating). Appeals: ``AppealDesk``."""
        kind = parse_action(action)
        now = self.engine.clock.now()
        with self.unit() as uow:
            row = bookings.case_by_id(uow.conn, case_id, lock=True) if 0 < case_id < 2**31 else None
            if row is None:
                raise NotFound(f"no case {case_id}")
            config = self.db.hall_config_by_id(uow.conn, row.hall_id)
            status = next_status(CaseStatus(row.status), kind, note, rerating)
            local = now.astimezone(config.zone)  # notes are read by people in the hall
            notes = row.note + (
                f"\n[{local:%Y-%m-%d %H:%M}] {actor}: {note.strip()}" if note else ""
            )
            values: dict[str, Any] = {"status": status.value, "updated_at": now, "note": notes}
            values.update(_action_values(kind, now))
            if rerating is not None:
                values["rerating"] = rerating
            if not bookings.save_case(uow.conn, case_id, row.version, **values):
                raise Conflict("the case was changed meanwhile; reload it")
            ticket = repo.ticket_from_row(repo.get_ticket_row(uow.conn, row.ticket_id), config)
            payload: dict[str, Any] = {"case": case_id, "from": row.status, "to": status.value}
            if kind is CaseAction.EXPLAIN:
                payload["explanation"] = note.strip()
            if rerating is not None:
                payload["rerating"] = rerating
            uow.record(case_event(EventType.CASE_CHANGED, config.code, ticket, now, **payload))
            self.engine.bus.commit(uow)
        return self.case(case_id)

    def _case_view(
        self, row: Row[Any], config: HallConfig, rules: EvaluationRules, appeal: str | None
    ) -> CaseView:
        status = CaseStatus(row.status)
        now = self.engine.clock.now()
        today = config.business_date(now)
        called_back = (
            None if row.called_back_at is None else config.business_date(row.called_back_at)
        )
        rated = (
            None
            if row.rectification_rating is None
            else RectificationRating(row.rectification_rating)
        )
        final = status in (CaseStatus.CLOSED, CaseStatus.EXCLUDED)
        effective = effective_rectification_rating(rated, row.resolved_at, now, rules)
        return CaseView(
            id=row.id,
            hall=config.code,
            ticket_number=format_number(row.prefix, row.seq),
            service=row.service,
            window=row.window,
            score=row.score,
            comment=row.comment,
            status=status,
            supervisor=row.supervisor,
            opened_at=row.opened_at,
            deadline=row.deadline,
            overdue=is_overdue(status, row.deadline, today) and row.resolved_at is None,
            note=row.note,
            rerating=row.rerating,
            callback_deadline=row.callback_deadline,
            called_back_at=row.called_back_at,
            callback_overdue=not final and overdue(called_back, row.callback_deadline, today),
            resolution=row.resolution,
            resolved_at=row.resolved_at,
            rectification_rating=None if effective is None else effective.value,
            clerk=row.clerk,
            reasons=tuple(row.reasons or ()),
            appeal=appeal,
        )


def _action_values(kind: CaseAction, now: datetime) -> dict[str, Any]:
    """What a case action stamps: when the citizen was called back, when it was resolved."""
    if kind is CaseAction.CALL_BACK:
        return {"called_back_at": now}
    if kind is CaseAction.RECTIFY:
        return {"resolution": "rectified", "resolved_at": now}
    if kind is CaseAction.EXPLAIN:
        return {"resolution": "explained", "resolved_at": now}
    return {}


def case_event(
    kind: EventType, hall: str, ticket: Ticket, now: datetime, **payload: Any
) -> DomainEvent:
    return DomainEvent(
        type=kind,
        hall=hall,
        ts=now,
        ticket_id=ticket.id,
        ticket_number=ticket.number,
        service=ticket.service,
        window=ticket.window_label,
        payload=payload,
    )
