// Web chat: keeps the session id in localStorage, sends messages, polls for new ones.
(function () {
  const log = document.getElementById("log");
  const form = document.getElementById("send");
  const input = document.getElementById("text");
  let session = localStorage.getItem("ventanilla.session");
  let after = 0;

  const SENDERS = { me: "Tú", bot: "Asistente", agent: "Asesor(a)" };

  function retire() {
    // Earlier buttons no longer apply once the conversation moves on.
    log.querySelectorAll(".choices button").forEach(function (b) { b.disabled = true; });
  }

  function add(text, who, choices) {
    const li = document.createElement("li");
    li.className = who;
    const sender = document.createElement("span");
    sender.className = who === "agent" ? "sender" : "sender sr-only";
    sender.textContent = (SENDERS[who] || SENDERS.bot) + ": ";
    li.appendChild(sender);
    li.appendChild(document.createTextNode(text));
    if (choices && choices.length) {
      const box = document.createElement("div");
      box.className = "choices";
      choices.forEach(function (c) {
        const b = document.createElement("button");
        b.type = "button";
        b.textContent = c.label;
        b.addEventListener("click", function () { send(c.value, c.label); });
        box.appendChild(b);
      });
      li.appendChild(box);
    }
    log.appendChild(li);
    li.scrollIntoView({ block: "end" });
  }

  function show(messages) {
    // The replies of one turn arrive together and all keep their buttons (an answer's aspects
    // stay usable under a "¿Te sirvió esta respuesta?" that follows it).
    if (messages.some(function (m) { return m.id > after; })) retire();
    messages.forEach(function (m) {
      if (m.id > after) {
        after = m.id;
        add(m.text, m.sender, m.choices);
      }
    });
  }

  async function ensureSession() {
    if (session) return;
    const r = await fetch("/api/chat/sessions", { method: "POST" });
    session = (await r.json()).session;
    localStorage.setItem("ventanilla.session", session);
  }

  async function send(text, shown) {
    await ensureSession();
    retire();
    add(shown || text, "me");
    const r = await fetch("/api/chat/messages", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ session: session, text: text, after: after }),
    });
    if (r.ok) show((await r.json()).messages);
    else {
      retire();
      add(await refusal(r), "bot");
    }
  }

  async function refusal(r) {
    // Too many messages (429) or a passing failure (503): the server says, politely, how
    // long to wait. Anything else gets the general apology.
    if (r.status === 429 || r.status === 503) {
      try {
        const detail = (await r.json()).detail;
        if (typeof detail === "string" && detail) return detail;
      } catch (e) { /* not JSON: the general apology below */ }
    }
    return "No pudimos enviar tu mensaje. Intenta de nuevo en un momento.";
  }

  async function poll() {
    if (!session) return;
    const r = await fetch("/api/chat/messages?session=" + encodeURIComponent(session) + "&after=" + after);
    if (r.ok) show((await r.json()).messages);
  }

  form.addEventListener("submit", function (e) {
    e.preventDefault();
    const text = input.value;
    input.value = "";
    send(text);
  });
  poll();
  setInterval(poll, 3000);
})();
