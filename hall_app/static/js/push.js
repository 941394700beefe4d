/* Web Push opt-in of the citizen's ticket and appointment pages (issue 17).
 *
 * Registers the hall's service worker (/sw.js), shows the opt-in when the browser can receive
 * pushes, subscribes with the hall's VAPID public key on a tap and stores the subscription
 * with the API. A push the service worker receives while the page is open is also shown here.
 */
(function () {
  "use strict";
  var box = document.getElementById("push-optin");
  if (!box) return;
  if (!("serviceWorker" in navigator) || !("PushManager" in window) || !("Notification" in window)) return;
  var button = document.getElementById("push-button");
  var state = document.getElementById("push-state");

  function b64ToBytes(text) {
    var padded = (text + "===".slice((text.length + 3) % 4)).replace(/-/g, "+").replace(/_/g, "/");
    var raw = atob(padded);
    var bytes = new Uint8Array(raw.length);
    for (var i = 0; i < raw.length; i++) bytes[i] = raw.charCodeAt(i);
    return bytes;
  }

  function subscribed() {
    button.hidden = true;
    state.textContent = box.dataset.on;
    box.dataset.subscribed = "1";
  }

  navigator.serviceWorker.addEventListener("message", function (event) {
    var push = event.data && event.data.push;
    if (push) state.textContent = box.dataset.received + (push.body || "");
  });

  navigator.serviceWorker.register(box.dataset.sw, { scope: "/" }).then(
    function () {
      box.hidden = false;
      box.dataset.ready = "1";
    },
    function () { /* no service worker (private mode, old browser): no opt-in */ }
  );

  button.addEventListener("click", function () {
    button.disabled = true;
    var denied = false;
    Notification.requestPermission()
      .then(function (permission) {
        if (permission !== "granted") {
          denied = true;
          throw new Error("notifications not allowed");
        }
        return Promise.all([
          navigator.serviceWorker.ready,
          fetch(box.dataset.key, { headers: { Accept: "application/json" } }).then(function (r) { return r.json(); }),
        ]);
      })
      .then(function (both) {
        return both[0].pushManager.subscribe({
          userVisibleOnly: true,
          applicationServerKey: b64ToBytes(both[1].public_key),
        });
      })
      .then(function (subscription) {
        return fetch(box.dataset.url, {
          method: "POST",
          credentials: "same-origin",
          headers: { "Content-Type": "application/json", Accept: "application/json" },
          body: JSON.stringify(subscription.toJSON ? subscription.toJSON() : subscription),
        });
      })
      .then(function (response) {
        if (!response.ok) throw new Error("HTTP " + response.status);
        subscribed();
      })
      .catch(function () {
        button.disabled = false;
        state.textContent = denied ? box.dataset.denied : box.dataset.failed;
      });
  });
})();
