"""The plotly toolbar every interactive chart gets, in the notebooks and in the HTML pages.

No path off the machine: plotly.js 3 shows a "Share chart..." (Chart Studio / Plotly Cloud) button by
default and would send the figure to ``plotlyServerURL``; the button is removed (under its old and new
names), ``showSendToCloud`` is off and the URL is empty. (``showLink`` and ``showEditInChartStudio`` were
switches of plotly.js 1–2: the bundled plotly.js 3 has neither the options nor their buttons, and plotly.py
warns about them in every cell, so they are not set.) The tooltips are Chinese: the ``zh-CN`` locale travels inside the config (plotly.js looks
``config.locale`` up in ``config.locales`` before its own registry, by the exact, case-sensitive name), so
JupyterLab, the nbconvert HTML and the report pages show the same toolbar without registering anything.
"""

from __future__ import annotations

import copy

LOCALE = "zh-CN"

# Every title plotly.js 3 puts on its toolbar and its notices, keyed exactly as plotly.js spells them.
DICTIONARY = {
    "Autoscale": "自动缩放",
    "Box Select": "矩形框选",
    "Click to enter Colorscale title": "点击输入色阶标题",
    "Click to enter Plot title": "点击输入图表标题",
    "Click to enter X axis title": "点击输入X轴标题",
    "Click to enter Y axis title": "点击输入Y轴标题",
    "Compare data on hover": "悬停时比较数据",
    "Double-click on legend to isolate one trace": "双击图例只显示该组数据",
    "Double-click to zoom back out": "双击恢复缩放",
    "Download plot": "下载图片",
    "Download plot as a PNG": "下载为 PNG 图片",
    "Download plot as a png": "下载为 PNG 图片",  # the spelling of plotly.js 2
    "Download plot as JSON": "下载为 JSON 数据",
    "Image download succeeded": "图片下载成功",
    "JSON download succeeded": "JSON 下载成功",
    "Lasso Select": "套索选择",
    "Pan": "平移",
    "Preparing image - this may take a few seconds": "正在生成图片，可能需要几秒钟",
    "Produced with Plotly.js": "由 Plotly.js 绘制",
    "Reset": "重置",
    "Reset axes": "重置坐标轴",
    "Reset view": "重置视图",
    "Reset views": "重置视图",
    "Show closest data on hover": "悬停时显示最近的数据",
    "Snapshot succeeded": "截图成功",
    "Sorry, there was a problem downloading your image!": "抱歉，下载图片时出现问题！",
    "Sorry, there was a problem downloading your snapshot!": "抱歉，下载截图时出现问题！",
    "Taking snapshot - this may take a few seconds": "正在截图，可能需要几秒钟",
    "Toggle Spike Lines": "显示或隐藏辅助线",
    "Toggle show closest data on hover": "切换悬停时显示最近的数据",
    "Zoom": "缩放",
    "Zoom in": "放大",
    "Zoom out": "缩小",
    "trace": "数据系列",
}
FORMAT = {
    "days": ["星期日", "星期一", "星期二", "星期三", "星期四", "星期五", "星期六"],
    "shortDays": ["周日", "周一", "周二", "周三", "周四", "周五", "周六"],
    "months": [
        "一月",
        "二月",
        "三月",
        "四月",
        "五月",
        "六月",
        "七月",
        "八月",
        "九月",
        "十月",
        "十一月",
        "十二月",
    ],
    "shortMonths": [f"{m}月" for m in range(1, 13)],
    "date": "%Y-%m-%d",
    "decimal": ".",
    "thousands": ",",
}
# Buttons that send the chart off the machine or open it in Chart Studio (plotly.js names, old and new).
CLOUD_BUTTONS = ["sendDataToCloud", "sendChartToCloud", "editInChartStudio"]

PLOTLY_CONFIG = {
    "displaylogo": False,
    "responsive": True,
    "showSendToCloud": False,
    "plotlyServerURL": "",
    "modeBarButtonsToRemove": CLOUD_BUTTONS,
    "locale": LOCALE,
    "locales": {LOCALE: {"dictionary": DICTIONARY, "format": FORMAT}},
}


def plotly_config(**overrides) -> dict:
    """A copy of :data:`PLOTLY_CONFIG`; ``overrides`` may add options but never bring a cloud button back."""
    return copy.deepcopy({**overrides, **PLOTLY_CONFIG})
