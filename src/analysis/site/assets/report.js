/* Draws the interactive charts of a report page from the JSON written next to each chart.
   plotly.js is loaded before this file from the report's own assets/ folder: nothing comes from the network.
   The toolbar config (no cloud button, zh-CN tooltips in config.locales) comes with each chart's JSON,
   from analysis.explore.toolbar; the switches below keep any path off the machine closed regardless. */
(function () {
  "use strict";

  function fail(holder, message) {
    holder.classList.add("fazhi-chart-error");
    holder.textContent = message;
  }

  function drawAll() {
    var holders = document.querySelectorAll("div.fazhi-chart");
    if (!holders.length) {
      return;
    }
    if (typeof window.Plotly === "undefined") {
      console.error("plotly.js 未加载：请确认 assets/plotly.min.js 与本页面一起复制。");
      holders.forEach(function (holder) {
        fail(holder, "交互图表无法显示：缺少 assets/plotly.min.js。");
      });
      return;
    }
    holders.forEach(function (holder) {
      var source = holder.querySelector("script.fazhi-chart-data");
      var target = holder.querySelector("div.fazhi-chart-plot");
      var figure;
      try {
        figure = JSON.parse(source.textContent);
      } catch (err) {
        console.error("图表数据无法解析：" + err);
        fail(holder, "图表数据无法解析。");
        return;
      }
      var config = Object.assign({}, figure.config || {}, {
        responsive: true,
        displaylogo: false,
        showSendToCloud: false,
        plotlyServerURL: "",
      });
      window.Plotly.newPlot(target, figure.data || [], figure.layout || {}, config).catch(function (err) {
        console.error("图表绘制失败：" + err);
        fail(holder, "图表绘制失败。");
      });
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", drawAll);
  } else {
    drawAll();
  }
})();

/* Tables marked "fazhi-sortable" (the site index, the comparison table): a click on a header sorts the
   rows by that column, a second click reverses. Numbers sort as numbers ("1.1万" is 11000, "45 / 52" is 45);
   "未填报" and "—" always go last. */
(function () {
  "use strict";

  var LAST = ["未填报", "未收到", "未生成", "—", ""];

  function key(text) {
    var t = text.trim();
    if (LAST.indexOf(t) >= 0) {
      return null;
    }
    var m = t.match(/^[+−-]?\d+(?:\.\d+)?/);
    if (!m) {
      return t;
    }
    var n = parseFloat(m[0].replace("−", "-"));
    return t.charAt(m[0].length) === "万" ? n * 10000 : n;
  }

  function compare(a, b) {
    if (a === null || b === null) {
      return a === b ? 0 : a === null ? 1 : -1;
    }
    if (typeof a === "number" && typeof b === "number") {
      return a - b;
    }
    return String(a).localeCompare(String(b), "zh-CN");
  }

  function sortBy(table, column, th) {
    var body = table.tBodies[0];
    var descending = th.getAttribute("aria-sort") === "ascending";
    var rows = Array.prototype.slice.call(body.rows);
    rows.sort(function (r1, r2) {
      var a = key(r1.cells[column].textContent);
      var b = key(r2.cells[column].textContent);
      if (a === null || b === null) {
        return compare(a, b);  // missing values last whichever the direction
      }
      return descending ? compare(b, a) : compare(a, b);
    });
    rows.forEach(function (row) {
      body.appendChild(row);
    });
    table.querySelectorAll("th").forEach(function (other) {
      other.removeAttribute("aria-sort");
    });
    th.setAttribute("aria-sort", descending ? "descending" : "ascending");
  }

  function setUp() {
    document.querySelectorAll("table.fazhi-sortable").forEach(function (table) {
      if (!table.tHead || !table.tBodies.length) {
        return;
      }
      var headers = table.tHead.rows[table.tHead.rows.length - 1].cells;
      Array.prototype.forEach.call(headers, function (th, column) {
        th.title = "点击按此列排序";
        th.tabIndex = 0;
        th.addEventListener("click", function () {
          sortBy(table, column, th);
        });
        th.addEventListener("keydown", function (event) {
          if (event.key === "Enter" || event.key === " ") {
            event.preventDefault();
            sortBy(table, column, th);
          }
        });
      });
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", setUp);
  } else {
    setUp();
  }
})();
