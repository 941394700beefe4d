/* The kiosk's identity step: the resident ID card read by the card reader's bridge on this PC
 * (GET {reader}/card → 200 {id_number, name}, or 204 while no card lies on it), or the number
 * typed on the on-screen keypad. The server checks it (POST …/kiosk/identity → masked number,
 * age band, elderly); the number stays in this page's memory only until the ticket request is
 * answered or the sheet is closed: never in storage, a URL or a log.
 */
(function () {
  "use strict";
  var H = window.Hall, data = H.data, t = H.t, kiosk = window.HallKiosk;
  var POLL_MS = 1000;
  var box = document.getElementById("identity");
  var status = document.getElementById("reader-status");
  var display = document.getElementById("keypad-display");
  var typed = "";           // the keypad's digits (cleared with the sheet)
  var polling = null;
  var waitRemoval = false;  // a card already used lies on the reader: read again once it is gone
  var checking = false;

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

  // -- the card reader ----------------------------------------------------------------------
  function poll() {
    if (checking || kiosk.identity || box.dataset.state !== "reader") return;
    fetch(data.card_reader_url + "/card", { cache: "no-store", credentials: "omit" })
      .then(function (response) {
        if (response.status === 204) {
          waitRemoval = false;
          setStatus("waiting");
          return;
        }
        if (!response.ok) { setStatus("error"); return; }
        return response.json().then(function (card) {
          if (waitRemoval) { setStatus("used"); return; }
          if (kiosk.identity || box.dataset.state !== "reader") return;
          setStatus("reading");
          check(String(card.id_number || ""), card.name ? String(card.name) : null, "card");
        });
      })
      .catch(function () { setStatus("offline"); });
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

  function accept(identity) {
    var who = [maskName(identity.name), identity.masked_id].filter(Boolean).join("  ");
    document.getElementById("identity-who").textContent = who;
    document.getElementById("identity-elder").hidden = !identity.elderly;
    setState("done");
    kiosk.emit("identity", identity);
    kiosk.say(t("reader.read"), { phrase: "read" });
  }

  /* 张三 → 张*: what the screen shows of a name (the server keeps the same, nothing more). */
  function maskName(name) {
    if (!name) return "";
    var chars = Array.from(name.trim());
    return chars.length ? chars[0] + "*".repeat(Math.max(chars.length - 1, 1)) : "";
  }

  function clear() {
    typed = "";
    showTyped();
    document.getElementById("identity-elder").hidden = true;
    if (kiosk.identity) kiosk.emit("identity", null);
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
    if (action.dataset.action === "id-clear") clear();
  });

  document.addEventListener("kiosk:sheet-open", function () {
    if (!kiosk.identity) setState(box.dataset.state === "keypad" ? "keypad" : "reader");
    startPolling();
  });
  document.addEventListener("kiosk:sheet-close", function () {
    stopPolling();
    clear();
  });
  document.addEventListener("kiosk:taken", function () {
    stopPolling();
    clear();
  });
  showTyped();
  setStatus("waiting");
})();
