/* The kiosk's 长辈版 (elder mode, per the MIIT 适老化 guidance for web pages): one touch from the
 * start screen, and on by itself when the identity step finds a citizen of 70 or more. Larger
 * type and buttons (three sizes to choose from), wider spacing, the hall's most used services
 * first, every choice read aloud with the board's offline voice (display/speaker.js: the
 * browser's Mandarin voice, else the server's espeak-ng recording), and no countdown that sends
 * a slow reader back to the start. It ends with the citizen's slip, for the next person.
 */
(function () {
  "use strict";
  var H = window.Hall, data = H.data, t = H.t, kiosk = window.HallKiosk;
  var SIZES = ["large", "larger", "largest"];
  var toggle = document.getElementById("elder-toggle");
  var sizeOut = document.getElementById("elder-size");
  var mostUsed = document.getElementById("most-used");
  var size = 0;
  var speaker = null;

  function speakerOf() {
    if (!speaker && window.HallSpeaker) {
      var silent = new URLSearchParams(window.location.search).get("silent") === "1";
      speaker = new window.HallSpeaker.Speaker({ hall: data.hall, silent: silent });
    }
    return speaker;
  }

  /* The most used services first: copies of their tiles (the zones below keep theirs). */
  function buildMostUsed() {
    var box = document.getElementById("most-used-tiles");
    if (box.childElementCount) return;
    (data.most_used || []).slice(0, 6).forEach(function (code) {
      var tile = document.querySelector('.zone:not(.zone--most-used) .tile[data-service="' + code + '"]');
      if (tile) box.appendChild(tile.cloneNode(true));
    });
  }

  function setSize(next) {
    size = Math.max(0, Math.min(SIZES.length - 1, next));
    document.body.dataset.elderSize = SIZES[size];
    sizeOut.textContent = t("elder_sizes." + SIZES[size]);
  }

  function setElder(on, spoken) {
    if (kiosk.elder === on) return;
    kiosk.elder = on;
    document.body.classList.toggle("kiosk--elder", on);
    toggle.setAttribute("aria-pressed", String(on));
    if (on) buildMostUsed();
    mostUsed.hidden = !on;
    kiosk.stopCountdown();
    if (on && spoken !== false) say(t("elder_on"), { phrase: "elder" });
  }

  function say(text, params) {
    if (!kiosk.elder || !text) return;
    var voice = speakerOf();
    if (voice) voice.sayText(text, params, data.speech_url);
  }
  kiosk.say = say;

  toggle.addEventListener("click", function () {
    var voice = speakerOf();
    if (voice) voice.unlock();
    setElder(!kiosk.elder);
  });
  document.querySelector(".elder-size").addEventListener("click", function (event) {
    var button = event.target.closest("[data-size]");
    if (button) setSize(size + Number(button.dataset.size));
  });
  document.addEventListener("kiosk:identity", function (event) {
    // not for 代办: the agent, not the elderly citizen, stands at the kiosk
    if (event.detail && event.detail.elderly && !event.detail.proxy && !kiosk.elder) {
      setElder(true, false);
      say(t("elder_auto"), { phrase: "elder" });
    }
  });
  document.addEventListener("kiosk:slip-closed", function () { setElder(false); });
  setSize(0);
  window.HallKioskElder = { setElder: setElder, say: say };
})();
