/* The planner's "plan vs actual" tab: a kept plan against the arrivals, open windows and waits that followed. */
(function () {
  "use strict";

  var H = window.Hall;
  var t = H.t;
  var data = H.data;
  var BLUE = "#0b5cad", RED = "#c8102e", GREEN = "#10805a", GREY = "#9aa7b8", AMBER = "#c77700";
  var charts = {};
  var select = document.getElementById("actual-plan");
  var button = document.getElementById("run-actual");
  var note = document.getElementById("actual-note");
  var loaded = false;

  function chart(id) {
    charts[id] = charts[id] || echarts.init(document.getElementById(id));
    return charts[id];
  }

  function stat(label, value) {
    var box = document.createElement("div");
    box.className = "stat";
    box.innerHTML = '<span class="stat__num"></span><span class="stat__label"></span>';
    box.firstChild.textContent = value;
    box.lastChild.textContent = label;
    return box;
  }

  function fixed(value, digits) {
    return value === null || value === undefined ? "—" : Number(value).toFixed(digits);
  }

  function percent(value) {
    return value === null || value === undefined ? "—" : (100 * value).toFixed(1) + "%";
  }

  function loadPlans() {
    H.api("GET", data.plans_url).then(function (result) {
      select.innerHTML = "";
      result.plans.forEach(function (p) {
        var option = document.createElement("option");
        option.value = String(p.id);
        option.textContent = t("plan_label") + " #" + p.id + " · " + p.first_day +
          (p.last_day !== p.first_day ? " – " + p.last_day : "") + " · " + p.created_by;
        select.appendChild(option);
      });
      button.disabled = !result.plans.length;
      note.textContent = result.plans.length ? "" : t("no_plans");
      loaded = true;
    }).catch(H.apiError);
  }

  document.querySelectorAll(".planner__tab").forEach(function (tab) {
    tab.addEventListener("click", function () {
      if (tab.getAttribute("data-tab") !== "actual") return;
      if (!loaded) loadPlans();
      Object.keys(charts).forEach(function (id) { charts[id].resize(); });
    });
  });

  function series(days, key) {
    var out = [];
    days.forEach(function (d) { out = out.concat(d[key]); });
    return out;
  }

  function axis(days, intervals) {
    var out = [];
    days.forEach(function (d) {
      intervals.forEach(function (start) { out.push(d.date.slice(5) + " " + start); });
    });
    return out;
  }

  function base(x, legend) {
    return {
      tooltip: { trigger: "axis" },
      legend: { data: legend },
      grid: { left: 50, right: 50, top: 40, bottom: 60 },
      xAxis: { type: "category", data: x, axisLabel: { interval: Math.max(Math.floor(x.length / 12), 0) } },
      dataZoom: [{ type: "inside" }, { type: "slider", height: 18, bottom: 8 }]
    };
  }

  function drawArrivals(days, x) {
    var low = series(days, "low"), high = series(days, "high");
    var option = base(x, [t("actual_arrivals"), t("expected"), t("band")]);
    option.yAxis = { type: "value" };
    option.series = [
      { name: "low", type: "line", data: low, stack: "band", lineStyle: { opacity: 0 }, symbol: "none", tooltip: { show: false } },
      { name: t("band"), type: "line", stack: "band", lineStyle: { opacity: 0 }, symbol: "none",
        data: high.map(function (h, i) { return Math.max(h - low[i], 0); }), areaStyle: { color: "rgba(11,92,173,0.16)" }, itemStyle: { color: "rgba(11,92,173,0.35)" } },
      { name: t("actual_arrivals"), type: "bar", data: series(days, "arrivals"), itemStyle: { color: GREY } },
      { name: t("expected"), type: "line", data: series(days, "forecast"), symbol: "none", lineStyle: { color: BLUE, width: 2 }, itemStyle: { color: BLUE } }
    ];
    chart("chart-actual-arrivals").setOption(option, true);
  }

  function drawWindows(days, x) {
    var option = base(x, [t("rostered"), t("required"), t("open_windows")]);
    option.yAxis = { type: "value", minInterval: 1 };
    option.series = [
      { name: t("rostered"), type: "bar", data: series(days, "rostered"), itemStyle: { color: GREY } },
      { name: t("required"), type: "line", step: "middle", data: series(days, "required"), symbol: "none", lineStyle: { color: RED, width: 2 }, itemStyle: { color: RED } },
      { name: t("open_windows"), type: "line", data: series(days, "open_windows"), symbol: "none", lineStyle: { color: GREEN, width: 2 }, itemStyle: { color: GREEN } }
    ];
    chart("chart-actual-windows").setOption(option, true);
  }

  function drawWaits(days, x, targets) {
    var option = base(x, [t("mean_wait"), t("within")]);
    option.yAxis = [
      { type: "value", name: t("mean_wait") },
      { type: "value", min: 0, max: 1, axisLabel: { formatter: function (v) { return Math.round(100 * v) + "%"; } } }
    ];
    var marks = targets.mean_wait_minutes ? { symbol: "none", data: [{ yAxis: targets.mean_wait_minutes, name: t("target_line") }], lineStyle: { color: RED, type: "dashed" } } : undefined;
    option.series = [
      { name: t("mean_wait"), type: "bar", data: series(days, "mean_wait"), itemStyle: { color: AMBER }, markLine: marks },
      { name: t("within"), type: "line", yAxisIndex: 1, data: series(days, "within_target"), symbol: "none", connectNulls: false, lineStyle: { color: BLUE, width: 2 }, itemStyle: { color: BLUE } }
    ];
    chart("chart-actual-waits").setOption(option, true);
  }

  function drawTable(days) {
    var body = document.querySelector("#actual-table tbody");
    body.innerHTML = "";
    days.forEach(function (d) {
      var f = d.day, row = body.insertRow();
      [d.date, fixed(f.forecast, 0), String(f.arrivals), f.error_pct === null ? "—" : f.error_pct.toFixed(1) + "%",
        fixed(f.rostered_window_hours, 1), fixed(f.open_window_hours, 1), fixed(f.mean_wait, 1), percent(f.within_target)
      ].forEach(function (text) { row.insertCell().textContent = text; });
    });
  }

  function render(result) {
    var c = result.comparison, total = c.total;
    var days = c.days.filter(function (d) { return d.happened && d.open; });
    var stats = document.getElementById("actual-stats");
    stats.innerHTML = "";
    note.textContent = days.length ? t("days_compared") + " " + days.length : t("not_over");
    var rostered = 0, opened = 0;
    days.forEach(function (d) { rostered += d.day.rostered_window_hours || 0; opened += d.day.open_window_hours || 0; });
    stats.appendChild(stat(t("expected"), fixed(total.forecast, 0)));
    stats.appendChild(stat(t("actual_arrivals"), String(total.arrivals)));
    stats.appendChild(stat(t("forecast_error"), total.error_pct === null ? "—" : total.error_pct.toFixed(1) + "%"));
    stats.appendChild(stat(t("rostered_hours") + " / " + t("open_hours"), rostered.toFixed(1) + " / " + opened.toFixed(1)));
    stats.appendChild(stat(t("mean_wait"), fixed(total.mean_wait, 1)));
    stats.appendChild(stat(t("within"), percent(total.within_target)));
    var x = axis(days, c.intervals);
    drawArrivals(days, x);
    drawWindows(days, x);
    drawWaits(days, x, c.targets);
    drawTable(days);
  }

  button.addEventListener("click", function () {
    if (!select.value) return;
    button.disabled = true;
    note.textContent = t("comparing");
    H.api("GET", data.plans_url + "/" + select.value + "/actual").then(render).catch(function (error) {
      note.textContent = t("failed");
      H.apiError(error);
    }).then(function () { button.disabled = false; });
  });
})();
