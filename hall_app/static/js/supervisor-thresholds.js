/* Alert thresholds: read for supervisors, edit and save (PUT) for administrators. */
(function () {
  "use strict";
  var H = window.Hall, data = H.data, t = H.t, en = H.lang === "en";
  var form = document.getElementById("thresholds-form");
  var rows = document.getElementById("service-rows");
  var SERVICE_KEYS = ["wait_yellow_minutes", "wait_red_minutes", "handling_factor", "queue_per_window"];

  function fill(json) {
    Object.keys(json.hall).forEach(function (name) {
      var input = form.querySelector('[data-hall-field="' + name + '"]');
      if (!input) return;
      var value = json.hall[name];
      input.value = Array.isArray(value) ? value.join(", ") : value;
      var hint = form.querySelector('[data-default-for="' + name + '"]');
      var def = json.defaults[name];
      if (hint && !hint.textContent) hint.textContent = t("default", { v: Array.isArray(def) ? (def.join(", ") || "–") : def });
    });
    rows.textContent = "";
    data.services.forEach(function (s) {
      var tr = document.createElement("tr");
      tr.dataset.service = s.code;
      var name = document.createElement("td");
      name.textContent = en ? s.en : s.zh;
      tr.appendChild(name);
      var own = json.services[s.code] || {};
      SERVICE_KEYS.forEach(function (key) {
        var td = document.createElement("td");
        var input = document.createElement("input");
        input.type = "number"; input.step = "any"; input.min = "0";
        input.dataset.key = key;
        input.placeholder = t("inherit");
        input.readOnly = !data.editable;
        if (own[key] !== undefined) input.value = own[key];
        td.appendChild(input);
        tr.appendChild(td);
      });
      rows.appendChild(tr);
    });
    form.setAttribute("aria-busy", "false");
  }

  function collect() {
    var hall = {};
    Array.prototype.forEach.call(form.querySelectorAll("[data-hall-field]"), function (input) {
      var name = input.dataset.hallField;
      if (name === "scheduled_windows") {
        hall[name] = input.value.split(/[,,\s]+/).filter(Boolean).map(Number);
      } else if (input.value !== "") {
        hall[name] = Number(input.value);
      }
    });
    var services = {};
    Array.prototype.forEach.call(rows.querySelectorAll("tr"), function (tr) {
      var values = {};
      Array.prototype.forEach.call(tr.querySelectorAll("input"), function (input) {
        if (input.value !== "") values[input.dataset.key] = Number(input.value);
      });
      if (Object.keys(values).length) services[tr.dataset.service] = values;
    });
    return { hall: hall, services: services };
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    if (!data.editable) return;
    H.api("PUT", data.url, collect()).then(function (json) {
      fill(json);
      H.toast(t("saved"), "success");
    }, H.apiError);
  });

  H.api("GET", data.url).then(fill, H.apiError);
})();
