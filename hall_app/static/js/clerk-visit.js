/* The window's own actions (issue 18), beside the console's: call a chosen ticket out of turn
 * (Z), serve a walk-in (W), hold the current ticket (H) and resume a held one (U), add or remove
 * the services still to come of the visit (M), look a ticket up by number and reprint its
 * slip (Q). Each opens a small dialog that the keyboard alone can fill: Tab, the arrow keys
 * between choices, Enter to confirm, Esc to cancel.
 */
(function () {
  "use strict";
  var H = window.Hall, data = H.data, t = H.t, urls = data.urls, C = window.HallConsole;
  var servicesByCode = {};
  data.services.forEach(function (s) { servicesByCode[s.code] = s; });
  var me = data.windows.filter(function (w) { return w.id === data.window_id; })[0] || { skills: [] };

  function $(id) { return document.getElementById(id); }
  function ticketUrl(name, id) { return urls[name].replace("TICKET_ID", encodeURIComponent(id)); }

  function chip(name, value, text, checked) {
    var label = document.createElement("label");
    label.className = "choice choice--chip";
    var input = document.createElement("input");
    input.type = "radio";
    input.name = name;
    input.value = value;
    input.checked = Boolean(checked);
    var span = document.createElement("span");
    span.textContent = text;
    label.append(input, span);
    return label;
  }

  function picked(box, name) {
    var input = box.querySelector('input[name="' + name + '"]:checked');
    return input ? input.value : "";
  }

  function focusFirst(box) {
    setTimeout(function () {
      var first = box.querySelector("input:checked") || box.querySelector("input");
      if (first) first.focus();
    }, 40);
  }

  /* A reason: what the clerk typed, else the chip chosen. */
  function reasonOf(dialog, chips, text) {
    return $(text).value.trim() || picked(dialog, chips);
  }

  function fillReasons(box, name, reasons) {
    box.textContent = "";
    reasons.forEach(function (reason) { box.appendChild(chip(name, reason, reason, false)); });
  }

  // -- rendering beside the console ---------------------------------------------------------------
  C.onRender = function (state) {
    var w = state.window, cur = state.current;
    var open = Boolean(w) && w.state === "open";
    enable("call_chosen", open && !cur && state.queue.length > 0);
    enable("walk_in", open && !cur);
    enable("hold", Boolean(cur) && (cur.status === "called" || cur.status === "serving"));
    enable("edit_services", Boolean(cur));
    enable("lookup", true);
    renderVisit(cur);
    renderHeld(state.held || [], open && !cur);
  };

  function enable(action, on) {
    var button = document.querySelector('.action[data-action="' + action + '"]');
    if (button) button.disabled = !on;
  }

  function renderVisit(cur) {
    var list = $("now-visit");
    list.textContent = "";
    var segments = (cur && cur.services) || [];
    list.hidden = segments.length < 2;
    if (segments.length < 2) return;
    var head = document.createElement("li");
    head.className = "now__visit-head";
    head.textContent = t("segment", { i: cur.segment + 1, n: segments.length });
    list.appendChild(head);
    segments.forEach(function (s) {
      var item = document.createElement("li");
      item.className = "now__visit-item";
      item.dataset.status = s.status;
      var mark = s.status === "done" ? "✓ " : s.status === "current" ? "▶ " : "";
      var outcome = s.outcome ? " · " + t("outcomes." + s.outcome) : "";
      item.textContent = mark + (s.index + 1) + ". " + C.serviceLabel(s.service) + outcome;
      list.appendChild(item);
    });
  }

  function renderHeld(held, free) {
    var list = $("held-list");
    list.textContent = "";
    $("held-count").textContent = String(held.length);
    if (!held.length) {
      var empty = document.createElement("li");
      empty.className = "queue__empty";
      empty.textContent = t("held_empty");
      list.appendChild(empty);
    }
    held.forEach(function (h, index) {
      var item = document.createElement("li");
      item.className = "held-list__item";
      var number = document.createElement("span");
      number.className = "queue__number";
      number.textContent = h.number;
      var name = document.createElement("span");
      name.className = "queue__service";
      name.textContent = C.serviceLabel(h.service);
      var button = document.createElement("button");
      button.type = "button";
      button.className = "button button--primary held-list__resume";
      button.dataset.resume = h.id;
      button.disabled = !free;
      button.textContent = t("held_resume", { number: h.number });
      if (index === 0) { button.dataset.key = "U"; button.setAttribute("aria-keyshortcuts", "U"); }
      item.append(number, name, button);
      list.appendChild(item);
    });
  }

  $("held-list").addEventListener("click", function (event) {
    var button = event.target.closest("[data-resume]");
    if (button && !button.disabled) resumeHeld(button.dataset.resume);
  });
  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey || event.repeat) return;
    if (event.key.toUpperCase() !== "U" || /^(INPUT|TEXTAREA|SELECT)$/.test(event.target.tagName)) return;
    if (document.querySelector(".overlay:not([hidden])")) return;
    var first = document.querySelector("#held-list [data-resume]:not([disabled])");
    if (first) { event.preventDefault(); resumeHeld(first.dataset.resume); }
  });

  function resumeHeld(id) {
    C.act(ticketUrl("resume_ticket", id), undefined, function (tk) {
      H.toast(t("resumed_ticket", { number: tk.number }), "success");
    });
  }

  // -- hold ---------------------------------------------------------------------------------------
  C.actions.hold = function () {
    var cur = C.state().current;
    if (!cur) return;
    C.act(ticketUrl("hold", cur.id), undefined, function (tk) { H.toast(t("held", { number: tk.number }), "info"); });
  };

  // -- a chosen call ------------------------------------------------------------------------------
  var chosenDialog = $("chosen-dialog");
  fillReasons($("chosen-reasons"), "chosen-reason", data.chosen_reasons);

  function openChosen(ticketId) {
    var queue = C.state().queue;
    var box = $("chosen-tickets");
    box.textContent = "";
    queue.slice(0, 40).forEach(function (entry, index) {
      var text = entry.number + " · " + C.serviceLabel(entry.service) + " · " + t("waited", { n: Math.floor(entry.waited_minutes) });
      box.appendChild(chip("chosen-ticket", entry.id, text, ticketId ? entry.id === ticketId : index === 0));
    });
    $("chosen-text").value = "";
    H.openOverlay(chosenDialog);
    focusFirst(box);
  }
  C.actions.call_chosen = function () { openChosen(null); };

  $("queue-list").addEventListener("click", function (event) {
    var item = event.target.closest("[data-ticket]");
    var button = document.querySelector('.action[data-action="call_chosen"]');
    if (item && button && !button.disabled) openChosen(item.dataset.ticket);
  });

  chosenDialog.querySelector(".sheet").addEventListener("submit", function (event) {
    event.preventDefault();
    var ticket = picked(chosenDialog, "chosen-ticket");
    var reason = reasonOf(chosenDialog, "chosen-reason", "chosen-text");
    if (!ticket) { H.toast(t("pick_ticket"), "error"); return; }
    if (!reason) { H.toast(t("reason_needed"), "error"); return; }
    H.closeOverlay(chosenDialog);
    C.act(urls.call_chosen, { ticket: ticket, reason: reason }, function (tk) {
      H.toast(t("chosen_called", { number: tk.number }), "success");
    });
  });

  // -- a walk-in ----------------------------------------------------------------------------------
  var walkinDialog = $("walkin-dialog");
  fillReasons($("walkin-reasons"), "walkin-reason", data.walk_in_reasons);

  C.actions.walk_in = function () {
    var box = $("walkin-services");
    box.textContent = "";
    me.skills.forEach(function (code, index) {
      var s = servicesByCode[code];
      if (s && s.active) box.appendChild(chip("walkin-service", code, s.prefix + " · " + s.name, index === 0));
    });
    $("walkin-text").value = "";
    H.openOverlay(walkinDialog);
    focusFirst(box);
  };

  walkinDialog.querySelector(".sheet").addEventListener("submit", function (event) {
    event.preventDefault();
    var service = picked(walkinDialog, "walkin-service");
    var reason = reasonOf(walkinDialog, "walkin-reason", "walkin-text");
    if (!service || !reason) { H.toast(t("reason_needed"), "error"); return; }
    H.closeOverlay(walkinDialog);
    C.act(urls.walk_in, { service: service, reason: reason }, function (tk) {
      H.toast(t("walk_in_served", { number: tk.number }), "success");
    });
  });

  // -- the services still to come of the visit ----------------------------------------------------
  var servicesDialog = $("services-dialog");
  var coming = [];   // codes after the current one
  var fixed = [];    // codes done and the current one

  C.actions.edit_services = function () {
    var cur = C.state().current;
    if (!cur) return;
    var segments = cur.services || [{ service: cur.service, status: "current", index: 0 }];
    fixed = segments.filter(function (s) { return s.index <= cur.segment; }).map(function (s) { return s.service; });
    coming = segments.filter(function (s) { return s.index > cur.segment; }).map(function (s) { return s.service; });
    $("services-number").textContent = cur.number;
    renderServices();
    H.openOverlay(servicesDialog);
  };

  function renderServices() {
    var list = $("services-list");
    list.textContent = "";
    fixed.concat(coming).forEach(function (code, i) {
      var item = document.createElement("li");
      item.className = "visit-edit__item" + (i < fixed.length ? " visit-edit__item--fixed" : "");
      var name = document.createElement("span");
      name.textContent = (i + 1) + ". " + C.serviceLabel(code);
      item.appendChild(name);
      if (i >= fixed.length) {
        var remove = document.createElement("button");
        remove.type = "button";
        remove.className = "button button--ghost";
        remove.dataset.removeService = code;
        remove.textContent = t("remove");
        item.appendChild(remove);
      } else {
        var tagged = document.createElement("span");
        tagged.className = "pill";
        tagged.textContent = t("segment_status." + (i === fixed.length - 1 ? "current" : "done"));
        item.appendChild(tagged);
      }
      list.appendChild(item);
    });
    var add = $("services-add");
    add.textContent = "";
    var full = fixed.length + coming.length >= data.max_services;
    data.services.forEach(function (s) {
      if (!s.active || fixed.indexOf(s.code) >= 0 || coming.indexOf(s.code) >= 0) return;
      var button = document.createElement("button");
      button.type = "button";
      button.className = "button button--ghost";
      button.dataset.addService = s.code;
      button.disabled = full;
      button.textContent = "+ " + s.prefix + " · " + s.name;
      add.appendChild(button);
    });
    if (full) {
      var note = document.createElement("p");
      note.className = "sheet__meta";
      note.textContent = t("services_full", { n: data.max_services });
      add.appendChild(note);
    }
  }

  servicesDialog.addEventListener("click", function (event) {
    var remove = event.target.closest("[data-remove-service]");
    var add = event.target.closest("[data-add-service]");
    if (remove) coming = coming.filter(function (c) { return c !== remove.dataset.removeService; });
    if (add && !add.disabled) coming.push(add.dataset.addService);
    if (remove || add) renderServices();
  });

  servicesDialog.querySelector(".sheet").addEventListener("submit", function (event) {
    event.preventDefault();
    var cur = C.state().current;
    if (!cur) return;
    H.closeOverlay(servicesDialog);
    H.api("PUT", ticketUrl("next_services", cur.id), { services: coming.slice() }).then(function (tk) {
      H.toast(t("services_changed", { number: tk.number }), "success");
      C.load();
    }, C.handleError);
  });

  // -- look-up and reprint ------------------------------------------------------------------------
  var lookupDialog = $("lookup-dialog");
  C.actions.lookup = function () {
    $("lookup-number").value = "";
    $("lookup-error").hidden = true;
    $("lookup-slip").hidden = true;
    $("lookup-print").disabled = true;
    H.openOverlay(lookupDialog);
  };

  lookupDialog.querySelector(".sheet").addEventListener("submit", function (event) {
    event.preventDefault();
    var number = $("lookup-number").value.trim().toUpperCase();
    var error = $("lookup-error");
    error.hidden = true;
    if (!/^[A-Z]\d{1,7}$/.test(number)) {
      error.textContent = t("lookup_invalid");
      error.hidden = false;
      return;
    }
    H.api("GET", urls.by_number.replace("NUMBER", encodeURIComponent(number))).then(showFound, function (e) {
      if (e instanceof H.ApiError && e.status === 401) { window.location.reload(); return; }
      $("lookup-slip").hidden = true;
      $("lookup-print").disabled = true;
      error.textContent = e.status === 404 ? t("lookup_none") : t("errors." + (e.code || "error"));
      error.hidden = false;
    });
  });

  function showFound(ticket) {
    $("lookup-slip-number").textContent = ticket.number;
    var status = t("status." + ticket.status);
    if (ticket.status === "waiting" && ticket.position !== null && ticket.position !== undefined) {
      status += " · " + t("position", { n: ticket.position });
    }
    $("lookup-slip-status").textContent = status;
    var list = $("lookup-slip-services");
    list.textContent = "";
    (ticket.services || []).forEach(function (s) {
      var item = document.createElement("li");
      item.dataset.status = s.status;
      item.textContent = C.serviceLabel(s.service) + " · " + t("segment_status." + s.status) +
        (s.outcome ? " · " + t("outcomes." + s.outcome) : "");
      list.appendChild(item);
    });
    $("lookup-slip-line").textContent = t("lookup_line", { time: H.clock(ticket.issued_at, true) });
    $("lookup-slip").hidden = false;
    $("lookup-print").disabled = false;
  }

  $("lookup-print").addEventListener("click", function () {
    document.body.classList.add("is-reprinting");
    window.print();
    document.body.classList.remove("is-reprinting");
  });
})();
