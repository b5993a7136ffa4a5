// Evaluators' dashboard: draws the charts from the JSON the page embeds
// (<script type="application/json" id="evaluation-data">). No inline scripts; every chart has
// a data table beside it for readers who cannot see the canvas.
(function () {
  "use strict";
  const source = document.getElementById("evaluation-data");
  if (!source || typeof Chart === "undefined") { return; }
  const data = JSON.parse(source.textContent);
  const BRAND = "#6b1d3a";
  const GOLD = "#b7862b";
  const GREEN = "#1e6b34";
  const GREY = "#7a7a7a";
  Chart.defaults.font.family = 'system-ui, "Segoe UI", Roboto, sans-serif';
  Chart.defaults.animation = false; // figures, not a show; also steadier screenshots

  function draw(id, config) {
    const canvas = document.getElementById(id);
    if (!canvas) { return null; }
    return new Chart(canvas, config);
  }

  const percentAxis = {
    min: 0,
    max: 100,
    ticks: { callback: function (v) { return v + " %"; } },
  };

  draw("chart-ratings", {
    data: {
      labels: data.ratings.labels,
      datasets: [
        { type: "bar", label: "Calificaciones respondidas", data: data.ratings.answered,
          backgroundColor: GOLD, yAxisID: "count", order: 2 },
        { type: "line", label: "CSAT (%)", data: data.ratings.csat, borderColor: BRAND,
          backgroundColor: BRAND, yAxisID: "share", spanGaps: false, pointRadius: 4,
          order: 1 },
      ],
    },
    options: {
      maintainAspectRatio: false,
      scales: {
        count: { type: "linear", position: "left", beginAtZero: true,
                 title: { display: true, text: "Calificaciones" } },
        share: Object.assign({ type: "linear", position: "right",
                               grid: { drawOnChartArea: false },
                               title: { display: true, text: "CSAT" } }, percentAxis),
      },
    },
  });

  draw("chart-requests", {
    type: "line",
    data: {
      labels: data.requests.labels,
      datasets: [
        { label: "Recibidas", data: data.requests.opened, borderColor: BRAND, backgroundColor: BRAND },
        { label: "Resueltas", data: data.requests.resolved, borderColor: GREEN, backgroundColor: GREEN },
      ],
    },
    options: { maintainAspectRatio: false, scales: { y: { beginAtZero: true } } },
  });

  draw("chart-distribution", {
    type: "bar",
    data: {
      labels: data.distribution.labels,
      datasets: [{ label: "Respuestas", data: data.distribution.counts,
                   backgroundColor: [GREY, GREY, GREY, GREEN, GREEN] }],
    },
    options: { maintainAspectRatio: false, plugins: { legend: { display: false } },
               scales: { y: { beginAtZero: true }, x: { title: { display: true, text: "Calificación" } } } },
  });

  function ranking(id, block, label) {
    return draw(id, {
      type: "bar",
      data: { labels: block.labels,
              datasets: [{ label: label, data: block.values, backgroundColor: BRAND }] },
      options: { indexAxis: "y", maintainAspectRatio: false,
                 plugins: { legend: { display: false } }, scales: { x: percentAxis } },
    });
  }
  ranking("chart-lowest", data.lowest, "CSAT (%)");
  ranking("chart-compliance", data.compliance, "Resueltas en plazo (%)");
})();
