/* Booking: choose a service, a day and a slot, then who is coming; the API checks the rest. */
(function () {
  "use strict";
  var H = window.Hall, data = H.data, t = H.t;
  var service = null, day = null, slot = null;
  var slotStep = document.getElementById("slot-step");
  var form = document.getElementById("book-form");
  var errorBox = document.getElementById("book-error");

  function dayLabel(iso, index) {
    var d = new Date(iso + "T00:00:00");
    var text = new Intl.DateTimeFormat(H.lang, { month: "numeric", day: "numeric", weekday: "short" }).format(d);
    return index === 0 && iso === todayIso ? t("today") + " · " + text : text;
  }
  var todayIso = null;

  document.getElementById("services").addEventListener("change", function (event) {
    service = event.target.value;
    day = null; slot = null;
    form.hidden = true;
    load();
  });

  function load() {
    var url = data.slots_url.replace("SERVICE", encodeURIComponent(service)) + (day ? "?date=" + day : "");
    H.api("GET", url).then(function (body) {
      if (!todayIso) todayIso = body.bookable_dates[0];
      day = body.date;
      renderDates(body.bookable_dates);
      renderSlots(body.slots);
      slotStep.hidden = false;
    }, H.apiError);
  }

  function renderDates(dates) {
    var box = document.getElementById("dates");
    box.textContent = "";
    dates.forEach(function (iso, i) {
      var b = document.createElement("button");
      b.type = "button"; b.className = "date-tab"; b.setAttribute("role", "tab");
      b.setAttribute("aria-selected", String(iso === day));
      b.textContent = dayLabel(iso, i);
      b.addEventListener("click", function () { day = iso; slot = null; form.hidden = true; load(); });
      box.appendChild(b);
    });
  }

  function renderSlots(slots) {
    var box = document.getElementById("slots");
    box.textContent = "";
    var shown = slots.filter(function (s) { return s.bookable || s.available === 0; });
    if (!shown.length) {
      var p = document.createElement("p"); p.className = "empty-note"; p.textContent = t("no_slots");
      box.appendChild(p); return;
    }
    shown.forEach(function (s) {
      var b = document.createElement("button");
      b.type = "button"; b.className = "slot"; b.disabled = !s.bookable;
      b.dataset.start = s.time;
      var time = document.createElement("strong"); time.textContent = s.time;
      var left = document.createElement("small");
      left.textContent = s.available ? t("left", { n: s.available }) : t("full");
      b.appendChild(time); b.appendChild(left);
      b.addEventListener("click", function () { choose(s, b); });
      box.appendChild(b);
    });
  }

  function choose(s, button) {
    slot = s;
    Array.prototype.forEach.call(document.querySelectorAll(".slot"), function (el) {
      el.setAttribute("aria-pressed", String(el === button));
    });
    var label = document.querySelector('input[name="service"]:checked').dataset.name;
    document.getElementById("chosen").textContent = label + " · " + day + " " + s.time;
    form.hidden = false;
    errorBox.hidden = true;
    form.querySelector('input[name="name"]').focus({ preventScroll: true });
    form.scrollIntoView({ behavior: "smooth", block: "start" });
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    if (!slot) return;
    var button = document.getElementById("book-button");
    button.disabled = true;
    button.classList.add("is-busy"); button.dataset.busyText = t("booking");
    H.api("POST", data.book_url, {
      service: service, date: day, start: slot.time,
      name: form.elements.name.value, phone: form.elements.phone.value,
      id_number: form.elements.id_number.value
    }).then(function (appointment) {
      window.location.href = data.appointment_page.replace("CODE", appointment.code);
    }, function (error) {
      button.disabled = false; button.classList.remove("is-busy");
      var title = t("errors_booking." + error.code);
      if (title.indexOf("errors_booking.") === 0) title = t("errors." + (error.code || "error"));
      if (title.indexOf("errors.") === 0) title = t("errors.error");
      errorBox.textContent = title + (error.code === "booking_banned" ? "(" + error.message + ")" : "");
      errorBox.hidden = false;
      if (error.code === "slot_full") load();
    });
  });
})();
