/* The supervisor dashboard: windows, queues, KPIs, alerts and charts, kept live over Socket.IO.
   Ticket and window events from the hall room trigger a (debounced) reload of the board;
   alerts and the day's figures arrive in the supervisors' own room. */
(function () {
  "use strict";
  var H = window.Hall, data = H.data, t = H.t;
  var en = H.lang === "en";
  var board = null, alerts = {}, figures = null, waitingTotal = 0;
  var grid = document.getElementById("window-grid");
  var queueRows = document.getElementById("queue-rows");
  var alertList = document.getElementById("alert-list");
  var charts = {};

  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined && text !== null) node.textContent = text;
    return node;
  }

  function serviceName(code) {
    var s = data.services[code];
    return s ? (en ? s.en : s.zh) : code;
  }

  function minutesSince(iso) {
    return iso ? (Date.now() - new Date(iso).getTime()) / 60000 : 0;
  }

  /* -- windows --------------------------------------------------------------------------- */
  function level(minutes, limit) {
    if (!limit) return "ok";
    if (minutes >= limit) return "red";
    if (minutes >= 0.75 * limit) return "amber";
    return "ok";
  }

  function windowCard(w) {
    var card = el("article", "sv-win");
    card.dataset.state = w.state;
    card.dataset.window = w.number;
    var head = el("div", "sv-win__head");
    head.appendChild(el("span", "sv-win__num", String(w.number)));
    head.appendChild(el("span", "sv-win__name", w.name));
    card.appendChild(head);
    var body = el("div", "sv-win__body");
    var ticket = w.current_ticket;
    var timer = el("span", "sv-win__timer");
    if (w.state === "paused") {
      body.appendChild(el("span", "sv-win__ticket sv-win__ticket--muted", w.paused_reason || t("states.paused")));
      timer.dataset.since = w.since || "";
      timer.dataset.limit = board.paused_minutes;
    } else if (ticket) {
      body.appendChild(el("span", "sv-win__ticket", ticket.number));
      body.appendChild(el("span", "sv-win__status", ticket.status === "serving" ? t("serving") : t("called")));
      timer.dataset.since = ticket.started_at || ticket.called_at || "";
      timer.dataset.limit = ticket.started_at ? ticket.limit_minutes : 3;
    } else if (w.state === "open") {
      body.appendChild(el("span", "sv-win__ticket sv-win__ticket--muted", t("idle")));
      timer.dataset.since = w.since || "";
      timer.dataset.limit = board.idle_minutes;
    } else {
      body.appendChild(el("span", "sv-win__ticket sv-win__ticket--muted", t("states.closed")));
    }
    body.appendChild(timer);
    card.appendChild(body);
    card.appendChild(el("div", "sv-win__clerk", w.clerk || "—"));
    return card;
  }

  function tickTimers() {
    Array.prototype.forEach.call(document.querySelectorAll(".sv-win__timer"), function (node) {
      var since = node.dataset.since;
      if (!since) { node.textContent = ""; return; }
      node.textContent = H.elapsed(since);
      var card = node.closest(".sv-win");
      card.dataset.level = level(minutesSince(since), Number(node.dataset.limit) || 0);
    });
    var clockNode = document.getElementById("sv-clock");
    if (clockNode) clockNode.textContent = H.clock(new Date().toISOString());
  }

  function renderBoard() {
    grid.textContent = "";
    board.windows.forEach(function (w) { grid.appendChild(windowCard(w)); });
    grid.setAttribute("aria-busy", "false");
    queueRows.textContent = "";
    waitingTotal = 0;
    board.queues.forEach(function (q) {
      waitingTotal += q.waiting;
      var tr = el("tr");
      tr.dataset.service = q.code;
      var name = el("td");
      name.appendChild(el("span", "sv-prefix", q.prefix));
      name.appendChild(document.createTextNode(" " + (en ? q.name_en : q.name_zh)));
      tr.appendChild(name);
      tr.appendChild(el("td", "num", String(q.waiting)));
      var longest = el("td", "num", q.waiting ? H.t("minutes", { n: Math.round(q.longest_wait_minutes) }) : "–");
      if (q.longest_wait_minutes >= board.wait_red_minutes) longest.dataset.level = "red";
      else if (q.longest_wait_minutes >= board.wait_yellow_minutes) longest.dataset.level = "amber";
      tr.appendChild(longest);
      tr.appendChild(el("td", "num", H.estimate(q.estimated_wait, true)));
      queueRows.appendChild(tr);
    });
    setKpi("waiting", waitingTotal);
    tickTimers();
  }

  function loadBoard() {
    return H.api("GET", data.board_url).then(function (json) { board = json; renderBoard(); }, H.apiError);
  }
  var reloadBoard = H.debounce(loadBoard, 300);

  /* -- KPIs and charts ------------------------------------------------------------------- */
  function setKpi(name, value) {
    var node = document.querySelector('[data-kpi="' + name + '"]');
    if (!node) return;
    var unit = node.dataset.unit;
    if (value === null || value === undefined) { node.textContent = "–"; return; }
    if (unit === "pct") node.textContent = Math.round(value * 100) + "%";
    else if (unit === "min") node.textContent = Number(value).toFixed(1);
    else if (unit === "score") node.textContent = Number(value).toFixed(2);
    else node.textContent = String(value);
    if (unit === "min") node.appendChild(el("small", "", en ? " min" : " 分"));
  }

  function chart(id) {
    if (!charts[id] && window.echarts) charts[id] = window.echarts.init(document.getElementById(id), null, { renderer: "canvas" });
    return charts[id];
  }

  var AXIS = { axisLine: { lineStyle: { color: "#9aa6b8" } }, axisLabel: { color: "#33415c" }, splitLine: { lineStyle: { color: "#e7ecf3" } } };
  function base(extra) {
    var option = {
      animation: false,
      grid: { left: 40, right: 40, top: 36, bottom: 26 },
      tooltip: { trigger: "axis" },
      legend: { top: 0, textStyle: { color: "#33415c" } },
      textStyle: { fontFamily: "Noto Sans CJK SC, sans-serif" }
    };
    Object.keys(extra).forEach(function (k) { option[k] = extra[k]; });
    return option;
  }

  function renderFigures() {
    if (!figures) return;
    var k = figures.kpis;
    ["tickets", "served", "wait_mean", "handling_mean", "service_level_5", "no_show_rate", "satisfaction"].forEach(function (name) {
      setKpi(name, k[name]);
    });
    var h = figures.hourly, w = figures.windows;
    var hourly = chart("chart-hourly");
    if (hourly) hourly.setOption(base({
      xAxis: Object.assign({ type: "category", data: h.hours }, AXIS),
      yAxis: [Object.assign({ type: "value", minInterval: 1 }, AXIS), Object.assign({ type: "value", axisLabel: { formatter: "{value}′", color: "#33415c" } }, { splitLine: { show: false } })],
      series: [
        { name: t("arrivals"), type: "bar", data: h.arrivals, itemStyle: { color: "#0b5cad" }, barMaxWidth: 22 },
        { name: t("wait_mean"), type: "line", yAxisIndex: 1, data: h.wait_mean, smooth: true, itemStyle: { color: "#c8102e" } },
        { name: t("wait_p90"), type: "line", yAxisIndex: 1, data: h.wait_p90, smooth: true, lineStyle: { type: "dashed" }, itemStyle: { color: "#a86200" } }
      ]
    }), true);
    var sl = chart("chart-sl");
    if (sl) sl.setOption(base({
      xAxis: Object.assign({ type: "category", data: h.hours }, AXIS),
      yAxis: Object.assign({ type: "value", min: 0, max: 1, axisLabel: { formatter: function (v) { return Math.round(v * 100) + "%"; }, color: "#33415c" } }, { splitLine: AXIS.splitLine }),
      series: [
        { name: t("sl5"), type: "line", data: h.service_level_5, smooth: true, areaStyle: { opacity: 0.12 }, itemStyle: { color: "#10805a" } },
        { name: t("sl15"), type: "line", data: h.service_level_15, smooth: true, itemStyle: { color: "#0b5cad" } }
      ]
    }), true);
    var win = chart("chart-windows");
    if (win) win.setOption(base({
      xAxis: Object.assign({ type: "category", data: w.windows }, AXIS),
      yAxis: [Object.assign({ type: "value", minInterval: 1 }, AXIS), Object.assign({ type: "value" }, AXIS, { splitLine: { show: false } })],
      series: [
        { name: t("served"), type: "bar", data: w.served, itemStyle: { color: "#0b5cad" }, barMaxWidth: 18 },
        { name: t("throughput"), type: "line", yAxisIndex: 1, data: w.throughput_per_hour, itemStyle: { color: "#6b3fb8" } }
      ]
    }), true);
  }

  function loadFigures() {
    return H.api("GET", data.figures_url).then(function (json) { figures = json; renderFigures(); }, H.apiError);
  }
  var reloadFigures = H.debounce(loadFigures, 4000);

  /* -- alerts ---------------------------------------------------------------------------- */
  function alertItem(a) {
    var li = el("li", "sv-alert");
    li.dataset.severity = a.severity;
    li.dataset.alertId = a.id;
    li.dataset.open = a.open ? "1" : "0";
    var head = el("div", "sv-alert__head");
    head.appendChild(el("span", "sv-alert__kind", t("kinds." + a.kind)));
    head.appendChild(el("time", "sv-alert__time", H.clock(a.raised_at)));
    li.appendChild(head);
    li.appendChild(el("p", "sv-alert__msg", en ? a.message_en : a.message));
    if (a.acknowledged_by) {
      li.appendChild(el("p", "sv-alert__ack", t("acked_by", { who: a.acknowledged_by, note: a.note })));
    }
    if (!a.open) {
      li.appendChild(el("p", "sv-alert__cleared", t("cleared") + " " + H.clock(a.cleared_at)));
    } else if (!a.acknowledged_by) {
      var button = el("button", "button button--ghost sv-alert__btn", t("acknowledge"));
      button.type = "button";
      button.addEventListener("click", function () { openAck(a); });
      li.appendChild(button);
    }
    return li;
  }

  function renderAlerts() {
    var list = Object.keys(alerts).map(function (id) { return alerts[id]; });
    list.sort(function (a, b) {
      if (a.open !== b.open) return a.open ? -1 : 1;
      if (a.severity !== b.severity) return a.severity === "red" ? -1 : 1;
      return b.id - a.id;
    });
    alertList.textContent = "";
    if (!list.length) alertList.appendChild(el("li", "sv-empty", t("no_alerts")));
    list.slice(0, 60).forEach(function (a) { alertList.appendChild(alertItem(a)); });
    document.getElementById("alert-count").textContent = String(list.filter(function (a) { return a.open; }).length);
  }

  function putAlert(a) { alerts[a.id] = a; renderAlerts(); }

  var ackDialog = document.getElementById("ack-dialog");
  var ackForm = document.getElementById("ack-form");
  var ackTarget = null;
  function openAck(a) {
    ackTarget = a;
    document.getElementById("ack-text").textContent = en ? a.message_en : a.message;
    document.getElementById("ack-note").value = "";
    H.openOverlay(ackDialog);
  }
  ackForm.addEventListener("submit", function (event) {
    event.preventDefault();
    var note = document.getElementById("ack-note").value.trim();
    if (!note || !ackTarget) return;
    H.api("POST", data.ack_url.replace("{id}", ackTarget.id), { note: note }).then(function (json) {
      H.closeOverlay(ackDialog);
      putAlert(json);
      H.toast(t("acked"), "success");
    }, H.apiError);
  });

  /* -- live ------------------------------------------------------------------------------ */
  var handlers = {
    connect: function () { socket.emit("supervise", { hall: data.hall, token: data.token }); },
    snapshot: function () { reloadBoard(); },
    "queue.changed": function (msg) {
      if (!board) return;
      board.queues = msg.queues;
      renderBoard();
    },
    "supervisor.snapshot": function (msg) {
      alerts = {};
      msg.alerts.forEach(function (a) { alerts[a.id] = a; });
      renderAlerts();
      figures = msg.figures;
      renderFigures();
    },
    "alert.raised": function (a) {
      var fresh = !alerts[a.id];
      putAlert(a);
      if (fresh) H.toast(t("new_alert"), a.severity === "red" ? "error" : "info", en ? a.message_en : a.message);
    },
    "alert.cleared": putAlert,
    "alert.acknowledged": putAlert,
    "kpis.changed": function (msg) { figures = msg; renderFigures(); }
  };
  ["ticket.issued", "ticket.called", "ticket.recalled", "ticket.started", "ticket.finished", "ticket.no_show",
   "ticket.transferred", "ticket.cancelled", "window.changed"].forEach(function (name) {
    handlers[name] = function () { reloadBoard(); reloadFigures(); };
  });
  /* -- 最多跑一次 of the last 30 days (issue 18): slow-moving, so read every five minutes -- */
  function loadOneVisit() {
    return H.api("GET", data.one_visit_url).then(function (json) {
      var share = document.querySelector('[data-one-visit="share_one_visit"]');
      share.textContent = json.share_one_visit === null ? "–" : (json.share_one_visit * 100).toFixed(1) + "%";
      document.querySelector('[data-one-visit="returns"]').textContent = String(json.returns);
    }, H.apiError);
  }
  var reloadOneVisit = H.debounce(loadOneVisit, 30000);
  var finished = handlers["ticket.finished"];
  handlers["ticket.finished"] = function () { finished(); reloadOneVisit(); };
  setInterval(loadOneVisit, 5 * 60 * 1000);
  loadOneVisit();

  var socket = H.live([{ hall: data.hall }], handlers);

  loadBoard();
  loadFigures();
  setInterval(tickTimers, 1000);
  window.addEventListener("resize", function () { Object.keys(charts).forEach(function (k) { charts[k].resize(); }); });
})();
