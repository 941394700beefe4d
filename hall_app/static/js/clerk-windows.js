/* The clerk's window picker: every window of the hall with its state; open one and go in. */
(function () {
  "use strict";
  var H = window.Hall, data = H.data, t = H.t;
  var list = document.getElementById("window-list");
  var busy = false;

  function el(tag, className, textContent) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (textContent !== undefined) node.textContent = textContent;
    return node;
  }

  function card(w) {
    var mine = w.state !== "closed" && w.clerk === data.username;
    var taken = w.state !== "closed" && !mine;
    var button = el("button", "window-card" + (mine ? " window-card--mine" : ""));
    button.type = "button";
    button.dataset.window = w.id;
    button.dataset.state = w.state;
    button.disabled = taken;
    var head = el("span", "window-card__head");
    head.appendChild(el("span", "window-card__number", String(w.number)));
    var pill = el("span", "pill", t("states." + w.state));
    pill.dataset.state = w.state;
    head.appendChild(pill);
    button.appendChild(head);
    button.appendChild(el("span", "window-card__name", w.name));
    var foot = el("span", "window-card__foot");
    if (mine) foot.textContent = t("mine");
    else if (taken) foot.textContent = t("in_use_by", { clerk: w.clerk });
    else foot.textContent = t("open_it");
    if (w.current_ticket) foot.textContent += " · " + t("current", { number: w.current_ticket.number });
    button.appendChild(foot);
    return button;
  }

  function render(windows) {
    var zones = [];
    var byZone = {};
    windows.slice().sort(function (a, b) { return a.number - b.number; }).forEach(function (w) {
      if (!byZone[w.zone]) { byZone[w.zone] = []; zones.push(w.zone); }
      byZone[w.zone].push(w);
    });
    list.textContent = "";
    zones.forEach(function (zone) {
      var section = el("section", "picker__zone");
      section.appendChild(el("h2", "picker__zone-title", data.zones[zone] || zone));
      var grid = el("div", "picker__grid");
      byZone[zone].forEach(function (w) { grid.appendChild(card(w)); });
      section.appendChild(grid);
      list.appendChild(section);
    });
    list.setAttribute("aria-busy", "false");
  }

  function load() {
    return H.api("GET", data.windows_url).then(function (body) { render(body.windows); }, H.apiError);
  }

  list.addEventListener("click", function (event) {
    var button = event.target.closest(".window-card");
    if (!button || button.disabled || busy) return;
    var id = button.dataset.window;
    var go = function () { window.location.href = data.console_url.replace("WINDOW_ID", id); };
    if (button.dataset.state !== "closed") { go(); return; }
    busy = true;
    button.classList.add("is-busy");
    H.api("POST", data.open_url.replace("WINDOW_ID", encodeURIComponent(id))).then(go, function (error) {
      busy = false;
      button.classList.remove("is-busy");
      H.apiError(error);
      load();
    });
  });

  load();
  var reload = H.debounce(load, 200);
  H.live([{ hall: data.hall }], {
    snapshot: function (msg) { if (msg.windows) render(msg.windows); },
    "window.changed": reload,
    "ticket.called": reload,
    "ticket.finished": reload
  });
})();
