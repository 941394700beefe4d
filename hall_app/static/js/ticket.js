/* A citizen's ticket, live: position and estimate while waiting, the window when called. */
(function () {
  "use strict";
  var H = window.Hall, data = H.data, t = H.t;
  var ticket = data.ticket;  // with its services: names, status, rated (一次一评)
  var root = document.getElementById("ticket");
  var lastStatus = ticket.status;
  var recalledAt = 0;
  var ratingKey = findRatingKey();

  // The rating key comes in the address's fragment (#k=…, from the slip's QR code or the
  // online answer) and is kept on this phone, so that the page opened again still rates.
  function findRatingKey() {
    var store = "hall.rating." + ticket.id;
    var match = new RegExp("(?:^#|&)" + data.key_fragment + "=([^&]+)").exec(window.location.hash);
    var key = match ? decodeURIComponent(match[1]) : null;
    try {
      if (key) window.localStorage.setItem(store, key);
      else key = window.localStorage.getItem(store);
    } catch (e) { /* storage may be off: the fragment still works */ }
    return key;
  }

  function text(id, value) { document.getElementById(id).textContent = value; }

  function serviceName(tk) {
    return H.lang === "en" && tk.service_name_en ? tk.service_name_en : tk.service_name;
  }

  function render() {
    var status = ticket.status;
    root.dataset.status = status;
    text("t-number", ticket.number);
    text("t-service", serviceName(ticket));
    var pill = document.getElementById("t-status");
    pill.dataset.status = status;
    pill.textContent = t("status." + status);
    document.title = ticket.number + " · " + t("status." + status);

    var waiting = status === "waiting";
    renderCallout(status);

    H.show(document.getElementById("t-window-row"), Boolean(ticket.window));
    text("t-window", ticket.window
      ? t("window_label", { n: ticket.window }) + (ticket.window_name ? " · " + ticket.window_name : "")
      : "");
    H.show(document.getElementById("t-priority-row"), ticket.priority !== "none");
    text("t-priority", t("priority." + ticket.priority));
    text("t-issued", H.clock(ticket.issued_at, true));
    H.show(document.getElementById("cancel-button"), waiting);
    H.show(document.getElementById("t-note"), ["waiting", "called", "serving"].indexOf(status) >= 0);

    renderRating();

    if (status === "called" && lastStatus !== "called" && navigator.vibrate) {
      navigator.vibrate([300, 150, 300, 150, 600]);
    }
    lastStatus = status;
  }

  // -- 一次一评: each finished service of the visit is rated on its own, one after another ----
  // what the page knows of each service by its index: rated, its rectification open (a
  // refetched ticket brings the statuses only)
  var rated = {}, rectifiable = {}, followable = {};
  (ticket.services || []).forEach(function (s) {
    rated[s.index] = s.rated;
    rectifiable[s.index] = s.rectification_open;
    followable[s.index] = s.follow_up_open;  // 追评: rated before this page, once, within N days
  });

  function services() { return ticket.services || []; }

  function finished(s) {
    // a one-service ticket is done with its ticket (a live message may come before the refetch)
    return s.status === "done" || (services().length === 1 && ticket.status === "done");
  }

  function toRate() {
    return services().filter(function (s) { return finished(s) && !rated[s.index]; });
  }

  var thanksFor = null;  // the service the card showed when the thanks were said

  function renderRating() {
    var next = toRate()[0];
    var shown = next ? next.index : -1;
    // thanks for an earlier service go once the card asks for a service finished since
    if (thanksFor !== null && shown !== thanksFor) {
      document.getElementById("rate-done").hidden = true;
      thanksFor = null;
    }
    H.show(document.getElementById("rate-card"), Boolean(next) && Boolean(ratingKey));
    H.show(document.getElementById("rate-hint"), Boolean(next) && !ratingKey);
    serviceLine(document.getElementById("rate-service"), next);
    document.getElementById("rate-card").dataset.segment = next ? String(next.index) : "";
    // how many finished services wait for a rating, as the page knows them now
    document.getElementById("rate-card").dataset.toRate = String(toRate().length);
    // the rectification of a bad review, rated from the link of the "rectified" notice
    H.show(document.getElementById("rectify-card"), Boolean(rectifying()) && Boolean(ratingKey));
    renderFollowUp(next);
  }

  function serviceLine(line, segment) {
    var all = services();
    var multi = Boolean(segment) && all.length > 1;
    line.textContent = multi
      ? t("rate_service", { n: segment.index + 1, total: all.length, name: serviceName({
          service_name: segment.name, service_name_en: segment.name_en }) })
      : "";
    line.hidden = !multi;
  }

  function followingUp() {
    return services().filter(function (s) { return followable[s.index]; })[0];
  }

  function renderFollowUp(rating) {
    var segment = followingUp();
    // a rating to give comes first; the 追评 card offers the earliest service open to one
    H.show(document.getElementById("follow-card"), !rating && Boolean(segment) && Boolean(ratingKey));
    serviceLine(document.getElementById("follow-service"), segment);
  }

  function rectifying() {
    return services().filter(function (s) { return rectifiable[s.index]; })[0];
  }

  // A ticket from the API or a live message: the page names its services and keeps their
  // list when the fresh one has none (a live message).
  function take(fresh) {
    var list = (fresh.services || services()).map(function (s, i) {
      var names = data.service_names[s.service] || {};
      return { index: i, service: s.service, status: s.status,
        name: names.zh || s.service, name_en: names.en || "" };
    });
    ticket = Object.assign({}, fresh, { services: list });
  }

  function resetRateCard() {
    document.getElementById("rate-comment").value = "";
    document.querySelectorAll("#rate-indicators [data-indicator]").forEach(function (select) {
      select.value = "";
    });
    document.querySelectorAll("#rate-reasons input:checked").forEach(function (box) {
      box.checked = false;
    });
  }

  function renderCallout(status) {
    var box = document.getElementById("t-callout");
    var title = "", detail = "";
    if (status === "waiting") {
      title = ticket.position ? t("people_ahead", { n: ticket.position }) : t("you_are_next");
      var est = ticket.estimated_wait;
      var none = !est || (est.median_minutes < 0.5 && est.p90_minutes < 1);
      detail = none ? t("no_wait_line") : t("estimate_line", { text: H.estimate(est) });
    } else if (status === "called") {
      title = t("go_to_window", { window: ticket.window });
      detail = Date.now() - recalledAt < 60000 ? t("recalled") : (ticket.window_name || "");
    } else if (status === "serving") {
      title = t("serving_at", { window: ticket.window });
      detail = ticket.window_name || "";
    } else if (status === "done") {
      title = t("done_title"); detail = t("done_text");
    } else if (status === "no_show") {
      title = t("no_show_title"); detail = t("no_show_text");
    } else if (status === "cancelled") {
      title = t("cancelled_title"); detail = t("cancelled_text");
    }
    box.dataset.status = status;
    text("t-callout-title", title);
    text("t-callout-text", detail);
  }

  var refresh = H.debounce(function () {
    H.api("GET", data.ticket_url).then(function (fresh) { take(fresh); render(); }, function () {});
  }, 120);

  function onEvent(event) {
    if (event.type === "ticket.called" && event.window) {
      // Show the call at once; the refetch below fills in the rest.
      take(Object.assign({}, ticket, { status: "called", window: event.window, position: null }));
      render();
    }
    if (event.type === "ticket.recalled") {
      recalledAt = Date.now();
      if (navigator.vibrate) navigator.vibrate([300, 150, 300]);
    }
    refresh();
  }

  var events = ["ticket.called", "ticket.recalled", "ticket.started", "ticket.finished",
                "ticket.no_show", "ticket.transferred", "ticket.cancelled", "ticket.next_service"];
  var handlers = {
    // The join's snapshot carries no services: what happened before the join (the page was
    // still connecting, or offline for a while) is read again, statuses and all.
    snapshot: function (msg) { if (msg.ticket) { take(msg.ticket); render(); } refresh(); },
    "ticket.updated": function (msg) { if (msg.ticket) { take(msg.ticket); render(); } }
  };
  events.forEach(function (name) { handlers[name] = onEvent; });
  H.live([{ ticket: ticket.id }], handlers);

  // -- cancel ---------------------------------------------------------------------------------
  var confirmBox = document.getElementById("cancel-confirm");
  document.getElementById("cancel-button").addEventListener("click", function () {
    H.openOverlay(confirmBox);
  });
  confirmBox.addEventListener("click", function (event) {
    var button = event.target.closest("[data-action]");
    if (!button) return;
    if (button.dataset.action === "keep") H.closeOverlay(confirmBox);
    if (button.dataset.action === "confirm-cancel") {
      button.disabled = true;
      H.api("POST", data.cancel_url).then(function (fresh) {
        take(fresh);
        H.closeOverlay(confirmBox);
        render();
        H.toast(t("cancelled_ok"), "success");
      }, function (error) {
        H.closeOverlay(confirmBox);
        H.apiError(error);
        refresh();
      }).then(function () { button.disabled = false; });
    }
  });

  // -- 好差评 ---------------------------------------------------------------------------------
  document.getElementById("rate-card").addEventListener("click", function (event) {
    var button = event.target.closest("[data-score]");
    if (!button) return;
    var segment = toRate()[0];
    if (!segment) return;
    var score = Number(button.dataset.score);
    var comment = document.getElementById("rate-comment").value;
    var body = { score: score, comment: comment || null, key: ratingKey, segment: segment.index };
    // the hall's indicators: all of them or none; reasons only for a bad review
    var indicators = {};
    var selects = document.querySelectorAll("#rate-indicators [data-indicator]");
    var given = 0;
    selects.forEach(function (select) {
      if (select.value) { indicators[select.dataset.indicator] = Number(select.value); given += 1; }
    });
    if (given && given === selects.length) body.indicators = indicators;
    if (score <= 2) {
      var reasons = [];
      document.querySelectorAll("#rate-reasons input:checked").forEach(function (box) {
        reasons.push(box.value);
      });
      if (reasons.length) body.reasons = reasons;
    }
    var buttons = document.querySelectorAll("#rate-card [data-score]");
    buttons.forEach(function (b) { b.disabled = true; });
    H.api("POST", data.evaluation_url, body).then(function () {
      rated[segment.index] = true;
      resetRateCard();
      var done = document.getElementById("rate-done");
      var thanks = t(score <= 2 ? "rate_thanks_bad" : "rate_thanks") + " " + data.scores[String(score)];
      // more services of the visit to rate: say so, the card moves on to the next one
      var later = services().some(function (s) { return s.status === "pending" || s.status === "current"; });
      if (toRate().length) thanks += " " + t("rate_next", { n: segment.index + 1 });
      else if (later && ticket.status !== "done") thanks += " " + t("rate_later_segments");
      done.textContent = thanks;
      done.hidden = false;
      thanksFor = toRate().length ? toRate()[0].index : -1;
      render();
    }, function (error) {
      if (error.code === "already_rated") { rated[segment.index] = true; render(); }
      if (error.code === "invitation_expired" || error.code === "rating_key") {
        // the invitation's link is over (or not this visit's): say so on the card itself
        var note = document.getElementById("rate-done");
        note.textContent = t(error.code === "invitation_expired" ? "invitation_expired" : "invitation_wrong");
        note.hidden = false;
        thanksFor = segment.index;
      }
      H.apiError(error);
    }).then(function () { buttons.forEach(function (b) { b.disabled = false; }); });
  });

  document.getElementById("follow-button").addEventListener("click", function () {
    var segment = followingUp();
    var box = document.getElementById("follow-comment");
    if (!segment) return;
    if (!box.value.trim()) { H.toast(t("follow_up_empty"), "error"); box.focus(); return; }
    var button = this;
    button.disabled = true;
    var body = { key: ratingKey, segment: segment.index, comment: box.value.trim() };
    H.api("POST", data.follow_up_url, body).then(function () {
      followable[segment.index] = false;
      box.value = "";
      var done = document.getElementById("rate-done");
      done.textContent = t("follow_up_thanks");
      done.hidden = false;
      thanksFor = toRate().length ? toRate()[0].index : -1;
      render();
    }, function (error) {
      if (["already_followed_up", "follow_up_closed"].indexOf(error.code) >= 0) {
        followable[segment.index] = false;
        render();
      }
      H.apiError(error);
    }).then(function () { button.disabled = false; });
  });

  document.getElementById("rectify-card").addEventListener("click", function (event) {
    var button = event.target.closest("[data-rectification]");
    if (!button) return;
    var segment = rectifying();
    if (!segment) return;
    var body = { key: ratingKey, rating: button.dataset.rectification, segment: segment.index };
    H.api("POST", data.rectification.url, body).then(function () {
      rectifiable[segment.index] = false;
      var done = document.getElementById("rate-done");
      done.textContent = t("rectification_thanks");
      done.hidden = false;
      thanksFor = toRate().length ? toRate()[0].index : -1;
      render();
    }, function (error) {
      if (["already_rated", "rating_closed"].indexOf(error.code) >= 0) {
        rectifiable[segment.index] = false;
        render();
      }
      H.apiError(error);
    });
  });

  render();
})();
