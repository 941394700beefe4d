/* The window's evaluator: rating buttons appear when the clerk finishes a visit. */
(function () {
  "use strict";
  var H = window.Hall, data = H.data, t = H.t;
  var root = document.getElementById("evaluator");
  var buttons = document.getElementById("rate-buttons");
  var csrf = document.querySelector('meta[name="csrf-token"]').content;
  var idleTimer = null;

  function set(state, title, text) {
    root.dataset.state = state;
    document.getElementById("ev-title").textContent = title;
    document.getElementById("ev-text").textContent = text || "";
    buttons.hidden = state !== "rating";
  }

  function idle() { set("idle", t("idle_title"), t("idle_text")); }

  function show(pending) {
    clearTimeout(idleTimer);
    if (pending) set("rating", t("prompt", { number: pending.number }), "");
    else idle();
  }

  function refresh() {
    fetch(data.pending_url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { return r.json(); })
      .then(function (body) { show(body.pending); }, function () {});
  }

  buttons.addEventListener("click", function (event) {
    var button = event.target.closest("[data-score]");
    if (!button) return;
    var score = Number(button.dataset.score);
    buttons.hidden = true;
    fetch(data.rate_url, {
      method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", Accept: "application/json", "X-CSRFToken": csrf },
      body: JSON.stringify({ score: score })
    }).then(function (r) {
      if (!r.ok) throw new Error(String(r.status));
      set("thanks", t(score <= 2 ? "thanks_bad" : "thanks"), data.scores[String(score)]);
      idleTimer = setTimeout(refresh, 8000);
    }).catch(function () { H.toast(t("errors.error"), "error"); refresh(); });
  });

  show(data.pending);
  H.live([{ window: data.window_id }], {
    "ticket.finished": function () { refresh(); },
    "ticket.called": function () { if (root.dataset.state !== "thanks") idle(); }
  });
})();
