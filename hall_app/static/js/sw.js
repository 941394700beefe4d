/* The hall's service worker (issue 17): shows each Web Push as a notification.
 * The payload is JSON {"title", "body", "kind", "url"} sent by the webpush channel. */
"use strict";

self.addEventListener("install", function () { self.skipWaiting(); });
self.addEventListener("activate", function (event) { event.waitUntil(self.clients.claim()); });

self.addEventListener("push", function (event) {
  var data = {};
  if (event.data) {
    try { data = event.data.json(); } catch (e) { data = { body: event.data.text() }; }
  }
  var shown = self.registration.showNotification(data.title || "政务服务大厅", {
    body: data.body || "",
    tag: data.kind || "hall",
    renotify: true,
    lang: "zh-CN",
    data: { url: data.url || "/" },
  });
  var told = self.clients.matchAll({ type: "window", includeUncontrolled: true }).then(function (list) {
    list.forEach(function (client) { client.postMessage({ push: data }); });
  });
  event.waitUntil(Promise.all([shown, told]));
});

self.addEventListener("notificationclick", function (event) {
  event.notification.close();
  var url = (event.notification.data && event.notification.data.url) || "/";
  event.waitUntil(self.clients.openWindow(url));
});
