/* The planner's "next week" tab: forecast with intervals, windows needed vs rostered, the roster grid, XLSX. */
(function () {
  "use strict";

  var H = window.Hall;
  var t = H.t;
  var data = H.data;
  var BLUE = "#0b5cad", RED = "#c8102e", GREEN = "#10805a", GREY = "#9aa7b8";
  var forecastChart = null, needChart = null, plan = null;
  var staffText = document.getElementById("week-staff");
  var errorBox = document.getElementById("week-error");
  staffText.value = data.staff_example;

  function nextMonday() {
    var d = new Date();
    d.setDate(d.getDate() + ((8 - d.getDay()) % 7 || 7));
    return d.toISOString().slice(0, 10);
  }
  document.getElementById("week-start").value = nextMonday();

  document.querySelectorAll(".planner__tab").forEach(function (tab) {
    tab.addEventListener("click", function () {
      document.querySelectorAll(".planner__tab").forEach(function (other) {
        var on = other === tab;
        other.classList.toggle("is-active", on);
        other.setAttribute("aria-selected", on ? "true" : "false");
      });
      document.querySelectorAll("[data-panel]").forEach(function (panel) {
        panel.hidden = panel.getAttribute("data-panel") !== tab.getAttribute("data-tab");
      });
      if (forecastChart) { forecastChart.resize(); needChart.resize(); }
    });
  });

  function body() {
    return {
      start: document.getElementById("week-start").value || null,
      days: Number(document.getElementById("week-days").value) || 7,
      repair: document.getElementById("week-repair").value,
      staff: staffText.value
    };
  }

  function stat(label, value) {
    var box = document.createElement("div");
    box.className = "stat";
    box.innerHTML = '<span class="stat__num"></span><span class="stat__label"></span>';
    box.firstChild.textContent = value;
    box.lastChild.textContent = label;
    return box;
  }

  function labels(days, intervals) {
    var out = [];
    days.forEach(function (d) {
      if (!d.open) return;
      intervals.forEach(function (start) { out.push(d.date.slice(5) + " " + start); });
    });
    return out;
  }

  function drawForecast(result) {
    var days = result.forecast.days.filter(function (d) { return d.open; });
    var x = [], mean = [], low = [], band = [];
    days.forEach(function (d) {
      d.intervals.forEach(function (i) {
        x.push(d.date.slice(5) + " " + i.start);
        mean.push(i.expected);
        low.push(i.low);
        band.push(Math.max(i.high - i.low, 0));
      });
    });
    forecastChart = forecastChart || echarts.init(document.getElementById("chart-forecast"));
    forecastChart.setOption({
      tooltip: { trigger: "axis" },
      legend: { data: [t("expected"), t("band")] },
      grid: { left: 50, right: 20, top: 40, bottom: 60 },
      xAxis: { type: "category", data: x, axisLabel: { interval: 17 } },
      yAxis: { type: "value" },
      dataZoom: [{ type: "inside" }, { type: "slider", height: 18, bottom: 8 }],
      series: [
        { name: "low", type: "line", data: low, stack: "band", lineStyle: { opacity: 0 }, symbol: "none", tooltip: { show: false } },
        { name: t("band"), type: "line", data: band, stack: "band", lineStyle: { opacity: 0 }, symbol: "none", areaStyle: { color: "rgba(11,92,173,0.18)" } },
        { name: t("expected"), type: "line", data: mean, symbol: "none", lineStyle: { color: BLUE, width: 2 }, itemStyle: { color: BLUE } }
      ]
    }, true);
  }

  function drawNeed(result) {
    var r = result.roster;
    var x = labels(result.requirement.days, r.intervals), need = [], got = [];
    r.days.forEach(function (d) {
      if (!d.open) return;
      need = need.concat(d.required);
      got = got.concat(d.rostered);
    });
    needChart = needChart || echarts.init(document.getElementById("chart-need"));
    needChart.setOption({
      tooltip: { trigger: "axis" },
      legend: { data: [t("required"), t("rostered")] },
      grid: { left: 50, right: 20, top: 40, bottom: 60 },
      xAxis: { type: "category", data: x, axisLabel: { interval: 17 } },
      yAxis: { type: "value", minInterval: 1 },
      dataZoom: [{ type: "inside" }, { type: "slider", height: 18, bottom: 8 }],
      series: [
        { name: t("rostered"), type: "bar", data: got, itemStyle: { color: GREY } },
        { name: t("required"), type: "line", step: "middle", data: need, symbol: "none", lineStyle: { color: RED, width: 2 }, itemStyle: { color: RED } }
      ]
    }, true);
  }

  function drawGrid(result, index) {
    var r = result.roster, day = r.days[index];
    var table = document.getElementById("roster-grid");
    var head = "<tr><th>" + t("window") + "</th>" + r.intervals.map(function (s) { return "<th>" + s + "</th>"; }).join("") + "</tr>";
    table.tHead.innerHTML = head;
    var tbody = table.tBodies[0];
    tbody.innerHTML = "";
    r.windows.forEach(function (w) {
      var row = tbody.insertRow();
      row.insertCell().textContent = w;
      day.grid[String(w)].forEach(function (name) {
        var cell = row.insertCell();
        cell.textContent = name || "";
        if (name) cell.className = "is-seated";
      });
    });
  }

  function render(result) {
    plan = result;
    var r = result.roster, o = r.objective || {};
    document.getElementById("week-note").textContent =
      t("status_" + r.status) + " · " + t(result.source === "demo" ? "source_demo" : "source_hall");
    var stats = document.getElementById("week-stats");
    stats.innerHTML = "";
    if (r.reasons.length) {
      errorBox.textContent = r.reasons.join(";");
      errorBox.hidden = false;
    }
    stats.appendChild(stat(t("window_hours"), result.requirement.window_hours.toFixed(1)));
    if (o.clerk_hours !== undefined) {
      stats.appendChild(stat(t("clerk_hours"), o.clerk_hours.toFixed(1)));
      stats.appendChild(stat(t("gap"), (100 * o.gap).toFixed(1) + "%"));
      stats.appendChild(stat(t("window_changes"), String(o.window_changes)));
    }
    drawForecast(result);
    drawNeed(result);
    var select = document.getElementById("week-day");
    select.innerHTML = "";
    r.days.forEach(function (d, i) {
      if (!d.open || !d.grid) return;
      var option = document.createElement("option");
      option.value = String(i);
      option.textContent = d.date;
      select.appendChild(option);
    });
    if (select.options.length) drawGrid(result, Number(select.value));
    document.getElementById("export-week").disabled = !!r.reasons.length;
  }

  document.getElementById("week-day").addEventListener("change", function (event) {
    if (plan) drawGrid(plan, Number(event.target.value));
  });

  document.getElementById("run-week").addEventListener("click", function () {
    var button = this;
    errorBox.hidden = true;
    button.disabled = true;
    document.getElementById("week-note").textContent = t("planning");
    H.api("POST", data.plan_url, body()).then(render).catch(function (error) {
      document.getElementById("week-note").textContent = t("failed");
      if (error instanceof H.ApiError && error.status === 422) {
        errorBox.textContent = error.message;
        errorBox.hidden = false;
      } else H.apiError(error);
    }).then(function () { button.disabled = false; });
  });

  document.getElementById("export-week").addEventListener("click", function () {
    var note = document.getElementById("week-note");
    note.textContent = t("exporting");
    fetch(data.xlsx_url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", Authorization: "Bearer " + data.token },
      body: JSON.stringify(body())
    }).then(function (response) {
      if (!response.ok) throw new H.ApiError(response.status, "error", response.statusText);
      return response.blob();
    }).then(function (blob) {
      var link = document.createElement("a");
      link.href = URL.createObjectURL(blob);
      link.download = "roster-" + body().start + ".xlsx";
      document.body.appendChild(link);
      link.click();
      link.remove();
      note.textContent = t("status_" + plan.roster.status);
    }).catch(H.apiError);
  });
})();
