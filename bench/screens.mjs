// Live screens for bench/load.py: K Socket.IO clients (the same socket.io-client the hall's
// pages load) in one Node event loop, so that measuring pushes costs the machine little and no
// Python interpreter lock sits between an arrival and its timestamp.
//
// stdin, one JSON line: {"url": "http://127.0.0.1:PORT", "rooms": [{"hall": "ZMD"}, {"ticket": ID}, ...]}
// stdout: "ready <joined>" once every screen has its snapshot (or after 30 s); then, when stdin
// says "stop" (or closes), one JSON line with the figures.
import { createInterface } from "node:readline";
import { performance } from "node:perf_hooks";
import { io } from "socket.io-client";

const PUBLIC = ["ticket.", "window."];
const failures = {}; // why screens failed: reason → count
const fail = (s, reason) => {
  s.errors += 1;
  failures[reason] = (failures[reason] || 0) + 1;
};
const now = () => performance.timeOrigin + performance.now(); // wall clock, sub-millisecond

function screen(url, room) {
  const s = { room, latencies: [], sinceChange: [], ids: new Set(), errors: 0, retries: 0, joined: false };
  const socket = io(url, { transports: ["websocket"], reconnection: false, timeout: 30000 });
  s.socket = socket;
  socket.on("connect", () => socket.emit("join", room));
  socket.on("connect_error", (error) => {
    fail(s, `connect_error: ${error.message}`);
    s.done?.();
  });
  socket.on("disconnect", (reason) => {
    if (!s.stopping) fail(s, `disconnect: ${reason}`);
  });
  socket.on("error", (error) => {
    if (error && error.status === 503) {
      // Busy for a moment: join again, as the hall's pages do (counted, not a failure).
      s.retries += 1;
      setTimeout(() => socket.emit("join", room), 1500);
      return;
    }
    fail(s, `error: ${JSON.stringify(error)}`);
  });
  socket.onAny((name, data) => {
    const arrived = now();
    if (name === "snapshot") {
      s.joined = true;
      s.done?.();
      return;
    }
    if (!PUBLIC.some((p) => name.startsWith(p)) || !data || data.event_id === undefined) return;
    s.ids.add(String(data.event_id));
    s.sinceChange.push(arrived - Date.parse(data.ts));
    if (data.sent_at) s.latencies.push(arrived - Date.parse(data.sent_at));
  });
  s.ready = new Promise((resolve) => { s.done = resolve; });
  return s;
}

const lines = createInterface({ input: process.stdin });
const iterator = lines[Symbol.asyncIterator]();
const config = JSON.parse((await iterator.next()).value);
const screens = config.rooms.map((room) => screen(config.url, room));
await Promise.race([
  Promise.all(screens.map((s) => s.ready)),
  new Promise((resolve) => setTimeout(resolve, 30000)),
]);
for (const s of screens) {
  if (!s.joined) fail(s, s.socket.connected ? "joined, no snapshot in 30 s" : "not connected in 30 s");
}
process.stdout.write(`ready ${screens.filter((s) => s.joined).length}\n`);

for (;;) {
  const line = await iterator.next();
  if (line.done || line.value.trim() === "stop") break;
}
const boards = screens.filter((s) => s.room.hall !== undefined);
const every = new Set();
for (const s of boards) for (const id of s.ids) every.add(id);
let missed = 0;
for (const s of boards) missed += every.size - s.ids.size;
const round = (values) => values.map((v) => Math.round(v * 100) / 100);
const figures = JSON.stringify({
  sockets: screens.length,
  latencies: round(screens.flatMap((s) => s.latencies)),
  since_change: round(screens.flatMap((s) => s.sinceChange)),
  events: every.size,
  missed,
  socket_errors: screens.reduce((n, s) => n + s.errors, 0),
  failures,
  join_retries: screens.reduce((n, s) => n + s.retries, 0),
});
for (const s of screens) {
  s.stopping = true;
  s.socket.close();
}
// A pipe is written asynchronously: leave once the figures are out.
process.stdout.write(figures + "\n", () => process.exit(0));
