/* The planner page: edit or upload a scenario, run the simulation or the staffing plan, chart it. */
(function () {
  "use strict";

  var H = window.Hall;
  var t = H.t;
  var data = H.data;
  var text = document.getElementById("scenario-text");
  var errorBox = document.getElementById("scenario-error");
  var hoursChart = echarts.init(document.getElementById("chart-hours"));
  var planChart = echarts.init(document.getElementById("chart-plan"));
  var BLUE = "#0b5cad", RED = "#c8102e", GREEN = "#10805a", GREY = "#9aa7b8";

  text.value = data.example;

  function fmt(value, digits) {
    if (value === null || value === undefined) return "–";
    var number = typeof value === "object" ? value.mean : value;
    return Number(number).toFixed(digits === undefined ? 1 : digits);
  }

  function pct(value) {
    if (value === null || value === undefined) return "–";
    var number = typeof value === "object" ? value.mean : value;
    return (100 * number).toFixed(1) + "%";
  }

  function stat(label, value, detail) {
    var box = document.createElement("div");
    box.className = "stat";
    var num = document.createElement("span");
    num.className = "stat__num";
    num.textContent = value;
    var name = document.createElement("span");
    name.className = "stat__label";
    name.textContent = label;
    box.appendChild(num);
    box.appendChild(name);
    if (detail) {
      var small = document.createElement("small");
      small.textContent = detail;
      box.appendChild(small);
    }
    return box;
  }

  function interval(value) {
    if (!value || typeof value !== "object") return "";
    return t("ci") + " " + fmt(value.ci95[0]) + "–" + fmt(value.ci95[1]);
  }

  function showError(message) {
    errorBox.textContent = message || "";
    errorBox.hidden = !message;
  }

  function busy(on) {
    ["run-simulation", "run-staffing"].forEach(function (id) {
      document.getElementById(id).disabled = on;
    });
    document.querySelector(".planner__results").classList.toggle("is-busy", on);
  }

  function run(url, body, note, render) {
    showError("");
    busy(true);
    document.getElementById(note).textContent = t("running");
    H.api("POST", url, body).then(function (result) {
      render(result);
    }).catch(function (error) {
      document.getElementById(note).textContent = t("failed");
      if (error instanceof H.ApiError && error.status === 422) showError(error.message);
      else H.apiError(error);
    }).then(function () { busy(false); });
  }

  function options() {
    return {
      scenario: text.value,
      seed: Number(document.getElementById("seed").value) || 0,
      replications: Math.max(2, Math.min(20, Number(document.getElementById("replications").value) || 6))
    };
  }

  function renderSimulation(result) {
    var o = result.overall;
    var stats = document.getElementById("sim-stats");
    stats.textContent = "";
    stats.appendChild(stat(t("mean_wait"), fmt(o.mean_wait_minutes), interval(o.mean_wait_minutes)));
    stats.appendChild(stat(t("p90_wait"), fmt(o.p90_wait_minutes)));
    stats.appendChild(stat(t("within"), pct(o.share_within_target)));
    stats.appendChild(stat(t("utilization"), pct(o.utilization)));
    stats.appendChild(stat(t("abandon"), pct(o.abandon_share)));
    stats.appendChild(stat(t("served"), String(o.served)));
    document.getElementById("sim-note").textContent = result.scenario + " · " + result.replications + "×";
    var hours = result.by_hour;
    hoursChart.setOption({
      tooltip: { trigger: "axis" },
      legend: { data: [t("arrivals"), t("mean_wait")], top: 0 },
      grid: { left: 48, right: 56, top: 36, bottom: 32 },
      xAxis: { type: "category", data: hours.map(function (h) { return h.start; }) },
      yAxis: [
        { type: "value", name: t("arrivals"), minInterval: 1 },
        { type: "value", name: t("mean_wait"), splitLine: { show: false } }
      ],
      series: [
        { name: t("arrivals"), type: "bar", data: hours.map(function (h) { return h.arrived; }), itemStyle: { color: BLUE }, barMaxWidth: 36 },
        { name: t("mean_wait"), type: "line", yAxisIndex: 1, smooth: true, data: hours.map(function (h) { return h.mean_wait_minutes; }), itemStyle: { color: RED } }
      ]
    }, true);
  }

  function renderPlan(plan) {
    var rows = plan.intervals;
    document.getElementById("plan-note").textContent =
      plan.window_hours + " " + t("window_hours");
    planChart.setOption({
      tooltip: { trigger: "axis" },
      legend: { data: [t("windows"), t("theory"), t("mean_wait")], top: 0 },
      grid: { left: 48, right: 56, top: 36, bottom: 32 },
      xAxis: { type: "category", data: rows.map(function (r) { return r.start; }) },
      yAxis: [
        { type: "value", name: t("windows"), minInterval: 1 },
        { type: "value", name: t("mean_wait"), splitLine: { show: false } }
      ],
      series: [
        { name: t("windows"), type: "bar", data: rows.map(function (r) { return r.windows; }), itemStyle: { color: GREEN }, barMaxWidth: 36 },
        { name: t("theory"), type: "line", step: "middle", data: rows.map(function (r) { return r.theory_windows; }), itemStyle: { color: GREY }, lineStyle: { type: "dashed" } },
        { name: t("mean_wait"), type: "line", yAxisIndex: 1, smooth: true, data: rows.map(function (r) { return r.mean_wait_minutes; }), itemStyle: { color: RED } }
      ]
    }, true);
    var compare = document.getElementById("plan-compare");
    compare.textContent = "";
    var layouts = [["layout_scenario", plan.window_hours]];
    if (plan.comparison) {
      layouts.push(["layout_dedicated", plan.comparison.dedicated.window_hours]);
      layouts.push(["layout_comprehensive", plan.comparison.comprehensive.window_hours]);
    }
    var best = Math.min.apply(null, layouts.map(function (l) { return l[1]; }));
    layouts.forEach(function (l) {
      var box = stat(t(l[0]), String(l[1]), t("window_hours"));
      box.dataset.best = String(l[1] === best && layouts.length > 1);
      compare.appendChild(box);
    });
    var table = document.getElementById("plan-table");
    var body = table.querySelector("tbody");
    body.textContent = "";
    rows.forEach(function (r) {
      var tr = document.createElement("tr");
      [r.start + "–" + r.end, r.windows, r.theory_windows, fmt(r.mean_wait_minutes), pct(r.share_within_target)]
        .forEach(function (value) {
          var td = document.createElement("td");
          td.textContent = value;
          tr.appendChild(td);
        });
      body.appendChild(tr);
    });
    table.hidden = false;
  }

  document.getElementById("run-simulation").addEventListener("click", function () {
    run(data.simulate_url, options(), "sim-note", renderSimulation);
  });
  document.getElementById("run-staffing").addEventListener("click", function () {
    var body = options();
    body.interval = Number(document.getElementById("interval").value);
    run(data.staff_url, body, "plan-note", renderPlan);
  });
  document.getElementById("load-example").addEventListener("click", function () {
    text.value = data.example;
    showError("");
  });
  document.getElementById("scenario-file").addEventListener("change", function (event) {
    var file = event.target.files[0];
    if (!file) return;
    var reader = new FileReader();
    reader.onload = function () { text.value = String(reader.result); showError(""); };
    reader.onerror = function () { showError(t("file_error")); };
    reader.readAsText(file, "utf-8");
    event.target.value = "";
  });
  window.addEventListener("resize", function () { hoursChart.resize(); planChart.resize(); });
})();
