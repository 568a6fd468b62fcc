/* Draws the interactive charts of a report page from the JSON written next to each chart.
   plotly.js is loaded before this file from the report's own assets/ folder: nothing comes from the network. */
(function () {
  "use strict";

  var ZH_CN = {
    moduleType: "locale",
    name: "zh-CN",
    dictionary: {
      Autoscale: "自动缩放",
      "Box Select": "矩形框选",
      "Click to enter Colorscale title": "点击输入色阶标题",
      "Click to enter Plot title": "点击输入图表标题",
      "Click to enter X axis title": "点击输入X轴标题",
      "Click to enter Y axis title": "点击输入Y轴标题",
      "Compare data on hover": "悬停时比较数据",
      "Double-click on legend to isolate one trace": "双击图例只显示该组数据",
      "Double-click to zoom back out": "双击恢复缩放",
      "Download plot": "下载图片",
      "Download plot as a png": "下载为 PNG 图片",
      "Lasso Select": "套索选择",
      Pan: "平移",
      "Produced with Plotly.js": "由 Plotly.js 绘制",
      Reset: "重置",
      "Reset axes": "重置坐标轴",
      "Reset view": "重置视图",
      "Show closest data on hover": "悬停时显示最近的数据",
      "Snapshot succeeded": "截图成功",
      "Sorry, there was a problem downloading your snapshot!": "抱歉，下载截图时出现问题！",
      "Taking snapshot - this may take a few seconds": "正在截图，可能需要几秒钟",
      "Toggle Spike Lines": "显示或隐藏辅助线",
      "Toggle show closest data on hover": "切换悬停时显示最近的数据",
      Zoom: "缩放",
      "Zoom in": "放大",
      "Zoom out": "缩小",
      trace: "数据系列",
    },
    format: {
      days: ["星期日", "星期一", "星期二", "星期三", "星期四", "星期五", "星期六"],
      shortDays: ["周日", "周一", "周二", "周三", "周四", "周五", "周六"],
      months: ["一月", "二月", "三月", "四月", "五月", "六月", "七月", "八月", "九月", "十月", "十一月", "十二月"],
      shortMonths: ["1月", "2月", "3月", "4月", "5月", "6月", "7月", "8月", "9月", "10月", "11月", "12月"],
      date: "%Y-%m-%d",
      decimal: ".",
      thousands: ",",
    },
  };

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
    window.Plotly.register(ZH_CN);
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
        locale: "zh-CN",
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
