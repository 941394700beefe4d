/* The kiosk's identity step: the resident ID card read by the card reader's bridge on this PC
 * (GET {reader}/card → 200 {id_number, name}, or 204 while no card lies on it), an electronic
 * ID / government app QR code held to the same bridge's scanner (GET {reader}/qr → 200 {code}
 * once per scan; the server asks the identity platform, POST …/kiosk/eid), or the number typed
 * on the on-screen keypad. The server checks it (POST …/kiosk/identity → masked number, age
 * band, elderly).
 *
 * 代办 (proxy): the agent's identity first, then the principal's (the citizen served); the
 * ticket carries both (id_number = the principal's, proxy_id_number = the agent's).
 *
 * Numbers stay in this page's memory only until the ticket request is answered or the sheet is
 * closed: never in storage, a URL or a log.
 */
(function () {
  "use strict";
  var H = window.Hall, data = H.data, t = H.t, kiosk = window.HallKiosk;
  var POLL_MS = 1000;
  var box = document.getElementById("identity");
  var status = document.getElementById("reader-status");
  var display = document.getElementById("keypad-display");
  var prompt = document.getElementById("reader-prompt");
  var proxyToggle = document.getElementById("proxy-toggle");
  var typed = "";           // the keypad's digits (cleared with the sheet)
  var polling = null;
  var waitRemoval = false;  // a card already used lies on the reader: read again once it is gone
  var checking = false;
  var proxyMode = false;    // 代办: the agent's identity, then the principal's
  var agent = null;         // the agent's identity once read (proxy mode)

  function setState(state) {
    box.dataset.state = state;
    Array.prototype.forEach.call(box.querySelectorAll("[data-for]"), function (el) {
      el.hidden = el.dataset.for !== state;
    });
  }

  function setStatus(key) {
    status.dataset.state = key;
    status.textContent = t("reader." + key);
  }

  function reading() {
    return !checking && !kiosk.identity && box.dataset.state === "reader" && !box.hidden;
  }

  // -- the card reader ----------------------------------------------------------------------
  function poll() {
    if (!reading()) return;
    fetch(data.card_reader_url + "/card", { cache: "no-store", credentials: "omit" })
      .then(function (response) {
        if (response.status === 204) {
          waitRemoval = false;
          if (status.dataset.state !== "qr_reading") setStatus("waiting");
          return;
        }
        if (!response.ok) { setStatus("error"); return; }
        return response.json().then(function (card) {
          if (waitRemoval) { setStatus("used"); return; }
          if (!reading()) return;
          setStatus("reading");
          check(String(card.id_number || ""), card.name ? String(card.name) : null, "card");
        });
      })
      .catch(function () { setStatus("offline"); });
    if (data.eid_enabled) pollQr();
  }

  // -- the QR scanner (electronic ID, government app) ------------------------------------------
  function pollQr() {
    fetch(data.card_reader_url + "/qr", { cache: "no-store", credentials: "omit" })
      .then(function (response) {
        if (response.status !== 200) return;
        return response.json().then(function (scan) {
          if (!reading() || !scan || !scan.code) return;
          resolveQr(String(scan.code));
        });
      })
      .catch(function () { /* the card's poll tells the reader is offline */ });
  }

  function resolveQr(code) {
    checking = true;
    setStatus("qr_reading");
    H.api("POST", data.eid_url, { code: code }).then(function (answer) {
      checking = false;
      accept({
        id_number: answer.id_number, name: answer.name || null, source: "qr",
        masked_id: answer.masked_id, age_band: answer.age_band, elderly: answer.elderly
      });
    }, function (error) {
      checking = false;
      if (error instanceof H.ApiError && error.status === 401) { window.location.reload(); return; }
      var known = { eid_expired: "qr_expired", eid_invalid: "qr_invalid", id_number: "qr_invalid" };
      setStatus(known[error.code] || "qr_unavailable");
    });
  }

  function startPolling() {
    stopPolling();
    poll();
    polling = setInterval(poll, POLL_MS);
  }

  function stopPolling() {
    clearInterval(polling);
    polling = null;
  }

  // -- the server's check ---------------------------------------------------------------------
  function check(idNumber, name, source) {
    checking = true;
    H.api("POST", data.identity_url, { id_number: idNumber }).then(function (answer) {
      checking = false;
      if (source === "card") waitRemoval = true;
      typed = "";
      showTyped();
      accept({
        id_number: idNumber, name: name, source: source,
        masked_id: answer.masked_id, age_band: answer.age_band, elderly: answer.elderly
      });
    }, function (error) {
      checking = false;
      if (error instanceof H.ApiError && error.status === 401) { window.location.reload(); return; }
      if (source === "card") { waitRemoval = true; setStatus("invalid"); return; }
      typed = "";  // the next key starts the number again
      document.getElementById("keypad-ok").disabled = true;
      display.dataset.error = "true";
      display.textContent = t("checkin_errors.id_number");
    });
  }

  function who(identity) {
    return [maskName(identity.name), identity.masked_id].filter(Boolean).join("  ");
  }

  function accept(identity) {
    if (proxyMode && !agent) {  // the agent's identity: now the principal's
      agent = identity;
      document.getElementById("proxy-agent-who").textContent = who(identity);
      showProxySteps();
      setState("reader");
      setStatus(identity.source === "card" ? "used" : "waiting");
      if (identity.source === "card") status.textContent = t("proxy.taken");
      kiosk.say(t("reader.read"), { phrase: "read" });
      return;
    }
    if (proxyMode && agent) {
      if (agent.masked_id === identity.masked_id && agent.id_number === identity.id_number) {
        setStatus("invalid");  // the same person twice is no proxy
        return;
      }
      identity.proxy = agent;
    }
    document.getElementById("identity-who").textContent = who(identity);
    var proxyLine = document.getElementById("identity-proxy");
    proxyLine.hidden = !identity.proxy;
    proxyLine.textContent = identity.proxy ? t("proxy.for", { who: who(identity.proxy) }) : "";
    document.getElementById("identity-elder").hidden = !identity.elderly || Boolean(identity.proxy);
    setState("done");
    kiosk.emit("identity", identity);
    showProxySteps();  // after the identity is the kiosk's: the proxy steps are complete
    kiosk.say(t("reader.read"), { phrase: "read" });
  }

  /* 张三 → 张*: what the screen shows of a name (the server keeps the same, nothing more). */
  function maskName(name) {
    if (!name) return "";
    var chars = Array.from(name.trim());
    return chars.length ? chars[0] + "*".repeat(Math.max(chars.length - 1, 1)) : "";
  }

  // -- 代办 --------------------------------------------------------------------------------------
  function setProxy(on) {
    proxyMode = on;
    agent = null;
    kiosk.proxyPending = on;
    proxyToggle.setAttribute("aria-pressed", on ? "true" : "false");
    proxyToggle.classList.toggle("is-on", on);
    document.getElementById("proxy-agent-who").textContent = "";
    showProxySteps();
  }

  function showProxySteps() {
    var steps = document.getElementById("proxy-steps");
    steps.hidden = !proxyMode;
    var step = !proxyMode ? null : (agent ? (kiosk.identity ? "done" : "principal") : "agent");
    steps.dataset.step = step || "";
    document.getElementById("proxy-step-agent").classList.toggle("is-current", step === "agent");
    document.getElementById("proxy-step-agent").classList.toggle("is-done", Boolean(agent));
    document.getElementById("proxy-step-principal").classList.toggle("is-current", step === "principal");
    document.getElementById("proxy-step-principal").classList.toggle("is-done", step === "done");
    prompt.textContent = step === "agent" ? t("proxy.agent")
      : step === "principal" ? t("proxy.principal") : t("card_prompt");
    kiosk.proxyPending = proxyMode && step !== "done";
    kiosk.emit("identity-step", { proxy: proxyMode, step: step });
  }

  function clear(keepProxy) {
    typed = "";
    showTyped();
    document.getElementById("identity-elder").hidden = true;
    if (kiosk.identity) kiosk.emit("identity", null);
    setProxy(Boolean(keepProxy) && proxyMode);
    setState("reader");
    setStatus("waiting");
  }

  // -- the keypad -------------------------------------------------------------------------------
  function showTyped() {
    delete display.dataset.error;
    // grouped 6 · 8 · 4 as printed on the card, so a slip of the finger is easy to see
    display.textContent = typed ? [typed.slice(0, 6), typed.slice(6, 14), typed.slice(14)].filter(Boolean).join(" ") : t("keypad_hint");
    document.getElementById("keypad-ok").disabled = typed.length !== 18;
  }

  box.addEventListener("click", function (event) {
    var key = event.target.closest("[data-key]");
    if (key) {
      var value = key.dataset.key;
      if (value === "back") typed = typed.slice(0, -1);
      else if (typed.length < 18 && (value !== "X" || typed.length === 17)) typed += value;
      showTyped();  // never read aloud: the people nearby would hear the number
      return;
    }
    var action = event.target.closest("[data-action]");
    if (!action) return;
    if (action.dataset.action === "keypad") { typed = ""; showTyped(); setState("keypad"); }
    if (action.dataset.action === "reader") { typed = ""; showTyped(); setState("reader"); poll(); }
    if (action.dataset.action === "id-ok" && typed.length === 18) check(typed, null, "keypad");
    if (action.dataset.action === "id-clear") clear(false);
    if (action.dataset.action === "proxy") {
      var on = !proxyMode;
      clear(false);
      setProxy(on);
      poll();
    }
  });

  /* The services chosen decide the step: hidden when none asks for an identity ("off"). */
  document.addEventListener("kiosk:identity-mode", function (event) {
    var mode = event.detail;
    box.dataset.mode = mode;
    var off = mode === "off";
    if (off && !box.hidden) clear(false);
    box.hidden = off;
    document.getElementById("identity-need").textContent =
      t("identity_need." + (mode === "required" ? "required" : "optional"));
  });
  document.addEventListener("kiosk:sheet-open", function () {
    if (!kiosk.identity && box.dataset.state !== "keypad") setState("reader");
    startPolling();
  });
  document.addEventListener("kiosk:sheet-close", function () {
    stopPolling();
    clear(false);
  });
  document.addEventListener("kiosk:taken", function () {
    stopPolling();
    clear(false);
  });
  showTyped();
  setStatus("waiting");
  setProxy(false);
})();
