/* The kiosk: live waiting figures per service, up to 5 services on one ticket in order, an
   optional identity (kiosk-identity.js), priority choice, idempotent ticket taking. */
(function () {
  "use strict";
  var H = window.Hall, data = H.data, t = H.t;
  var SLIP_SECONDS = 30;
  var RETRY_DELAYS = [800, 2000, 4000];
  var MAX = data.max_services || 5;

  var confirmBox = document.getElementById("confirm");
  var takeButton = document.getElementById("take-button");
  var confirmError = document.getElementById("confirm-error");
  var heldBox = document.getElementById("already-held");
  var slipOverlay = document.getElementById("slip-overlay");
  var basket = document.getElementById("basket");
  var chosen = [];         // service codes of this visit, in order
  var adding = false;      // the start screen is open to add one more service
  var pending = null;      // {signature, key} of a press not yet answered
  var countdown = null;
  var kiosk = window.HallKiosk = {
    showSlip: null, elder: false, identity: null,
    say: function () {},  // the 长辈版 reads choices aloud (kiosk-elder.js)
    emit: function (name, detail) { document.dispatchEvent(new CustomEvent("kiosk:" + name, { detail: detail })); }
  };

  // -- clock --------------------------------------------------------------------------------
  function tickClock() {
    var now = new Date();
    var zone = data.timezone;
    document.getElementById("clock-time").textContent = new Intl.DateTimeFormat(H.lang, {
      hour: "2-digit", minute: "2-digit", hour12: false, timeZone: zone
    }).format(now);
    document.getElementById("clock-date").textContent = new Intl.DateTimeFormat(H.lang, {
      month: "long", day: "numeric", weekday: "long", timeZone: zone
    }).format(now);
  }
  tickClock();
  setInterval(tickClock, 10000);

  // -- tiles --------------------------------------------------------------------------------
  function renderTile(service) {
    // a service's tile may show twice: in its zone, and among the 长辈版's most used
    Array.prototype.forEach.call(document.querySelectorAll('.tile[data-service="' + service.code + '"]'), function (tile) {
      tile.disabled = !service.active;
      tile.querySelector('[data-field="waiting"]').textContent = service.active
        ? t("waiting_count", { n: service.waiting }) : t("paused_service");
      tile.querySelector('[data-field="estimate"]').textContent = service.active
        ? H.estimate(service.estimated_wait, true) : "";
    });
  }

  function updateQueues(queues) {
    (queues || []).forEach(function (q) {
      var known = data.services[q.code];
      if (known) Object.assign(known, q); else data.services[q.code] = q;
      renderTile(data.services[q.code]);
    });
  }
  updateQueues(Object.keys(data.services).map(function (k) { return data.services[k]; }));

  document.querySelector(".kiosk-main").addEventListener("click", function (event) {
    var tile = event.target.closest(".tile");
    if (!tile || tile.disabled) return;
    var code = tile.dataset.service;
    kiosk.say(data.services[code].label, { service: code });
    if (adding) {
      if (chosen.indexOf(code) < 0 && chosen.length < MAX) chosen.push(code);
      showBasket(false);
      openConfirm();
    } else {
      chosen = [code];
      openConfirm(true);
    }
  });

  // -- the basket: the start screen while one more service is chosen --------------------------
  function showBasket(visible) {
    adding = visible;
    basket.hidden = !visible;
    document.body.classList.toggle("is-adding", visible);
    Array.prototype.forEach.call(document.querySelectorAll(".tile"), function (tile) {
      var at = chosen.indexOf(tile.dataset.service);
      tile.classList.toggle("is-chosen", visible && at >= 0);
      if (visible && at >= 0) tile.dataset.order = String(at + 1); else delete tile.dataset.order;
    });
    if (visible) {
      document.getElementById("basket-list").textContent = chosen.map(function (code, i) {
        return (i + 1) + ". " + data.services[code].label;
      }).join("  ");
      window.scrollTo({ top: 0 });
    }
  }
  document.getElementById("basket-done").addEventListener("click", function () {
    showBasket(false);
    openConfirm();
  });

  // -- confirm sheet --------------------------------------------------------------------------
  function openConfirm(fresh) {
    var first = data.services[chosen[0]];
    pending = null;
    document.getElementById("confirm-prefix").textContent = first.prefix;
    document.getElementById("confirm-title").textContent = chosen.length > 1
      ? t("visit_title", { first: first.label, n: chosen.length }) : first.label;
    document.getElementById("confirm-meta").textContent =
      t("waiting_count", { n: first.waiting }) + " · " + H.estimate(first.estimated_wait);
    renderVisit();
    kiosk.emit("identity-mode", identityMode());
    if (fresh) confirmBox.querySelector('input[value="none"]').checked = true;
    confirmError.hidden = true;
    heldBox.hidden = true;
    setBusy(false);
    H.openOverlay(confirmBox, function () {
      if (adding) return;  // only stepped out to choose one more service
      chosen = []; pending = null;
      kiosk.emit("sheet-close");
    });
    kiosk.emit("sheet-open");
  }

  function renderVisit() {
    var list = document.getElementById("visit-list");
    list.textContent = "";
    chosen.forEach(function (code, i) {
      var service = data.services[code];
      var item = document.createElement("li");
      item.className = "visit__item";
      item.dataset.service = code;
      var order = document.createElement("span");
      order.className = "visit__order";
      order.textContent = String(i + 1);
      var name = document.createElement("span");
      name.className = "visit__name";
      name.textContent = service.label;
      var wait = document.createElement("span");
      wait.className = "visit__wait";
      wait.textContent = t("waiting_count", { n: service.waiting });
      item.append(order, name, wait);
      if (chosen.length > 1) {
        var remove = document.createElement("button");
        remove.type = "button";
        remove.className = "button button--ghost visit__remove";
        remove.dataset.remove = code;
        remove.textContent = t("remove");
        remove.setAttribute("aria-label", t("remove_named", { name: service.label }));
        item.appendChild(remove);
      }
      list.appendChild(item);
    });
    var add = document.getElementById("visit-add");
    add.hidden = chosen.length >= MAX;
    document.querySelector(".visit").classList.toggle("visit--many", chosen.length > 1);
  }

  /* The hall's rule for the chosen services, as the server applies it: required when one
     requires an identity, off when every one is off, else optional. */
  function identityMode() {
    var rule = data.identity || { mode: "optional", services: {} };
    var modes = chosen.map(function (code) { return rule.services[code] || rule.mode; });
    if (modes.indexOf("required") >= 0) return "required";
    if (modes.length && modes.every(function (m) { return m === "off"; })) return "off";
    return "optional";
  }

  function setBusy(busy, text) {
    var needed = identityMode() === "required" && !kiosk.identity;
    document.getElementById("identity-first").hidden = !needed;
    takeButton.disabled = busy || needed || Boolean(kiosk.proxyPending);
    takeButton.classList.toggle("is-busy", busy);
    takeButton.dataset.busyText = text || t("taking");
  }
  document.addEventListener("kiosk:identity", function (event) {
    kiosk.identity = event.detail;
    if (kiosk.identity && kiosk.identity.elderly) {
      confirmBox.querySelector('input[value="elderly"]').checked = true;
    }
    heldBox.hidden = true;
    if (!takeButton.classList.contains("is-busy")) setBusy(false);
  });
  document.addEventListener("kiosk:identity-step", function () {
    if (!takeButton.classList.contains("is-busy")) setBusy(false);
  });

  confirmBox.addEventListener("click", function (event) {
    var remove = event.target.closest("[data-remove]");
    if (remove) {
      chosen = chosen.filter(function (c) { return c !== remove.dataset.remove; });
      openConfirm();
      return;
    }
    var button = event.target.closest("[data-action]");
    if (!button) return;
    if (button.dataset.action === "cancel") { kiosk.say(t("back"), { phrase: "back" }); H.closeOverlay(confirmBox); }
    if (button.dataset.action === "add") { showBasket(true); H.closeOverlay(confirmBox); kiosk.say(t("choose_more"), { phrase: "choose" }); }
    if (button.dataset.action === "take") take();
  });

  function take() {
    if (!chosen.length || takeButton.disabled) return;
    kiosk.say(t("take"), { phrase: "take" });
    var priority = confirmBox.querySelector('input[name="priority"]:checked').value;
    var body = { channel: "kiosk", priority: priority };
    var identity = kiosk.identity;
    if (chosen.length === 1 && !identity) body.service = chosen[0]; else body.services = chosen.slice();
    if (identity) {
      body.id_number = identity.id_number;
      if (identity.name) body.id_name = identity.name;
      if (identity.proxy) body.proxy_id_number = identity.proxy.id_number;  // 代办
    }
    // A retry of the same choice reuses its key, so a lost answer never yields two tickets.
    var signature = [chosen.join(","), priority, identity ? identity.masked_id : "",
      identity && identity.proxy ? identity.proxy.masked_id : ""].join("|");
    if (!pending || pending.signature !== signature) pending = { signature: signature, key: H.randomKey() };
    confirmError.hidden = true;
    heldBox.hidden = true;
    setBusy(true);
    send(body, pending, 0);
  }

  function send(body, attempt, tries) {
    H.api("POST", data.issue_url, body, { "Idempotency-Key": attempt.key })
      .then(function (ticket) {
        pending = null;
        var id = kiosk.identity;
        var fromCard = Boolean(id && (id.source === "card" || (id.proxy && id.proxy.source === "card")));
        body = null;  // the ID number lives no longer than the request
        setBusy(false);
        kiosk.emit("taken", { fromCard: fromCard });
        H.closeOverlay(confirmBox);
        showSlip(ticket, fromCard);
        kiosk.say(t("slip_said", { number: ticket.number }), { phrase: "slip" });
      })
      .catch(function (error) {
        var transient = error instanceof H.ApiError && (error.status === 0 || error.status >= 500);
        if (transient && tries < RETRY_DELAYS.length) {
          setBusy(true, t("retrying"));
          setTimeout(function () { send(body, attempt, tries + 1); }, RETRY_DELAYS[tries]);
          return;
        }
        if (error instanceof H.ApiError && error.status === 401) {
          window.location.reload();  // the page's token expired: the session issues a new one
          return;
        }
        body = null;
        pending = null;
        setBusy(false);
        if (error.code === "already_waiting") { showHeld(error.message); return; }
        var title = t("errors." + (error.code || "error"));
        if (error.code === "id_number") title = t("checkin_errors.id_number");
        if (error.code === "identity_required") title = t("identity_first");
        confirmError.textContent = title.indexOf("errors.") === 0 ? t("errors.error") : title;
        confirmError.hidden = false;
        H.apiError(error);
      });
  }

  /* 409 already_waiting: the number the citizen already holds, large (一人一号). */
  function showHeld(message) {
    var found = /([A-Z]\d{3,})/.exec(message || "");
    document.getElementById("already-number").textContent = found
      ? t("already_number", { number: found[1] }) : t("already_unknown");
    heldBox.hidden = false;
    kiosk.say(found ? t("already_number", { number: found[1] }) : t("already_unknown"), null);
  }

  // -- slip --------------------------------------------------------------------------------
  function label(code, fallback) {
    var service = data.services[code];
    return service ? service.label : fallback || code;
  }

  function showSlip(ticket, fromCard) {
    document.getElementById("slip-appointment").hidden = true;
    var slip = document.getElementById("slip");
    slip.dataset.ticketId = ticket.id;
    document.getElementById("slip-number").textContent = ticket.number;
    var segments = ticket.services || [];
    var list = document.getElementById("slip-services");
    list.textContent = "";
    list.hidden = segments.length < 2;
    document.getElementById("slip-service").textContent = segments.length > 1
      ? t("slip_many", { n: segments.length }) : label(ticket.service, ticket.service_name);
    segments.forEach(function (segment) {
      if (segments.length < 2) return;
      var item = document.createElement("li");
      item.textContent = label(segment.service);
      list.appendChild(item);
    });
    var prio = document.getElementById("slip-priority");
    prio.hidden = ticket.priority === "none";
    prio.textContent = t("priority." + ticket.priority);
    document.getElementById("slip-ahead").textContent =
      ticket.position ? t("ahead_count", { n: ticket.position }) : t("you_are_next");
    document.getElementById("slip-estimate").textContent = H.estimate(ticket.estimated_wait);
    document.getElementById("slip-time").textContent = H.clock(ticket.issued_at, true);
    document.getElementById("slip-identity-row").hidden = !ticket.identified;
    document.getElementById("slip-identity").textContent = ticket.identified ? t("identified") : "";
    document.getElementById("slip-proxy-row").hidden = !ticket.proxy;
    document.getElementById("slip-card").hidden = !fromCard;
    // The QR code leads to the ticket's page with its rating key (in the address's fragment).
    var qr = data.qr_url.replace("TICKET_ID", encodeURIComponent(ticket.id));
    if (ticket.rating_key) qr += "?key=" + encodeURIComponent(ticket.rating_key);
    document.getElementById("slip-qr").src = qr;
    H.openOverlay(slipOverlay, function () { stopCountdown(); kiosk.emit("slip-closed"); });
    startCountdown();
  }
  kiosk.showSlip = showSlip;

  function startCountdown() {
    var left = SLIP_SECONDS;
    var countLabel = document.getElementById("slip-countdown");
    stopCountdown();
    if (kiosk.elder) { countLabel.textContent = ""; return; }  // 长辈版: nobody is hurried
    countLabel.textContent = "(" + left + ")";
    countdown = setInterval(function () {
      left -= 1;
      countLabel.textContent = "(" + left + ")";
      if (left <= 0) H.closeOverlay(slipOverlay);
    }, 1000);
  }

  function stopCountdown() {
    clearInterval(countdown);
    countdown = null;
  }
  kiosk.stopCountdown = stopCountdown;

  slipOverlay.addEventListener("click", function (event) {
    var button = event.target.closest("[data-action]");
    if (!button) return;
    if (button.dataset.action === "print") { window.print(); startCountdown(); }
    if (button.dataset.action === "done") H.closeOverlay(slipOverlay);
  });

  // -- live -------------------------------------------------------------------------------
  H.live([{ hall: data.hall }], {
    snapshot: function (msg) { if (msg.queues) updateQueues(msg.queues); },
    "queue.changed": function (msg) { updateQueues(msg.queues); }
  });
})();

