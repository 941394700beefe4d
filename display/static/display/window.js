/* A window's own screen: its number and name, the ticket called or served, pauses, the clerk.
 *
 * The window's Socket.IO room says what changes, at once; the screen's JSON
 * (/display/api/windows/<id>) then confirms the whole state, with the clerk's display name
 * that the live events do not carry. `window.windowScreen` shows the state to tests.
 */
(function (root) {
  "use strict";

  const { pageData, connect, fitStage, clock } = root.HallLive;
  const data = pageData();
  const $ = (id) => document.getElementById(id);
  const hallClock = clock(data.screen.hall.timezone, data.server_time);
  const screenUrl = data.screen_url;

  const screen = { state: data.screen, status: "connecting", snapshots: 0 };
  root.windowScreen = screen;
  let refresh = null;

  function view(s) {
    if (s.state === "paused") {
      return { kind: "paused", message: "暂停服务", sub: s.paused_reason ? `暂停原因:${s.paused_reason}` : "请稍候" };
    }
    if (s.state !== "open") return { kind: "closed", message: "暂停服务", sub: "本窗口暂未开放,请到其他窗口办理" };
    if (!s.current) return { kind: "idle", message: "欢迎光临", sub: "请留意叫号" };
    if (s.current.status === "called") {
      return { kind: "called", message: `请 ${s.current.number} 号`, sub: "请到本窗口办理" };
    }
    return { kind: "serving", message: `正在办理 ${s.current.number}`, sub: s.current.service_name || "" };
  }

  function render() {
    const s = screen.state;
    const v = view(s);
    const stage = $("stage");
    stage.dataset.state = v.kind;
    $("w-number").textContent = String(s.number);
    $("w-name").textContent = s.name;
    $("w-message").textContent = v.message;
    $("w-sub").textContent = v.sub;
    $("w-clerk").textContent = s.clerk_name && s.state !== "closed" ? `工作人员:${s.clerk_name}` : "";
    document.title = `${s.number} 号窗口 · ${s.name}`;
  }

  /* Ask the server for the whole state soon (several events in a row: once). */
  function confirm() {
    clearTimeout(refresh);
    refresh = setTimeout(async () => {
      try {
        const response = await fetch(screenUrl, { headers: { Accept: "application/json" } });
        if (response.ok) {
          screen.state = await response.json();
          render();
        }
      } catch (error) {
        /* keep what we show; the next event or snapshot asks again */
      }
    }, 150);
  }

  function onSnapshot(snapshot, count) {
    screen.snapshots = count;
    const w = snapshot.window;
    const same = screen.state.current && w.current_ticket && screen.state.current.number === w.current_ticket.number;
    screen.state = {
      ...screen.state,
      state: w.state,
      paused_reason: w.paused_reason,
      current: w.current_ticket
        ? { ...(same ? screen.state.current : {}), number: w.current_ticket.number, status: w.current_ticket.status }
        : null,
    };
    render();
    confirm();
  }

  function onEvent(message) {
    const s = screen.state;
    const kind = message.type || (message.payload && message.payload.type);
    if (kind === "ticket.called" || kind === "ticket.recalled") {
      s.current = { number: message.ticket_number, status: "called" };
      restartFlash();
    } else if (kind === "ticket.started") {
      s.current = { ...(s.current || {}), number: message.ticket_number, status: "serving" };
    } else if (["ticket.finished", "ticket.no_show", "ticket.transferred"].includes(kind)) {
      if (s.current && s.current.number === message.ticket_number) s.current = null;
    } else if (kind === "window.opened" || kind === "window.resumed") {
      s.state = "open";
      s.paused_reason = null;
    } else if (kind === "window.paused") {
      s.state = "paused";
      s.paused_reason = (message.payload && message.payload.reason) || "";
    } else if (kind === "window.closed") {
      s.state = "closed";
      s.current = null;
      s.clerk_name = null;
    }
    render();
    confirm();
  }

  function restartFlash() {
    const message = $("w-message");
    message.classList.remove("w-flash");
    void message.offsetWidth;
    message.classList.add("w-flash");
  }

  function onStatus(status) {
    screen.status = status;
    $("reconnect").hidden = !(status === "reconnecting" || (status === "connecting" && screen.snapshots > 0));
  }

  function tick() {
    $("w-clock").textContent = hallClock.short(hallClock.now());
    setTimeout(tick, 1000 - (Date.now() % 1000) + 5);
  }

  fitStage($("stage"));
  render();
  tick();
  const handlers = {};
  for (const name of ["ticket.called", "ticket.recalled", "ticket.started", "ticket.finished",
    "ticket.no_show", "ticket.transferred", "window.changed"]) {
    handlers[name] = onEvent;
  }
  screen.live = connect({ join: { window: data.window_id }, onSnapshot, onStatus, handlers });
})(window);
