/* The window console: the current ticket, the actions with their shortcuts, the queue, today. */
(function () {
  "use strict";
  var H = window.Hall, data = H.data, t = H.t, urls = data.urls;
  var state = { window: null, current: null, queue: [], today: {} };
  var inFlight = false;
  var servicesByCode = {};
  data.services.forEach(function (s) { servicesByCode[s.code] = s; });

  function $(id) { return document.getElementById(id); }
  function serviceLabel(code) { return servicesByCode[code] ? servicesByCode[code].name : code; }
  function ticketUrl(name) { return urls[name].replace("TICKET_ID", encodeURIComponent(state.current.id)); }

  // -- rendering ---------------------------------------------------------------------------
  function render() {
    var w = state.window, cur = state.current;
    if (!w) return;
    var pill = $("window-state");
    pill.dataset.state = w.state;
    pill.textContent = t("states." + w.state);

    var mode = w.state === "closed" ? "closed" : w.state === "paused" ? "paused" : cur ? cur.status : "idle";
    var now = $("now");
    now.dataset.mode = mode;
    H.show($("now-closed"), mode === "closed");
    H.show($("now-paused"), mode === "paused");
    H.show(now.querySelector(".now__ticket"), mode !== "closed" && mode !== "paused");
    if (mode === "paused") {
      $("paused-reason").textContent = t("paused_since", { reason: w.paused_reason || "", time: H.clock(w.since) });
    }

    $("now-number").textContent = cur ? cur.number : t("no_current");
    $("now-service").textContent = cur ? serviceLabel(cur.service) : t("no_current_hint");
    var status = $("now-status");
    H.show(status, Boolean(cur));
    if (cur) { status.dataset.status = cur.status; status.textContent = t("status." + cur.status); }
    var prio = $("now-priority");
    H.show(prio, Boolean(cur && cur.priority !== "none"));
    if (cur) prio.textContent = t("priority." + cur.priority);
    $("now-recalls").textContent = cur && cur.recalls ? t("recalls", { n: cur.recalls }) : "";
    $("now-times").textContent = cur ? t("issued_waited", {
      time: H.clock(cur.issued_at),
      n: Math.max(0, Math.floor((new Date(cur.called_at) - new Date(cur.issued_at)) / 60000))
    }) : "";
    tickTimer();

    var open = w.state === "open";
    enable("call_next", open && !cur);
    enable("recall", Boolean(cur) && cur.status === "called");
    enable("start", Boolean(cur) && cur.status === "called");
    enable("finish", Boolean(cur) && cur.status === "serving");
    enable("no_show", Boolean(cur) && cur.status === "called");
    enable("transfer", Boolean(cur));
    var pause = document.querySelector('.action[data-action="pause"]');
    pause.querySelector(".action__label").textContent = w.state === "paused" ? t("resume_label") : t("pause_label");
    enable("pause", (open && !cur) || w.state === "paused");
    enable("close", w.state !== "closed" && !cur);
    // the citizen of the visit just finished left before rating: invite by link instead
    enable("rate_later", w.state !== "closed" && !cur);

    renderQueue();
    renderToday();
    if (window.HallConsole.onRender) window.HallConsole.onRender(state);
  }

  function enable(action, on) {
    document.querySelector('.action[data-action="' + action + '"]').disabled = !on;
  }

  function tickTimer() {
    var cur = state.current, label = "";
    if (cur && cur.status === "serving" && cur.started_at) label = t("since_started", { t: H.elapsed(cur.started_at) });
    else if (cur && cur.status === "called" && cur.called_at) label = t("since_called", { t: H.elapsed(cur.called_at) });
    $("now-timer").textContent = label;
  }
  setInterval(tickTimer, 1000);

  var QUEUE_SHOWN = 30;

  function renderQueue() {
    var list = $("queue-list");
    list.textContent = "";
    $("queue-count").textContent = String(state.queue.length);
    if (!state.queue.length) {
      var empty = document.createElement("li");
      empty.className = "queue__empty";
      empty.textContent = t("queue_empty");
      list.appendChild(empty);
      return;
    }
    state.queue.slice(0, QUEUE_SHOWN).forEach(function (entry, index) {
      var li = document.createElement("li");
      li.className = "queue__item" + (index === 0 ? " queue__item--next" : "");
      li.dataset.ticket = entry.id;
      var number = document.createElement("span");
      number.className = "queue__number";
      number.textContent = entry.number;
      var name = document.createElement("span");
      name.className = "queue__service";
      name.textContent = serviceLabel(entry.service);
      var tags = document.createElement("span");
      tags.className = "queue__tags";
      if (entry.priority !== "none") tags.appendChild(tag(t("priority_tag"), "priority"));
      if (entry.appointment) tags.appendChild(tag(t("appointment_tag"), "appointment"));
      var waited = document.createElement("span");
      waited.className = "queue__waited";
      waited.textContent = t("waited", { n: Math.floor(entry.waited_minutes) });
      li.append(number, name, tags, waited);
      list.appendChild(li);
    });
    if (state.queue.length > QUEUE_SHOWN) {
      var more = document.createElement("li");
      more.className = "queue__empty";
      more.textContent = t("queue_more", { n: state.queue.length - QUEUE_SHOWN });
      list.appendChild(more);
    }
  }

  function tag(text, kind) {
    var span = document.createElement("span");
    span.className = "tag tag--" + kind;
    span.textContent = text;
    return span;
  }

  function renderToday() {
    var today = state.today || {};
    $("today-served").textContent = String(Math.round(today.served || 0));
    $("today-handling").textContent = today.served ? Number(today.mean_handling_minutes || 0).toFixed(1) : "–";
    var waits = (today.served || 0) + (today.no_show || 0);
    $("today-wait").textContent = waits ? Number(today.mean_wait_minutes || 0).toFixed(1) : "–";
  }

  // -- data -------------------------------------------------------------------------------
  function load() {
    return H.api("GET", urls.window).then(function (body) {
      state = body;
      render();
    }, handleError);
  }
  var reload = H.debounce(load, 150);

  function handleError(error) {
    if (error instanceof H.ApiError && error.status === 401) {
      window.location.reload();
      return;
    }
    H.apiError(error);
  }

  /** POST an action, then tell the clerk what happened and refresh the console. */
  function act(url, body, done) {
    if (inFlight) return Promise.resolve();
    inFlight = true;
    document.body.classList.add("is-working");
    return H.api("POST", url, body)
      .then(function (result) { if (done) done(result); return load(); }, function (error) {
        handleError(error);
        return load();
      })
      .then(function () {
        inFlight = false;
        document.body.classList.remove("is-working");
      });
  }

  var actions = {
    open: function () { act(urls.open, undefined, function () { H.toast(t("opened"), "success"); }); },
    call_next: function () {
      act(urls.call_next, undefined, function (ticket) {
        if (ticket) H.toast(t("called", { number: ticket.number }), "success");
        else H.toast(t("nothing_to_call"), "info");
      });
    },
    recall: function () {
      act(urls.recall, undefined, function (tk) { H.toast(t("recalled", { number: tk.number }), "info"); });
    },
    start: function () {
      act(ticketUrl("start"), undefined, function (tk) { H.toast(t("started", { number: tk.number }), "success"); });
    },
    finish: function () {
      // The outcome chosen above the buttons (办结 unless the clerk picked another), then back
      // to 办结 for the next citizen. A multi-service ticket then waits for its next service.
      var picked = document.querySelector('#outcome input[name="outcome"]:checked');
      var body = { outcome: picked ? picked.value : "completed" };
      act(ticketUrl("finish"), body, function (tk) {
        H.toast(t("finished", { number: tk.number }), "success");
        var first = document.querySelector('#outcome input[name="outcome"]');
        if (first) first.checked = true;
      });
    },
    no_show: function () {
      act(ticketUrl("no_show"), undefined, function (tk) { H.toast(t("no_show", { number: tk.number }), "info"); });
    },
    transfer: openTransfer,
    pause: function () {
      if (state.window && state.window.state === "paused") actions.resume();
      else openPause();
    },
    resume: function () { act(urls.resume, undefined, function () { H.toast(t("resumed"), "success"); }); },
    rate_later: function () { act(urls.rate_later, undefined, function () { H.toast(t("rated_later"), "info"); }); },
    close: function () { H.openOverlay($("close-dialog")); }
  };

  document.addEventListener("click", function (event) {
    var button = event.target.closest("button[data-action]");
    if (!button || button.disabled || button.closest(".overlay")) return;
    var run = actions[button.dataset.action];
    if (run) run();
  });

  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey || event.repeat) return;
    if (document.querySelector(".overlay:not([hidden])")) return;
    var outcomeChoice = event.target.name === "outcome"; // a shortcut still works after a pick
    if (/^(INPUT|TEXTAREA|SELECT)$/.test(event.target.tagName) && !outcomeChoice) return;
    var key = event.key.length === 1 ? event.key.toUpperCase() : "";
    if (!key) return;
    var button = Array.prototype.find.call(
      document.querySelectorAll('button[data-key="' + key + '"]:not([disabled])'),
      function (b) { return b.offsetParent !== null; });
    if (!button) return;
    event.preventDefault();
    button.classList.add("is-pressed");
    setTimeout(function () { button.classList.remove("is-pressed"); }, 160);
    var run = actions[button.dataset.action];
    if (run) run();
  });

  // -- pause -------------------------------------------------------------------------------
  var pauseDialog = $("pause-dialog");
  data.pause_presets.forEach(function (preset, index) {
    var label = document.createElement("label");
    label.className = "choice choice--chip";
    var input = document.createElement("input");
    input.type = "radio";
    input.name = "pause-reason";
    input.value = preset.value;
    if (index === 0) input.checked = true;
    var span = document.createElement("span");
    span.textContent = preset.label;
    label.append(input, span);
    $("pause-presets").appendChild(label);
  });

  function openPause() {
    $("pause-text").value = "";
    H.openOverlay(pauseDialog);
  }

  pauseDialog.querySelector("form, .sheet").addEventListener("submit", function (event) {
    event.preventDefault();
    var typed = $("pause-text").value.trim();
    var chosen = pauseDialog.querySelector('input[name="pause-reason"]:checked');
    var reason = typed || (chosen ? chosen.value : "");
    if (!reason) { H.toast(t("reason_required"), "error"); return; }
    H.closeOverlay(pauseDialog);
    act(urls.pause, { reason: reason }, function () { H.toast(t("paused"), "info"); });
  });

  // -- transfer ------------------------------------------------------------------------------
  var transferDialog = $("transfer-dialog");

  function openTransfer() {
    if (!state.current) return;
    $("transfer-number").textContent = state.current.number;
    var box = $("transfer-services");
    box.textContent = "";
    data.services.filter(function (s) { return s.active; }).forEach(function (s) {
      var label = document.createElement("label");
      label.className = "choice choice--chip";
      var input = document.createElement("input");
      input.type = "radio";
      input.name = "transfer-service";
      input.value = s.code;
      input.checked = s.code === state.current.service;
      var span = document.createElement("span");
      span.textContent = s.prefix + " · " + s.name;
      label.append(input, span);
      box.appendChild(label);
    });
    fillWindows();
    H.openOverlay(transferDialog);
  }

  function chosenService() {
    var input = transferDialog.querySelector('input[name="transfer-service"]:checked');
    return input ? input.value : state.current.service;
  }

  function fillWindows() {
    var select = $("transfer-window");
    var service = chosenService();
    select.textContent = "";
    select.appendChild(new Option(t("any_window"), ""));
    data.windows.forEach(function (w) {
      if (w.id === data.window_id || w.skills.indexOf(service) < 0) return;
      select.appendChild(new Option(t("window_no", { n: w.number }) + " · " + w.name, String(w.id)));
    });
  }

  $("transfer-services").addEventListener("change", fillWindows);

  transferDialog.querySelector(".sheet").addEventListener("submit", function (event) {
    event.preventDefault();
    var service = chosenService();
    var windowId = $("transfer-window").value;
    var body = {};
    if (service !== state.current.service) body.service = service;
    if (windowId) body.window = Number(windowId);
    if (!body.service && !body.window) { H.toast(t("transfer_same"), "error"); return; }
    H.closeOverlay(transferDialog);
    act(ticketUrl("transfer"), body, function (tk) { H.toast(t("transferred", { number: tk.number }), "info"); });
  });

  // -- close ---------------------------------------------------------------------------------
  $("close-dialog").querySelector(".sheet").addEventListener("submit", function (event) {
    event.preventDefault();
    H.closeOverlay($("close-dialog"));
    act(urls.close, undefined, function () {
      H.toast(t("closed"), "info");
      setTimeout(function () { window.location.href = urls.picker; }, 600);
    });
  });

  // the window's own actions of issue 18 (clerk-visit.js) plug in here
  window.HallConsole = {
    state: function () { return state; }, act: act, load: load, actions: actions,
    serviceLabel: serviceLabel, handleError: handleError, onRender: null
  };

  // -- live ----------------------------------------------------------------------------------
  load();
  var handlers = { snapshot: reload, "queue.changed": reload, "window.changed": reload };
  ["ticket.issued", "ticket.called", "ticket.recalled", "ticket.started", "ticket.finished",
   "ticket.no_show", "ticket.transferred", "ticket.cancelled", "ticket.held", "ticket.resumed",
   "ticket.next_service", "ticket.services_changed"].forEach(function (name) {
    handlers[name] = reload;
  });
  H.live([{ window: data.window_id }, { hall: data.hall }], handlers);
})();
