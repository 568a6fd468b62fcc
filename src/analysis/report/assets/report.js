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
