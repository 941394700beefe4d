"""A page's Socket.IO traffic relayed through Playwright routes, with one change: the first
``snapshot`` the server sends is replaced by the error it sends for a join it cannot answer
(503: database busy or away), whether it travels by long-polling or by WebSocket."""

from __future__ import annotations

from typing import Any

REFUSAL = '42["error",{"error":"unavailable","message":"join again","status":503}]'


class RefuseFirstSnapshot:
    def __init__(self, page: Any) -> None:
        self.snapshots: list[str] = []  # every snapshot the server sent, the refused one first
        page.route("**/socket.io/**", self._polling)
        page.route_web_socket("**/socket.io/**", self._websocket)

    def relay(self, text: str) -> str:
        packets = text.split("\x1e")  # Engine.IO's separator of packets in one polling response
        for i, packet in enumerate(packets):
            if packet.startswith('42["snapshot"'):
                self.snapshots.append(packet)
                if len(self.snapshots) == 1:
                    packets[i] = REFUSAL
        return "\x1e".join(packets)

    def _polling(self, route: Any) -> None:
        response = route.fetch()
        route.fulfill(response=response, body=self.relay(response.text()))

    def _websocket(self, ws: Any) -> None:
        server = ws.connect_to_server()
        server.on_message(lambda m: ws.send(self.relay(m) if isinstance(m, str) else m))
