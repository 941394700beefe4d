/* Shared helpers of the hall pages: page data, translated strings, API calls, toasts, live. */
(function () {
  "use strict";

  var node = document.getElementById("page-data");
  var data = node ? JSON.parse(node.textContent) : {};
  var strings = data.strings || {};
  var lang = document.documentElement.lang === "en" ? "en" : "zh-CN";

  /** A translated string from the page ("a.b" for nested ones) with {placeholders} filled. */
  function t(key, vars) {
    var value = key.split(".").reduce(function (obj, part) {
      return obj && obj[part] !== undefined ? obj[part] : undefined;
    }, strings);
    if (typeof value !== "string") return key;
    return value.replace(/\{(\w+)\}/g, function (whole, name) {
      return vars && vars[name] !== undefined ? String(vars[name]) : whole;
    });
  }

  function ApiError(status, code, message) {
    this.status = status;
    this.code = code;
    this.message = message || "";
  }

  /** Call the JSON API with the page's bearer token; throws ApiError on any failure. */
  function api(method, url, body, headers) {
    var init = { method: method, headers: { Accept: "application/json" }, credentials: "same-origin" };
    if (data.token) init.headers.Authorization = "Bearer " + data.token;
    if (body !== undefined) {
      init.headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    Object.keys(headers || {}).forEach(function (k) { init.headers[k] = headers[k]; });
    return fetch(url, init).then(
      function (response) {
        if (response.status === 204) return null;
        return response.json().then(
          function (json) {
            if (response.ok) return json;
            throw new ApiError(response.status, json.error || "error", json.message);
          },
          function () {
            if (response.ok) return null;
            throw new ApiError(response.status, "error", response.statusText);
          }
        );
      },
      function () { throw new ApiError(0, "network", ""); }
    );
  }

  var toastBox = document.getElementById("toasts");

  /** A short message at the bottom of the screen: kind is info, success or error. */
  function toast(title, kind, detail) {
    var el = document.createElement("div");
    el.className = "toast toast--" + (kind || "info");
    el.setAttribute("role", kind === "error" ? "alert" : "status");
    var strong = document.createElement("strong");
    strong.className = "toast__title";
    strong.textContent = title;
    el.appendChild(strong);
    if (detail) {
      var small = document.createElement("span");
      small.className = "toast__detail";
      small.textContent = detail;
      el.appendChild(small);
    }
    toastBox.appendChild(el);
    while (toastBox.children.length > 4) toastBox.removeChild(toastBox.firstChild);
    setTimeout(function () { el.classList.add("toast--leaving"); }, kind === "error" ? 6500 : 3500);
    setTimeout(function () { el.remove(); }, kind === "error" ? 7000 : 4000);
  }

  /** Show an API failure readably: a translated title and the server's own message. */
  function apiError(error) {
    if (!(error instanceof ApiError)) {
      toast(t("errors.error"), "error", String(error));
      return;
    }
    var title = t("errors." + error.code);
    if (title === "errors." + error.code) title = t("errors.error");
    toast(title, "error", error.message);
  }

  Array.prototype.forEach.call(document.querySelectorAll("[data-flash]"), function (el) {
    setTimeout(function () { el.classList.add("toast--leaving"); }, 6000);
    setTimeout(function () { el.remove(); }, 6500);
  });

  /** Connect to the live events, join the rooms on every (re)connect, show the link state. */
  function live(rooms, handlers) {
    var dot = document.getElementById("live-state");
    function mark(state) {
      if (!dot) return;
      dot.dataset.state = state;
      dot.textContent = state === "online" ? t("live") : t("offline");
    }
    mark("connecting");
    if (typeof io !== "function") return null;
    var socket = io({ transports: ["websocket", "polling"], reconnectionDelayMax: 5000 });
    socket.on("connect", function () {
      mark("online");
      rooms.forEach(function (room) { socket.emit("join", room); });
      if (handlers.connect) handlers.connect();
    });
    socket.on("error", function (error) {
      // A join answered 503 (database busy or away for a moment): join again shortly.
      if (error && error.status === 503) {
        setTimeout(function () {
          if (socket.connected) rooms.forEach(function (room) { socket.emit("join", room); });
        }, 1500);
      }
    });
    socket.on("disconnect", function () { mark("offline"); });
    socket.on("connect_error", function () { mark("offline"); });
    Object.keys(handlers).forEach(function (name) {
      if (name !== "connect") socket.on(name, handlers[name]);
    });
    return socket;
  }

  /** Whole minutes for people: 0.3 → "<1"-like 1, never a decimal. */
  function wholeMinutes(value) {
    return Math.max(1, Math.ceil(Number(value) || 0));
  }

  /** An estimate {median_minutes, p90_minutes} as text ("no wait" when nothing is ahead). */
  function estimate(est, short) {
    if (!est) return "–";
    if (est.median_minutes < 0.5 && est.p90_minutes < 1) return t("no_wait");
    var median = wholeMinutes(est.median_minutes);
    var p90 = Math.max(median, wholeMinutes(est.p90_minutes));
    return t(short ? "estimate_short" : "estimate", { median: median, p90: p90 });
  }

  /** Clock time of an ISO timestamp in the hall's own time zone. */
  function clock(iso, withDate) {
    if (!iso) return "";
    var options = { hour: "2-digit", minute: "2-digit", hour12: false, timeZone: data.timezone || undefined };
    if (withDate) { options.month = "2-digit"; options.day = "2-digit"; }
    try {
      return new Intl.DateTimeFormat(lang, options).format(new Date(iso));
    } catch (e) {
      return iso.slice(11, 16);
    }
  }

  /** mm:ss (or h:mm:ss) since an ISO timestamp. */
  function elapsed(iso) {
    var seconds = Math.max(0, Math.floor((Date.now() - new Date(iso).getTime()) / 1000));
    var h = Math.floor(seconds / 3600), m = Math.floor((seconds % 3600) / 60), s = seconds % 60;
    var mm = (h ? String(m).padStart(2, "0") : String(m)) + ":" + String(s).padStart(2, "0");
    return h ? h + ":" + mm : mm;
  }

  /** A random key for Idempotency-Key (works without a secure context, unlike randomUUID). */
  function randomKey() {
    var bytes = new Uint8Array(16);
    window.crypto.getRandomValues(bytes);
    return Array.prototype.map.call(bytes, function (b) { return b.toString(16).padStart(2, "0"); }).join("");
  }

  /** Run fn at most once per `wait` ms, trailing. */
  function debounce(fn, wait) {
    var timer = null;
    return function () {
      clearTimeout(timer);
      timer = setTimeout(fn, wait);
    };
  }

  function show(el, visible) { if (el) el.hidden = !visible; }

  /** Open an overlay dialog: focus its first control; Esc or the backdrop closes it. */
  function openOverlay(overlay, onClose) {
    overlay.hidden = false;
    overlay._onClose = onClose;
    var first = null;
    ["[autofocus]", "input:checked", "button:not([data-close])", "input, select"].some(function (sel) {
      first = overlay.querySelector(sel);
      return first !== null;
    });
    if (first) setTimeout(function () { first.focus({ preventScroll: true }); }, 30);
  }

  function closeOverlay(overlay) {
    if (overlay.hidden) return;
    overlay.hidden = true;
    if (overlay._onClose) overlay._onClose();
  }

  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape") return;
    var open = document.querySelectorAll(".overlay:not([hidden])");
    if (open.length) closeOverlay(open[open.length - 1]);
  });
  document.addEventListener("click", function (event) {
    var target = event.target;
    if (target.classList && target.classList.contains("overlay") && !target.classList.contains("overlay--slip")) {
      closeOverlay(target);
    } else if (target.closest && target.closest("[data-close]")) {
      closeOverlay(target.closest(".overlay"));
    }
  });

  window.Hall = {
    data: data, t: t, api: api, ApiError: ApiError, toast: toast, apiError: apiError, live: live,
    estimate: estimate, clock: clock, elapsed: elapsed, randomKey: randomKey, debounce: debounce,
    show: show, openOverlay: openOverlay, closeOverlay: closeOverlay, lang: lang
  };
})();
