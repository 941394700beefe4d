/* Hall display: what the board and the window screens share.
 *
 * - HallLive.connect: a Socket.IO connection that joins its room on every (re)connect, so every
 *   reconnect brings a fresh snapshot; it reports "connecting" / "reconnecting" / "live".
 * - HallLive.fitStage: the screen is designed at a fixed size (1920×1080, 640×160) and scaled
 *   to whatever display it runs on, letterboxed, so it looks the same on every screen.
 * - HallLive.clock: the hall's date and time in the hall's own time zone, corrected by the
 *   server's clock (a display PC's clock is often wrong).
 */
(function (root) {
  "use strict";

  const RESYNC_MS = 10 * 60 * 1000; // a fresh snapshot every 10 minutes, whatever happens
  const SNAPSHOT_WAIT_MS = 8000; // joined but no snapshot yet: ask again
  const RETRY_MS = 1500; // a join answered 503: ask again after this

  function pageData() {
    const node = document.getElementById("display-data");
    return node ? JSON.parse(node.textContent) : {};
  }

  function connect({ join, onSnapshot, onStatus, handlers }) {
    const socket = root.io({
      reconnection: true,
      reconnectionDelay: 500,
      reconnectionDelayMax: 3000,
      randomizationFactor: 0.3,
      timeout: 8000,
    });
    let snapshotWait = null;
    let snapshots = 0;

    function askForSnapshot() {
      clearTimeout(snapshotWait);
      socket.emit("join", join);
      snapshotWait = setTimeout(() => {
        if (socket.connected) askForSnapshot();
      }, SNAPSHOT_WAIT_MS);
    }

    socket.on("connect", () => {
      onStatus(snapshots ? "syncing" : "connecting");
      askForSnapshot();
    });
    socket.on("disconnect", () => {
      clearTimeout(snapshotWait);
      onStatus("reconnecting");
    });
    socket.on("connect_error", () => onStatus(snapshots ? "reconnecting" : "connecting"));
    socket.on("snapshot", (snapshot) => {
      clearTimeout(snapshotWait);
      snapshots += 1;
      onSnapshot(snapshot, snapshots);
      onStatus("live");
    });
    socket.on("error", (error) => {
      clearTimeout(snapshotWait);
      if (error && error.status === 503) {
        // The server is busy or its database away for a moment: ask again soon.
        snapshotWait = setTimeout(() => {
          if (socket.connected) askForSnapshot();
        }, RETRY_MS);
        onStatus(snapshots ? "syncing" : "connecting");
        return;
      }
      onStatus("error", error);
    });
    for (const [name, handler] of Object.entries(handlers || {})) socket.on(name, handler);
    setInterval(() => {
      if (socket.connected) askForSnapshot();
    }, RESYNC_MS);
    return { socket, resync: () => socket.connected && askForSnapshot() };
  }

  function fitStage(stage) {
    const width = Number(stage.dataset.width);
    const height = Number(stage.dataset.height);
    function fit() {
      const scale = Math.min(root.innerWidth / width, root.innerHeight / height);
      stage.style.transform = `translate(-50%, -50%) scale(${scale})`;
    }
    root.addEventListener("resize", fit);
    fit();
  }

  function clock(timeZone, serverTime) {
    const offset = serverTime ? serverTime - Date.now() : 0;
    const zone = timeZone || "Asia/Shanghai";
    const formats = {
      time: new Intl.DateTimeFormat("zh-CN", {
        timeZone: zone, hour: "2-digit", minute: "2-digit", second: "2-digit", hourCycle: "h23",
      }),
      short: new Intl.DateTimeFormat("zh-CN", {
        timeZone: zone, hour: "2-digit", minute: "2-digit", hourCycle: "h23",
      }),
      date: new Intl.DateTimeFormat("zh-CN", {
        timeZone: zone, year: "numeric", month: "long", day: "numeric", weekday: "long",
      }),
      day: new Intl.DateTimeFormat("en-CA", { timeZone: zone }),
    };
    return {
      now: () => new Date(Date.now() + offset),
      time: (d) => formats.time.format(d),
      short: (d) => formats.short.format(d),
      date: (d) => formats.date.format(d),
      day: (d) => formats.day.format(d), // 2026-11-26: the hall's business date
    };
  }

  function el(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = text;
    return node;
  }

  root.HallLive = { pageData, connect, fitStage, clock, el };
})(window);
