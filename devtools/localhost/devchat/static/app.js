// The dev channel: threads of incident cards edited in place, and a chat with the bot.
// Every activity is rendered by id and version, from the snapshot and the event stream alike.
"use strict";

(() => {
  const AC = window.AdaptiveCards;
  const CARD = "application/vnd.microsoft.card.adaptive";
  const MESSAGE = "application/vnd.microsoft.activity.message";
  const ERROR = "application/vnd.microsoft.error";
  const $ = (id) => document.getElementById(id);
  const shown = new Map(); // activity id -> {record, el}
  const threads = new Map(); // conversation id -> thread element

  // Closer to Teams: up to six buttons, and tighter spacing than the renderer's default.
  AC.defaultHostConfig.actions.maxActions = 6;
  Object.assign(AC.defaultHostConfig.spacing, {
    small: 4, default: 8, medium: 16, large: 20, extraLarge: 28, padding: 16,
  });

  // Markdown: escape everything, then only **bold** and line breaks.
  AC.AdaptiveCard.onProcessMarkdown = (text, result) => {
    result.outputHtml = escapeHtml(text)
      .replace(/\*\*(.+?)\*\*/g, "<strong>$1</strong>")
      .replace(/\n/g, "<br>");
    result.didProcess = true;
  };

  function escapeHtml(text) {
    const div = document.createElement("div");
    div.textContent = text;
    return div.innerHTML;
  }

  function toast(text) {
    const el = $("toast");
    el.textContent = text;
    el.hidden = false;
    clearTimeout(toast.timer);
    toast.timer = setTimeout(() => { el.hidden = true; }, 6000);
  }

  async function postJson(path, body) {
    const response = await fetch(path, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body),
    });
    const data = await response.json().catch(() => ({}));
    if (!response.ok) throw new Error(data.reason || data.error || `HTTP ${response.status}`);
    return data;
  }

  // Actions the renderer carries out in the card itself (Teams too): nothing to send.
  const IN_CARD = new Set(["Action.ToggleVisibility", "Action.ShowCard"]);

  function renderCard(content, activityId) {
    const card = new AC.AdaptiveCard();
    card.onExecuteAction = (action) => {
      const type = action.getJsonTypeName();
      if (type === "Action.Execute") invoke(activityId, action.verb, action.data || {});
      else if (type === "Action.OpenUrl") window.open(action.url, "_blank", "noopener");
      else if (!IN_CARD.has(type)) toast(`${type} is not handled by Teams for this bot`);
    };
    card.parse(content);
    return card.render();
  }

  function messageElement(record) {
    const el = document.createElement("article");
    el.className = `message ${record.fromBot ? "bot" : "user"}`;
    el.dataset.activityId = record.id;
    el.dataset.version = record.version;
    const meta = document.createElement("div");
    meta.className = "meta";
    const when = new Date(record.edited || record.timestamp).toLocaleTimeString();
    meta.textContent = `${record.from.name || record.from.id} · ${when}${record.edited ? " · edited" : ""}`;
    el.append(meta);
    if (record.text) {
      const text = document.createElement("p");
      text.textContent = record.text;
      el.append(text);
    }
    for (const attachment of record.attachments || []) {
      if (attachment.contentType !== CARD) continue;
      const card = renderCard(attachment.content, record.id);
      if (card) el.append(card);
    }
    return el;
  }

  // Newest threads first, as Teams shows a channel's latest posts where you look; a thread
  // whose card changes is highlighted for a moment, so an edit far down is not missed.
  function threadFor(conversationId, live) {
    let thread = threads.get(conversationId);
    if (!thread) {
      thread = document.createElement("div");
      thread.className = "thread";
      thread.dataset.threadId = conversationId;
      $("threads").prepend(thread);
      threads.set(conversationId, thread);
      $("empty").hidden = true;
      if (live) $("posts").scrollTo({ top: 0 });
    }
    return thread;
  }

  function highlight(el) {
    el.classList.remove("changed");
    void el.offsetWidth; // restart the animation
    el.classList.add("changed");
  }

  function show(record, live) {
    const el = messageElement(record);
    const known = shown.get(record.id);
    if (known) known.el.replaceWith(el);
    else if (record.kind === "chat") $("chat-log").append(el);
    else threadFor(record.conversationId, live).append(el);
    shown.set(record.id, { record, el });
    if (record.kind === "chat") el.scrollIntoView({ block: "end" });
    else if (live) {
      highlight(el.closest(".thread"));
      notice(record, known);
    }
  }

  // A line above the posts says what changed last, and takes you to it.
  function notice(record, known) {
    const bar = $("changed");
    bar.textContent = `${known ? "Updated" : "New"} post ${new Date().toLocaleTimeString()} · show`;
    bar.hidden = false;
    bar.onclick = () => {
      const el = shown.get(record.id).el;
      el.scrollIntoView({ block: "start", behavior: "smooth" });
      highlight(el.closest(".thread"));
    };
  }

  function upsert(record, live = false) {
    const known = shown.get(record.id);
    if (!known || known.record.version < record.version) show(record, live);
  }

  async function invoke(activityId, verb, data) {
    const clicked = shown.get(activityId);
    clicked.el.classList.add("busy");
    try {
      const answer = await postJson("api/invoke", { activityId, verb, data });
      const now = shown.get(activityId);
      if (answer.type === CARD && now.record.version === clicked.record.version) {
        // Teams shows the returned card to the clicker until the message itself is edited.
        show({ ...now.record, attachments: [{ contentType: CARD, content: answer.value }] });
      } else if (answer.type === MESSAGE) {
        toast(answer.value);
      } else if (answer.type === ERROR) {
        toast(answer.value.message);
      }
    } catch (error) {
      toast(`The click failed: ${error.message}`);
    } finally {
      shown.get(activityId).el.classList.remove("busy");
    }
  }

  $("chat-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const input = $("chat-input");
    const text = input.value.trim();
    if (!text) return;
    input.value = "";
    input.disabled = true;
    try {
      const answer = await postJson("api/chat", { text });
      if (answer.message) upsert(answer.message);
      answer.activities.forEach(upsert);
    } catch (error) {
      toast(`The bot did not answer: ${error.message}`);
    } finally {
      input.disabled = false;
      input.focus();
    }
  });

  async function load() {
    const response = await fetch("api/threads");
    const snapshot = await response.json();
    $("team").textContent = snapshot.team.name;
    $("channel").textContent = `# ${snapshot.channel.name}`;
    snapshot.threads.forEach((thread) => thread.activities.forEach(upsert));
    snapshot.chat.forEach(upsert);
  }

  function connect() {
    const events = new EventSource("api/events");
    const state = $("state");
    events.onopen = () => {
      state.dataset.state = "live";
      state.textContent = "live";
      load().catch((error) => toast(`Loading the channel failed: ${error.message}`));
    };
    events.onmessage = (event) => upsert(JSON.parse(event.data), true);
    events.onerror = () => {
      state.dataset.state = "offline";
      state.textContent = "reconnecting…";
    };
  }

  connect();
})();
