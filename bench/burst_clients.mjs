// Clients for bench/burst.py: N socket.io-client sockets (the pages' own library) in the hall
// room, spread round-robin over the given URLs. stdin: one JSON line {"urls": [...], "sockets": N,
// "hall": "ZMD"}; stdout: "ready <joined>", then on "stop" one JSON line of arrivals
// [[socket, event_name, ticket_number, arrived_ms, ts, sent_at, heard_at], ...].
import { createInterface } from "node:readline";
import { performance } from "node:perf_hooks";
import { io } from "socket.io-client";

const now = () => performance.timeOrigin + performance.now();
const lines = createInterface({ input: process.stdin });
const iterator = lines[Symbol.asyncIterator]();
const config = JSON.parse((await iterator.next()).value);
const arrivals = [];
let joined = 0;
const sockets = [];
const ready = new Promise((resolve) => {
  for (let i = 0; i < config.sockets; i += 1) {
    const url = config.urls[i % config.urls.length];
    const socket = io(url, { transports: ["websocket"], reconnection: false, timeout: 30000 });
    sockets.push(socket);
    socket.on("connect", () => socket.emit("join", { hall: config.hall }));
    socket.onAny((name, data) => {
      const arrived = now();
      if (name === "snapshot") {
        joined += 1;
        if (joined === config.sockets) resolve();
        return;
      }
      if (!name.startsWith("ticket.") || !data) return;
      arrivals.push([i, name, data.ticket_number, arrived, data.ts, data.sent_at, data.heard_at || null]);
    });
  }
  setTimeout(resolve, 30000);
});
await ready;
process.stdout.write(`ready ${joined}\n`);
for (;;) {
  const line = await iterator.next();
  if (line.done || line.value.trim() === "stop") break;
}
for (const s of sockets) s.close();
process.stdout.write(JSON.stringify(arrivals) + "\n", () => process.exit(0));
