"""One order for every live event, on every server process: Redis' order.

python-socketio's Redis manager hands an event to the emitting process's own clients at once
and publishes it for the others. Two events emitted at the same moment by two processes can
then reach the clients of one process in one order and those of another in the other order
(and a ticket's ``called`` can overtake its ``issued`` on the caller's process). Here every
process, the emitter included, delivers what it reads from the channel, so all clients see
one sequence. While Redis is unreachable an event is delivered locally instead of nowhere.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import redis
import socketio

log = logging.getLogger(__name__)

# Marks our messages so that the emitting process's listener delivers them too
# (python-socketio skips messages carrying its own host id).
ORDERED_HOST = "hall-ordered"


class OrderedRedisManager(socketio.RedisManager):  # type: ignore[misc]
    _publisher: redis.Redis | None = None
    # Told of every event this process delivers (read from Redis, or local while Redis is
    # down), so that the live refresher knows which halls changed anywhere in the cluster.
    delivered: Callable[[str, Any], None] | None = None

    def emit(
        self,
        event: str,
        data: Any,
        namespace: str | None = None,
        room: Any = None,
        skip_sid: Any = None,
        callback: Any = None,
        to: Any = None,
        **kwargs: Any,
    ) -> Any:
        room = to or room
        plain = callback is None and not kwargs.get("ignore_queue")
        payload = list(data) if isinstance(data, tuple) else [data]
        if not plain or socketio.packet.Packet.data_is_binary(payload):
            return super().emit(
                event,
                data,
                namespace=namespace,
                room=room,
                skip_sid=skip_sid,
                callback=callback,
                **kwargs,
            )
        message = {
            "method": "emit",
            "event": event,
            "data": payload,
            "binary": False,
            "namespace": namespace or "/",
            "room": room,
            "skip_sid": skip_sid,
            "callback": None,
            "host_id": ORDERED_HOST,
        }
        if not self._send(message):  # Redis is down: this process's clients still hear it
            self._handle_emit(message)
        return None

    def _handle_emit(self, message: dict[str, Any]) -> Any:
        data = message.get("data")
        if data and isinstance(data[0], dict) and "sent_at" in data[0]:
            data[0]["heard_at"] = datetime.now(UTC).isoformat()  # stage timing (bench/burst.py)
        result = super()._handle_emit(message)
        hook = self.delivered
        if hook is not None and message.get("host_id") == ORDERED_HOST:
            try:
                hook(message["event"], message["data"])
            except Exception:  # the listener thread must keep delivering
                log.exception("delivery hook failed")
        return result

    def _send(self, message: dict[str, Any]) -> bool:
        """Publish on a client of our own (redis-py reconnects it by itself): True if sent."""
        if self._publisher is None:
            self._publisher = redis.Redis.from_url(self.redis_url, **self.redis_options)
        try:
            self._publisher.publish(self.channel, self.json.dumps(message))
        except (redis.RedisError, OSError) as exc:
            log.warning("live event not published (%s): delivered on this process only", exc)
            return False
        return True


def client_manager(url: str | None, channel: str) -> Any:
    """The Socket.IO client manager for a message queue URL (None: this process only)."""
    if not url:
        return None
    if url.startswith(("redis://", "rediss://")):
        options = {"socket_connect_timeout": 2}
        return OrderedRedisManager(url, channel=channel, redis_options=options)
    return socketio.KombuManager(url, channel=channel)
