// The escalation inbox: re-draws the table from server-sent events, shows how long each
// conversation has waited, and tells the agent when a new one arrives.
(() => {
  "use strict";
  const table = document.getElementById("inbox");
  const body = table.querySelector("tbody");
  const announce = document.getElementById("announce");
  const notifyButton = document.getElementById("notify");
  const channels = { web: "chat web", telegram: "Telegram", whatsapp: "WhatsApp", terminal: "terminal" };
  const baseTitle = document.title;
  let known = new Set([...body.querySelectorAll("tr[data-id]")].map((tr) => tr.dataset.id));

  function waited(iso) {
    const minutes = Math.max(0, Math.floor((Date.now() - Date.parse(iso)) / 60000));
    if (minutes < 1) return "menos de 1 min";
    if (minutes < 60) return minutes + " min";
    return Math.floor(minutes / 60) + " h " + (minutes % 60) + " min";
  }

  function cell(tr, text) {
    const td = document.createElement("td");
    td.textContent = text;
    tr.appendChild(td);
    return td;
  }

  function refreshWaits() {
    for (const time of body.querySelectorAll("time[datetime]")) {
      time.textContent = waited(time.getAttribute("datetime"));
    }
  }

  function draw(rows) {
    body.replaceChildren();
    if (rows.length === 0) {
      const tr = document.createElement("tr");
      tr.className = "empty";
      const td = cell(tr, "No hay conversaciones en espera.");
      td.colSpan = 6;
      td.className = "muted";
      body.appendChild(tr);
    }
    for (const row of rows) {
      const tr = document.createElement("tr");
      tr.dataset.id = row.id;
      tr.dataset.status = row.status;
      const link = document.createElement("a");
      link.href = "/backoffice/canalizaciones/" + row.id;
      link.textContent = "Conversación " + row.id;
      cell(tr, "").appendChild(link);
      cell(tr, row.status === "waiting" ? "En espera" : "Atiende " + (row.agent || ""));
      const time = document.createElement("time");
      time.setAttribute("datetime", row.waiting_since);
      cell(tr, "").appendChild(time);
      cell(tr, channels[row.channel] || row.channel);
      cell(tr, row.department || "General");
      cell(tr, row.reason.slice(0, 120));
      body.appendChild(tr);
    }
    refreshWaits();
    const waiting = rows.filter((row) => row.status === "waiting");
    document.title = (waiting.length ? "(" + waiting.length + ") " : "") + baseTitle;
    const fresh = waiting.filter((row) => !known.has(String(row.id)));
    known = new Set(rows.map((row) => String(row.id)));
    if (fresh.length) {
      const message = fresh.length === 1
        ? "Nueva conversación en espera: " + fresh[0].id
        : fresh.length + " conversaciones nuevas en espera";
      announce.textContent = message;
      if ("Notification" in window && Notification.permission === "granted") {
        new Notification("Ventanilla", { body: message });
      }
    }
  }

  if ("Notification" in window && Notification.permission === "default") {
    notifyButton.hidden = false;
    notifyButton.addEventListener("click", () => {
      Notification.requestPermission().then(() => { notifyButton.hidden = true; });
    });
  }
  const events = new EventSource(table.dataset.events);
  events.addEventListener("inbox", (event) => draw(JSON.parse(event.data)));
  // The login ended (logged out elsewhere, account deactivated, new password or role): stop
  // listening and reload, which leads to the login form.
  events.addEventListener("ended", () => {
    events.close();
    window.location.reload();
  });
  refreshWaits();
  setInterval(refreshWaits, 15000);
})();
