/* The window's evaluator: rating buttons appear when the clerk finishes a service.
 *
 * A level is chosen first; a bad one (不满意, 非常不满意) then asks for its reasons from the
 * hall's list, and a hall that asks for the on-site indicators (整体满意度, 服务效率, 服务水平,
 * 服务态度) shows them too (all or none are sent). A visit of several services is rated once
 * per service (一次一评): the prompt names the service just finished.
 */
(function () {
  "use strict";
  var H = window.Hall, data = H.data, t = H.t;
  var root = document.getElementById("evaluator");
  var buttons = document.getElementById("rate-buttons");
  var details = document.getElementById("ev-details");
  var reasonsBox = document.getElementById("ev-reasons");
  var csrf = document.querySelector('meta[name="csrf-token"]').content;
  var hasIndicators = data.form.indicators.length > 0;
  var hasReasons = data.form.reasons.length > 0;
  var idleTimer = null;
  var chosen = null;

  function set(state, title, text) {
    root.dataset.state = state;
    document.getElementById("ev-title").textContent = title;
    document.getElementById("ev-text").textContent = text || "";
    buttons.hidden = state !== "rating";
    details.hidden = state !== "details";
  }

  function idle() { chosen = null; set("idle", t("idle_title"), t("idle_text")); }

  function prompt(pending) {
    var text = pending.segments > 1
      ? t("segment", { n: pending.segment + 1, total: pending.segments, service: pending.service_name })
      : "";
    return [t("prompt", { number: pending.number }), text];
  }

  function show(pending) {
    clearTimeout(idleTimer);
    data.pending = pending;
    if (!pending) { idle(); return; }
    var words = prompt(pending);
    set("rating", words[0], words[1]);
  }

  function refresh() {
    fetch(data.pending_url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { return r.json(); })
      .then(function (body) { show(body.pending); }, function () {});
  }

  function pressed(selector) {
    return Array.prototype.slice.call(details.querySelectorAll(selector + '[aria-pressed="true"]'));
  }

  function ask(score) {
    chosen = score;
    details.querySelectorAll("[aria-pressed]").forEach(function (b) { b.setAttribute("aria-pressed", "false"); });
    reasonsBox.hidden = !(score <= 2 && hasReasons);
    document.getElementById("ev-details-title").textContent = t("chosen", { level: data.scores[String(score)] });
    set("details", document.getElementById("ev-title").textContent, document.getElementById("ev-text").textContent);
  }

  function submit(score) {
    var body = { score: score };
    if (score <= 2) {
      var reasons = pressed(".ev-reason").map(function (b) { return b.dataset.reason; });
      if (reasons.length) body.reasons = reasons;
    }
    var rows = details.querySelectorAll(".ev-indicator");
    var indicators = {};
    var given = 0;
    rows.forEach(function (row) {
      var level = row.querySelector('.ev-level[aria-pressed="true"]');
      if (level) { indicators[row.dataset.indicator] = Number(level.dataset.level); given += 1; }
    });
    if (given && given === rows.length) body.indicators = indicators;
    buttons.hidden = true;
    details.hidden = true;
    fetch(data.rate_url, {
      method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", Accept: "application/json", "X-CSRFToken": csrf },
      body: JSON.stringify(body)
    }).then(function (r) {
      if (!r.ok) throw new Error(String(r.status));
      set("thanks", t(score <= 2 ? "thanks_bad" : "thanks"), data.scores[String(score)]);
      idleTimer = setTimeout(refresh, 8000);
    }).catch(function () { H.toast(t("errors.error"), "error"); refresh(); });
  }

  buttons.addEventListener("click", function (event) {
    var button = event.target.closest("[data-score]");
    if (!button) return;
    var score = Number(button.dataset.score);
    if (hasIndicators || (score <= 2 && hasReasons)) ask(score);
    else submit(score);
  });

  details.addEventListener("click", function (event) {
    var level = event.target.closest(".ev-level");
    if (level) {
      level.parentElement.querySelectorAll(".ev-level").forEach(function (b) { b.setAttribute("aria-pressed", "false"); });
      level.setAttribute("aria-pressed", "true");
      return;
    }
    var reason = event.target.closest(".ev-reason");
    if (reason) {
      reason.setAttribute("aria-pressed", reason.getAttribute("aria-pressed") === "true" ? "false" : "true");
    }
  });
  document.getElementById("ev-submit").addEventListener("click", function () { if (chosen) submit(chosen); });
  document.getElementById("ev-back").addEventListener("click", function () { show(data.pending); });

  show(data.pending);
  H.live([{ window: data.window_id }], {
    "ticket.finished": function () { refresh(); },
    "ticket.called": function () { if (root.dataset.state !== "thanks") idle(); }
  });
})();
