/* The hall board: who is called to which window, recent calls, waiting per service.
 *
 * Every snapshot rebuilds the whole picture (on load, after each reconnect, every ten
 * minutes); live events change it in between. Calls are announced from live events only,
 * once each (by event id), plus, after a reconnect, the calls made while the board was away
 * whose citizen is still being waited for. All lists are bounded: the board runs for days.
 *
 * For tests and for the curious, `window.hallBoard` shows the state: `announcements` (texts
 * in the order queued), `played`, `status`, `snapshots`.
 */
(function (root) {
  "use strict";

  const { pageData, connect, fitStage, clock, el } = root.HallLive;
  const { announcement, AnnouncementQueue, RecentKeys } = root.HallAnnounce;

  const RECENT_SIZE = 7;
  const FRESH_MS = 8000; // a new call blinks this long on its window
  const CATCH_UP_MS = 5 * 60 * 1000; // calls missed while away are said if this recent

  const data = pageData();
  const $ = (id) => document.getElementById(id);
  const hallClock = clock(data.hall.timezone, data.server_time);

  const state = {
    hall: data.hall,
    zone: data.zone,
    windows: new Map(), // "5" → {number, name, zone, state, paused_reason, current}
    queues: [],
    recent: [], // newest first
    fresh: new Map(), // window label → time its highlight ends
    seenCalls: new RecentKeys(300),
    day: null,
    segments: new Map(), // ticket number → {segment (from 0), segments} of a multi-service visit
  };

  const speaker = new root.HallSpeaker.Speaker({
    hall: data.hall.code,
    silent: data.silent,
    voice: data.voice,
    audioUrl: data.audio_url,
  });
  const queue = new AnnouncementQueue(speaker, {
    repeat: data.repeat,
    backlog: data.backlog,
    gapMs: data.silent ? 20 : 700,
    onStart: (item) => showNow(item, true),
    onDone: () => $("now").classList.remove("now--calling"),
  });

  const board = {
    announcements: queue.announcements,
    played: queue.played,
    queue,
    speaker,
    state,
    status: "connecting",
    snapshots: 0,
    events: 0,
  };
  root.hallBoard = board;

  // -- helpers --------------------------------------------------------------------------

  const inZone = (label) => {
    if (!state.zone) return true;
    const w = state.windows.get(String(label));
    return Boolean(w && w.zone === state.zone);
  };
  /* 无声叫号: a window of one of the hall's silent zones is called by SMS/WeChat/push only. */
  const isSilent = (label) => {
    const w = state.windows.get(String(label));
    return Boolean(w && (state.hall.silent_zones || []).includes(w.zone));
  };
  const onBoard = (label) => inZone(label) && !isSilent(label);
  const callKey = (c) => `${c.type}|${c.number}|${c.window}|${c.ts}`;
  const windowName = (label) => (state.windows.get(String(label)) || {}).name || "";
  /* "第 2 项,共 3 项" for a call of a multi-service ticket, else "". */
  const segmentText = (number, short = false) => {
    const seg = state.segments.get(number);
    if (!seg || seg.segments <= 1) return "";
    return short ? `${seg.segment + 1}/${seg.segments} 项` : `第 ${seg.segment + 1} 项,共 ${seg.segments} 项`;
  };

  function minutes(value) {
    return Math.max(0, Math.round(Number(value) || 0));
  }

  /* "8–15 分钟": the typical and the pessimistic wait of a new ticket, as the kiosks say it. */
  function estimateText(estimate) {
    if (!estimate) return "—";
    const low = minutes(estimate.median_minutes);
    const high = Math.max(low, minutes(estimate.p90_minutes));
    if (high <= 1) return "即到即办";
    if (low >= 120) return "2 小时以上";
    if (high > 120) return `${Math.max(low, 1)}–120+ 分钟`;
    return low === high ? `约 ${low} 分钟` : `${Math.max(low, 1)}–${high} 分钟`;
  }

  // -- rendering ------------------------------------------------------------------------

  function renderHall() {
    $("hall-name").textContent = state.hall.name_zh;
    $("hall-name-en").textContent = `${state.hall.name_en} · Now serving`;
    document.title = `${state.hall.name_zh}${state.zone ? " · " + state.zone : ""} · 叫号显示屏`;
    const notice = $("notice");
    if (notice.textContent !== (state.hall.notice || "")) {
      notice.textContent = state.hall.notice || "";
      fitNotice();
    }
  }

  function fitNotice() {
    const track = $("notice");
    const box = track.parentElement;
    track.classList.remove("notice-track--scroll");
    const overflow = track.scrollWidth - box.clientWidth;
    if (overflow > 0) {
      track.style.setProperty("--notice-from", `${box.clientWidth}px`);
      track.style.setProperty("--notice-to", `${-track.scrollWidth}px`);
      track.style.setProperty("--notice-seconds", `${Math.round((track.scrollWidth + box.clientWidth) / 90)}s`);
      track.classList.add("notice-track--scroll");
    }
  }

  function windowView(w) {
    const now = Date.now();
    const fresh = (state.fresh.get(String(w.number)) || 0) > now;
    if (w.state === "paused") return { kind: "paused", big: "暂停服务", sub: w.paused_reason || "" };
    if (w.state !== "open") return { kind: "closed", big: "未开放", sub: "" };
    if (isSilent(w.number)) return { kind: "silent", big: "无声叫号", sub: "请留意手机通知" };
    if (!w.current) return { kind: "idle", big: "空闲", sub: "等待叫号" };
    if (w.current.status === "called") {
      return { kind: "called", big: w.current.number, sub: "请到窗口", fresh };
    }
    return { kind: "serving", big: w.current.number, sub: "正在办理" };
  }

  function renderWindows() {
    const cards = [];
    const windows = [...state.windows.values()]
      .filter((w) => inZone(w.number))
      .sort((a, b) => a.number - b.number);
    for (const w of windows) {
      const view = windowView(w);
      const card = el("div", `win win--${view.kind}${view.fresh ? " win--fresh" : ""}`);
      card.dataset.window = w.number;
      const head = el("div", "win-head");
      head.append(el("span", "win-no", w.number), el("span", "win-unit", "号"), el("span", "win-name", w.name));
      const isTicket = view.kind === "called" || view.kind === "serving";
      card.append(head, el("div", isTicket ? "win-ticket" : "win-state", view.big), el("div", "win-sub", view.sub));
      cards.push(card);
    }
    const grid = $("windows");
    const n = cards.length;
    grid.dataset.size = n <= 4 ? "xl" : n <= 9 ? "l" : n <= 12 ? "m" : "s";
    grid.replaceChildren(...cards);
  }

  function renderRecent() {
    const rows = state.recent.map((call) => {
      const li = el("li", call.type === "ticket.recalled" ? "recent-recall" : "");
      li.dataset.number = call.number;
      li.append(
        el("span", "recent-ticket", call.number),
        el("span", "recent-desk", `${call.window} 号窗口`),
        el("span", "recent-name", windowName(call.window)),
        el("span", "recent-tag", call.type === "ticket.recalled" ? "重呼" : call.part || ""),
        el("time", "recent-time", hallClock.short(new Date(call.ts))),
      );
      return li;
    });
    if (rows.length === 0) rows.push(el("li", "recent-empty", "暂无叫号"));
    $("recent").replaceChildren(...rows);
  }

  function renderQueues() {
    const staffed = new Set(); // services some open (or briefly paused) window handles
    for (const w of state.windows.values()) {
      if (w.state !== "closed") w.skills.forEach((code) => staffed.add(code));
    }
    const skillsKnown = staffed.size > 0 || ![...state.windows.values()].some((w) => w.state !== "closed");
    const isStaffed = (code) => staffed.has(code) || !skillsKnown;
    let total = 0;
    const rows = state.queues
      .filter((q) => !state.zone || q.zone === state.zone)
      .map((q) => {
        total += q.waiting;
        const tr = el("tr", q.active ? "" : "queue-off");
        tr.dataset.service = q.code;
        const badge = el("td", "q-prefix");
        badge.append(el("span", "prefix", q.prefix));
        let estimate = estimateText(q.estimated_wait);
        if (!q.active) estimate = "暂停取号";
        else if (!isStaffed(q.code)) estimate = "窗口未开放";
        tr.append(
          badge,
          el("td", "q-name", q.name_zh),
          el("td", "q-waiting", q.active ? `${q.waiting} 人` : "—"),
          el("td", isStaffed(q.code) || !q.active ? "q-estimate" : "q-estimate q-unstaffed", estimate),
        );
        return tr;
      });
    $("queues").replaceChildren(...rows);
    $("queues").parentElement.dataset.size = rows.length <= 7 ? "l" : "s";
    $("waiting-total").textContent = String(total);
  }

  function showNow(call, calling) {
    const now = $("now");
    $("now-number").textContent = call.number;
    $("now-window").textContent = String(call.window);
    $("now-text").textContent = call.text || announcement(call.number, call.window)?.text || "";
    $("now-window-name").textContent = windowName(call.window);
    $("now-segment").textContent = call.segment ?? segmentText(call.number);
    now.dataset.state = calling ? "calling" : "shown";
    const recall = call.recall || call.type === "ticket.recalled";
    $("now-label").textContent = recall ? "再次呼叫" : "正在呼叫";
    $("now-label-en").textContent = recall ? "Calling again" : "Now calling";
    now.classList.remove("now--calling");
    if (calling) {
      void now.offsetWidth; // restart the animation for each call
      now.classList.add("now--calling");
    }
  }

  function renderStatus(status) {
    board.status = status;
    board.connected = status === "live";
    const away = status === "reconnecting" || (status === "connecting" && board.snapshots > 0);
    $("reconnect").hidden = !away;
    document.body.classList.toggle("is-away", away);
    const label = {
      live: "实时",
      connecting: "连接中",
      syncing: "同步中",
      reconnecting: "正在重新连接",
      error: "无法显示",
    }[status];
    $("status").dataset.state = status;
    $("status-text").textContent = label || status;
  }

  // -- live data ------------------------------------------------------------------------

  function normalizeWindow(w) {
    return {
      number: w.number,
      name: w.name,
      zone: w.zone,
      state: w.state,
      paused_reason: w.paused_reason,
      skills: (w.skills || []).map((skill) => skill.service),
      current: w.current_ticket ? { number: w.current_ticket.number, status: w.current_ticket.status } : null,
    };
  }

  function announce(call, id) {
    const item = announcement(call.number, call.window);
    if (!item) return;
    queue.enqueue({ ...item, id, type: call.type, recall: call.type === "ticket.recalled", ts: call.ts, segment: call.segment });
  }

  function onSnapshot(snapshot, count) {
    board.snapshots = count;
    state.hall = snapshot.hall;
    state.windows = new Map(snapshot.windows.map((w) => [String(w.number), normalizeWindow(w)]));
    state.queues = snapshot.queues;
    const calls = (snapshot.recent_calls || []).filter((c) => onBoard(c.window));
    if (count > 1) catchUp(calls);
    for (const call of calls) state.seenCalls.add(callKey(call));
    state.recent = calls.slice(0, RECENT_SIZE);
    if (!queue.current && state.recent.length && $("now").dataset.state === "idle") {
      showNow(state.recent[0], false);
    }
    state.day = hallClock.day(hallClock.now());
    renderHall();
    renderSilent();
    renderAll();
  }

  /* A board of a silent zone (?zone=) says so where the calls would be. */
  function renderSilent() {
    const silent = Boolean(state.zone) && (state.hall.silent_zones || []).includes(state.zone);
    $("silent-note").hidden = !silent;
    $("now").hidden = silent;
  }

  /* Calls made while the board was away, still waiting for their citizen: say them now. */
  function catchUp(calls) {
    const now = hallClock.now().getTime();
    const missed = calls
      .filter((c) => !state.seenCalls.has(callKey(c)) && now - Date.parse(c.ts) < CATCH_UP_MS)
      .filter((c) => {
        const w = state.windows.get(String(c.window));
        return w && w.current && w.current.number === c.number && w.current.status === "called";
      })
      .reverse(); // oldest first
    for (const call of missed) {
      state.fresh.set(String(call.window), Date.now() + FRESH_MS);
      announce(call, callKey(call));
    }
  }

  function onCall(message) {
    board.events += 1;
    const call = {
      type: message.type,
      number: message.ticket_number,
      window: message.window,
      ts: message.ts,
      service: message.service,
      segment: segmentText(message.ticket_number), // which service of the visit, as called
      part: segmentText(message.ticket_number, true),
    };
    if (!call.number || !call.window) return;
    const w = state.windows.get(String(call.window));
    if (w) w.current = { number: call.number, status: "called" };
    if (onBoard(call.window) && !state.seenCalls.has(callKey(call))) {
      state.seenCalls.add(callKey(call));
      state.recent.unshift(call);
      state.recent.length = Math.min(state.recent.length, RECENT_SIZE);
      state.fresh.set(String(call.window), Date.now() + FRESH_MS);
      setTimeout(renderWindows, FRESH_MS + 50);
      announce(call, message.event_id);
      renderRecent();
    }
    renderWindows();
  }

  function onTicket(message) {
    board.events += 1;
    const w = state.windows.get(String(message.window || ""));
    if (!w || !w.current || w.current.number !== message.ticket_number) return;
    if (message.type === "ticket.started") w.current = { number: message.ticket_number, status: "serving" };
    else w.current = null; // finished, no-show, transferred away
    state.fresh.delete(String(message.window));
    renderWindows();
  }

  /* A multi-service ticket: taken (its services) or moved on to its next service. */
  function onVisit(message) {
    board.events += 1;
    const payload = message.payload || {};
    const number = message.ticket_number;
    if (!number) return;
    if (message.type === "ticket.issued" && Array.isArray(payload.services)) {
      state.segments.set(number, { segment: 0, segments: payload.services.length });
    } else if (message.type === "ticket.next_service") {
      state.segments.set(number, { segment: payload.segment, segments: payload.segments });
    }
    if (state.segments.size > 500) state.segments.delete(state.segments.keys().next().value);
  }

  function onWindow(message) {
    board.events += 1;
    const w = state.windows.get(String(message.window || ""));
    if (!w) return;
    const kind = message.type || (message.payload && message.payload.type);
    if (kind === "window.opened" || kind === "window.resumed") {
      w.state = "open";
      w.paused_reason = null;
    } else if (kind === "window.paused") {
      w.state = "paused";
      w.paused_reason = (message.payload && message.payload.reason) || "";
    } else if (kind === "window.closed") {
      w.state = "closed";
      w.current = null;
      w.paused_reason = null;
    }
    renderWindows();
    renderQueues();
  }

  function onQueues(message) {
    if (message.hall && message.hall !== state.hall.code) return;
    state.queues = message.queues || [];
    renderQueues();
  }

  function renderAll() {
    renderWindows();
    renderRecent();
    renderQueues();
  }

  // -- start ----------------------------------------------------------------------------

  function tick() {
    const now = hallClock.now();
    $("clock-time").textContent = hallClock.time(now);
    $("clock-date").textContent = hallClock.date(now);
    if (state.day && hallClock.day(now) !== state.day) {
      state.day = hallClock.day(now);
      live.resync(); // a new business day: yesterday's calls leave the board
    }
    setTimeout(tick, 1000 - (Date.now() % 1000) + 5);
  }

  function offerSound() {
    const hint = $("audio-hint");
    hint.hidden = !speaker.needsGesture();
    if (hint.hidden) return;
    const unlock = () => {
      speaker.unlock();
      hint.hidden = true;
    };
    document.addEventListener("pointerdown", unlock, { once: true });
    document.addEventListener("keydown", unlock, { once: true });
  }

  fitStage($("stage"));
  renderHall();
  renderAll();
  const live = connect({
    join: { hall: data.hall.code },
    onSnapshot,
    onStatus: renderStatus,
    handlers: {
      "ticket.called": onCall,
      "ticket.recalled": onCall,
      "ticket.started": onTicket,
      "ticket.finished": onTicket,
      "ticket.no_show": onTicket,
      "ticket.transferred": onTicket,
      "ticket.issued": onVisit,
      "ticket.next_service": onVisit,
      "window.changed": onWindow,
      "queue.changed": onQueues,
    },
  });
  board.live = live;
  tick();
  offerSound();
  fitNotice();
  if (document.fonts) document.fonts.ready.then(fitNotice);
  root.addEventListener("resize", fitNotice);
})(window);