/* Appointment check-in at the kiosk: by code, or by phone and the last 4 ID characters; and
   the ID's holder's own bookings: every booking made under an ID number, to confirm or cancel. */
(function () {
  "use strict";
  var H = window.Hall, data = H.data, t = H.t;
  var box = document.getElementById("checkin");
  var form = document.getElementById("checkin-form");
  var errorBox = document.getElementById("checkin-error");
  var button = document.getElementById("checkin-button");
  var heldList = document.getElementById("held-list");
  var mode = "code";
  var heldId = null;  // the ID number the list shown belongs to (kept only while it is shown)

  function setMode(next) {
    mode = next;
    Array.prototype.forEach.call(box.querySelectorAll("[data-mode]"), function (tab) {
      tab.setAttribute("aria-selected", String(tab.dataset.mode === mode));
    });
    Array.prototype.forEach.call(form.querySelectorAll("[data-for]"), function (el) {
      el.hidden = el.dataset.for !== mode;
    });
    button.textContent = t(mode === "id" ? "look_up" : "check_in");
    errorBox.hidden = true;
    var first = form.querySelector('[data-for="' + mode + '"] input');
    if (first) setTimeout(function () { first.focus(); }, 30);
  }

  function clearHeld() {
    heldId = null;
    heldList.textContent = "";
    heldList.hidden = true;
  }

  function setBusy(busy, text) {
    button.disabled = busy;
    button.classList.toggle("is-busy", busy);
    if (text) button.dataset.busyText = text;
  }

  function showError(error) {
    setBusy(false);
    if (error instanceof H.ApiError && error.status === 401) { window.location.reload(); return; }
    var title = t("checkin_errors." + error.code);
    if (title.indexOf("checkin_errors.") === 0) title = t("errors." + (error.code || "error"));
    errorBox.textContent = title + (error.code === "too_early" ? "(" + error.message + ")" : "");
    errorBox.hidden = false;
  }

  document.getElementById("checkin-open").addEventListener("click", function () {
    form.reset(); errorBox.hidden = true; setBusy(false); clearHeld();
    H.openOverlay(box, function () { form.reset(); clearHeld(); });
    setMode("code");
  });
  box.addEventListener("click", function (event) {
    var tab = event.target.closest("[data-mode]");
    if (tab) setMode(tab.dataset.mode);
    var action = event.target.closest("[data-action]");
    if (action && action.dataset.action === "cancel") H.closeOverlay(box);
  });

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    errorBox.hidden = true;
    if (mode === "id") { lookUp(); return; }
    var request = mode === "code"
      ? H.api("POST", data.checkin_code_url.replace("CODE", encodeURIComponent(form.elements.code.value.trim() || "-")))
      : H.api("POST", data.checkin_phone_url, { phone: form.elements.phone.value, id_last4: form.elements.id_last4.value });
    setBusy(true, t("checking_in"));
    request.then(function (ticket) {
      H.closeOverlay(box);
      window.HallKiosk.showSlip(ticket);
      var note = document.getElementById("slip-appointment");
      note.textContent = ticket.late ? t("appointment_late") : t("appointment_ok");
      note.dataset.late = String(ticket.late);
      note.hidden = false;
    }, showError);
  });

  // -- the ID's holder: bookings made under the ID number ---------------------------------------
  function lookUp() {
    var idNumber = form.elements.id_number.value.trim();
    clearHeld();
    setBusy(true, t("looking_up"));
    H.api("POST", data.lookup_url, { id_number: idNumber }).then(function (body) {
      setBusy(false);
      heldId = idNumber;
      renderHeld(body.appointments);
    }, showError);
  }

  function renderHeld(appointments) {
    heldList.textContent = "";
    heldList.hidden = false;
    if (!appointments.length) {
      var none = document.createElement("li");
      none.className = "held held--none";
      none.textContent = t("held_none");
      heldList.appendChild(none);
      return;
    }
    appointments.forEach(function (a) { heldList.appendChild(heldItem(a)); });
  }

  function heldItem(a) {
    var item = document.createElement("li");
    item.className = "held";
    item.dataset.code = a.code;
    var line = document.createElement("p");
    line.className = "held__line";
    line.textContent = t("held_line", {
      date: a.date, time: H.clock(a.start),
      service: H.lang === "en" && a.service_name_en ? a.service_name_en : a.service_name,
      phone: a.phone
    });
    var status = document.createElement("span");
    status.className = "pill";
    status.dataset.status = a.status;
    status.textContent = a.status === "booked" && a.verified
      ? t("held_confirmed") : t("held_statuses." + a.status);
    item.appendChild(line);
    item.appendChild(status);
    if (a.status === "booked") {
      if (!a.verified) item.appendChild(heldButton("confirm", t("held_confirm"), "button--ghost"));
      item.appendChild(heldButton("cancel", t("held_cancel"), "button--danger-ghost"));
    }
    return item;
  }

  function heldButton(action, label, style) {
    var b = document.createElement("button");
    b.type = "button";
    b.className = "button button--lg " + style;
    b.dataset.held = action;
    b.textContent = label;
    return b;
  }

  heldList.addEventListener("click", function (event) {
    var b = event.target.closest("[data-held]");
    if (!b || !heldId) return;
    var item = b.closest("[data-code]");
    var cancel = b.dataset.held === "cancel";
    var url = (cancel ? data.cancel_url : data.confirm_url).replace("CODE", encodeURIComponent(item.dataset.code));
    b.disabled = true;
    H.api("POST", url, { id_number: heldId }).then(function (a) {
      item.replaceWith(heldItem(a));
      H.toast(t(cancel ? "held_cancelled" : "held_confirmed"), "success");
    }, function (error) {
      b.disabled = false;
      if (error instanceof H.ApiError && error.status === 401) { window.location.reload(); return; }
      H.apiError(error);
    });
  });
})();
