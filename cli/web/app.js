// folio's web app: plain JavaScript over the local API (api/doc.go).
// Everything a peer wrote is put on the page with textContent, never as
// HTML: a message "<img src=x onerror=…>" shows as those characters.
"use strict";

const $ = (id) => document.getElementById(id);
const state = {
  me: null, tasks: [], task: null, msgs: [], byId: new Map(),
  more: true, events: null, replyTo: null, editing: null, invite: null,
};
const PAGE = 50;
const REACTIONS = ["👍", "❤️", "😂", "🎉"];
const HIDDEN = new Set(["edit", "delete", "reaction"]); // applied to their targets

// NotSignedIn: the API answered 401; the login page shows.
class NotSignedIn extends Error {}

async function call(method, path, body) {
  const opt = { method, headers: {} };
  if (body !== undefined) {
    opt.headers["Content-Type"] = "application/json";
    opt.body = JSON.stringify(body);
  }
  const r = await fetch(path, opt);
  if (r.status === 401) throw new NotSignedIn("not signed in");
  const data = await r.json().catch(() => ({}));
  if (!r.ok) throw new Error(data.error || r.status + " " + r.statusText);
  return data;
}

function el(tag, cls, text) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined) e.textContent = text;
  return e;
}

function showError(err) {
  if (err instanceof NotSignedIn) return showLogin("");
  $("error").textContent = err ? String(err.message || err) : "";
}

function showLogin(msg) {
  $("app").hidden = true;
  $("login").hidden = false;
  $("login-error").textContent = msg;
}

// Runs f, showing its error (if any) plainly.
function guarded(f) {
  return async (ev) => {
    if (ev && ev.preventDefault) ev.preventDefault();
    try { showError(null); await f(ev); } catch (err) { showError(err); }
  };
}

// ---- sign-in: the URL's fragment carries the token once -----------------

async function signIn() {
  const m = location.hash.match(/token=([0-9a-f]{64})/);
  if (!m) return;
  history.replaceState(null, "", "/"); // out of the address bar and history
  const r = await fetch("/v1/session", { method: "POST", headers: { Authorization: "Bearer " + m[1] } });
  if (!r.ok) throw new Error("That sign-in link is not valid: run folio open again.");
}

async function start() {
  try {
    await signIn();
    state.me = await call("GET", "/v1/id");
  } catch (err) {
    return showLogin(err instanceof NotSignedIn ? "" : String(err.message || err));
  }
  $("login").hidden = true;
  $("app").hidden = false;
  showMe();
  await loadTasks();
  setInterval(() => loadTasks().catch(showError), 3000);
  setInterval(() => state.task && loadMembers().catch(() => {}), 5000);
}

function showMe() {
  $("me").textContent = state.me.name || "(no name yet)";
}

// ---- tasks ---------------------------------------------------------------

function name(id, fallback) {
  if (state.me && id === state.me.id) return state.me.name || "you";
  return fallback || id.slice(-6);
}

async function loadTasks() {
  state.tasks = await call("GET", "/v1/tasks");
  // Unchanged: leave the list alone (focus, a click under way, a screen
  // reader's place).
  const sig = JSON.stringify([state.tasks, state.task && state.task.id]);
  if (sig === state.tasksShown) return;
  state.tasksShown = sig;
  const list = $("tasks");
  list.replaceChildren();
  const parent = $("new-parent");
  const chosen = parent.value;
  parent.replaceChildren(new Option("(a task of its own)", ""));
  const roots = state.tasks.filter((t) => !t.parent);
  const ordered = [];
  for (const r of roots) {
    ordered.push(r);
    for (const s of state.tasks.filter((t) => t.parent === r.id)) ordered.push(s);
  }
  for (const t of state.tasks) if (!ordered.includes(t)) ordered.push(t);
  for (const t of ordered) {
    const li = el("li", (t.parent ? "sub " : "") + (t.closed ? "closed " : "") + (state.task && state.task.id === t.id ? "current" : ""));
    li.dataset.id = t.id;
    const b = el("button");
    b.type = "button";
    b.append(el("span", "title", t.title));
    if (t.unread > 0) {
      const u = el("span", "unread", String(t.unread));
      u.setAttribute("aria-label", t.unread + " unread");
      b.append(u);
    }
    b.addEventListener("click", guarded(() => openTask(t.id)));
    li.append(b);
    list.append(li);
    if (!t.parent) parent.append(new Option(t.title, t.id));
  }
  parent.value = chosen;
  if (state.task) {
    const t = state.tasks.find((x) => x.id === state.task.id);
    if (t) { state.task = t; showTaskHead(); }
  }
  if (ordered.length === 0) list.append(el("li", "empty", "No tasks yet: create one, or join with a code."));
}

function showTaskHead() {
  const t = state.task;
  $("task-title").textContent = t.title + (t.closed ? " (closed)" : "");
  document.title = t.title + " · folio";
}

async function openTask(id) {
  if (state.events) state.events.close();
  state.task = state.tasks.find((t) => t.id === id);
  state.msgs = []; state.byId = new Map(); state.more = true;
  cancelReply();
  $("invite-box").hidden = true;
  $("rename-form").hidden = true;
  $("chat").hidden = false;
  $("app").classList.add("in-task");
  showTaskHead();
  $("messages").replaceChildren();
  await listen(id); // live first, then the history: nothing falls in between
  await loadMessages();
  await loadMembers();
  await loadTasks();
  $("text").focus();
}

async function loadMembers() {
  const ms = await call("GET", "/v1/tasks/" + state.task.id + "/members");
  const ul = $("members");
  ul.replaceChildren();
  for (const m of ms) {
    const li = el("li", m.online ? "online" : "");
    li.append(el("span", "dot"));
    li.append(el("span", "", (m.name || m.id.slice(-6)) + (m.me ? " (you)" : "")));
    li.append(el("span", "state", m.me ? "" : m.online ? " online" : " offline"));
    ul.append(li);
  }
  $("members-box").querySelector("summary").textContent = "Members (" + ms.length + ")";
}

// ---- messages ------------------------------------------------------------

async function loadMessages() {
  const ms = await call("GET", "/v1/tasks/" + state.task.id + "/messages?limit=" + PAGE);
  // What the stream brought meanwhile and the page does not have stays.
  const live = state.msgs.filter((m) => !ms.some((x) => x.id === m.id));
  state.msgs = ms.concat(live);
  state.more = ms.length === PAGE;
  render(true);
  await markRead();
}

async function loadOlder() {
  if (!state.more || state.msgs.length === 0 || state.loading) return;
  state.loading = true;
  try {
    const box = $("messages");
    const before = box.scrollHeight - box.scrollTop;
    const ms = await call("GET", "/v1/tasks/" + state.task.id + "/messages?limit=" + PAGE + "&before=" + encodeURIComponent(state.msgs[0].id));
    state.more = ms.length === PAGE;
    state.msgs = ms.concat(state.msgs);
    render(false);
    box.scrollTop = box.scrollHeight - before;
  } finally { state.loading = false; }
}

// reload fetches the loaded window again: edits, deletes and reactions
// change messages already shown.
async function reload() {
  const n = Math.max(PAGE, state.msgs.filter((m) => !HIDDEN.has(m.type)).length + 10);
  const ms = await call("GET", "/v1/tasks/" + state.task.id + "/messages?limit=" + n);
  state.msgs = ms;
  render(false);
}

// listen follows task id live; it resolves once the stream is open (the
// server answers only when its subscription is live) or has failed.
function listen(id) {
  const es = new EventSource("/v1/tasks/" + id + "/events");
  state.events = es;
  const opened = new Promise((resolve) => {
    es.addEventListener("open", resolve, { once: true });
    es.addEventListener("error", resolve, { once: true });
  });
  es.addEventListener("message", (ev) => {
    if (!state.task || state.task.id !== id) return;
    const m = JSON.parse(ev.data);
    const box = $("messages");
    const atEnd = box.scrollHeight - box.scrollTop - box.clientHeight < 40;
    if (HIDDEN.has(m.type)) {
      reload().catch(showError);
    } else if (!state.msgs.some((x) => x.id === m.id)) {
      state.msgs.push(m);
      render(atEnd);
    }
    if (document.visibilityState === "visible") markRead().catch(() => {});
  });
  es.addEventListener("lagged", () => { es.close(); listen(id).then(reload).catch(showError); });
  return opened;
}

async function markRead() {
  const last = state.msgs[state.msgs.length - 1];
  if (!last) return;
  const t = await call("POST", "/v1/tasks/" + state.task.id + "/read", { upto: last.id });
  const mine = state.tasks.find((x) => x.id === t.id);
  if (mine && mine.unread !== t.unread) await loadTasks();
}

function when(iso) {
  if (!iso) return "";
  const d = new Date(iso);
  return d.toLocaleString([], { month: "short", day: "numeric", year: d.getFullYear() === new Date().getFullYear() ? undefined : "numeric", hour: "2-digit", minute: "2-digit" });
}

function render(toEnd) {
  state.byId = new Map(state.msgs.map((m) => [m.id, m]));
  const box = $("messages");
  box.replaceChildren();
  const top = el("li", "", state.more ? "Scroll up for older messages" : "The beginning of this task");
  top.id = "older";
  box.append(top);
  for (const m of state.msgs) if (!HIDDEN.has(m.type)) box.append(messageItem(m));
  if (toEnd) box.scrollTop = box.scrollHeight;
}

function systemText(m) {
  const who = name(m.author, m.name);
  switch (m.type) {
    case "task": return who + " set the task: " + m.text;
    case "join": return who + " added " + (m.member_name || (m.member || "").slice(-6));
    case "leave": return who + " left the task";
    case "profile": return m.author.slice(-6) + " is now called " + m.text;
    case "unreadable": return "An unreadable page from " + who + ": " + m.error;
  }
  return null;
}

function messageItem(m) {
  const mine = state.me && m.author === state.me.id;
  const li = el("li", "msg" + (mine ? " mine" : "") + (m.deleted ? " deleted" : ""));
  li.dataset.id = m.id;
  const sys = systemText(m);
  if (sys !== null) {
    li.className = "msg system";
    li.append(el("span", "", sys + " · " + when(m.time)));
    return li;
  }
  const meta = el("div", "meta");
  meta.append(el("span", "author", name(m.author, m.name)));
  const t = el("time", "", when(m.time));
  if (m.time) t.dateTime = m.time;
  meta.append(t);
  if (m.edited && !m.deleted) meta.append(el("span", "edited", "(edited)"));
  li.append(meta);
  if (m.ref) {
    const q = state.byId.get(m.ref);
    const quote = q ? name(q.author, q.name) + ": " + (q.deleted ? "(deleted)" : q.text) : "an earlier message";
    li.append(el("blockquote", "quote", "↪ " + quote));
  }
  li.append(el("div", "text", m.deleted ? "(deleted)" : m.text));
  if (m.reactions) {
    const rs = el("div", "reactions");
    for (const [r, who] of Object.entries(m.reactions)) {
      const b = el("button", "", r + " " + who.length);
      b.type = "button";
      b.title = who.map((w) => name(w)).join(", ");
      b.setAttribute("aria-label", r + " from " + b.title);
      b.addEventListener("click", guarded(() => send({ type: "reaction", ref: m.id, text: r })));
      rs.append(b);
    }
    li.append(rs);
  }
  if (!m.deleted) li.append(actions(m, mine));
  return li;
}

function actions(m, mine) {
  const a = el("div", "actions");
  const add = (label, aria, f) => {
    const b = el("button", "", label);
    b.type = "button";
    b.setAttribute("aria-label", aria);
    b.addEventListener("click", guarded(f));
    a.append(b);
  };
  add("Reply", "Reply to this message", () => startReply(m));
  for (const r of REACTIONS) add(r, "React " + r, () => send({ type: "reaction", ref: m.id, text: r }));
  if (mine) {
    add("Edit", "Edit this message", () => startEdit(m));
    add("Delete", "Delete this message", () => send({ type: "delete", ref: m.id }));
  }
  return a;
}

function startReply(m) {
  state.editing = null;
  state.replyTo = m;
  $("reply-label").textContent = "Replying to " + name(m.author, m.name) + ": " + m.text;
  $("replying").hidden = false;
  $("text").focus();
}

function startEdit(m) {
  state.replyTo = null;
  state.editing = m;
  $("reply-label").textContent = "Editing your message";
  $("replying").hidden = false;
  $("text").value = m.text;
  $("text").focus();
}

function cancelReply() {
  state.replyTo = null;
  state.editing = null;
  $("replying").hidden = true;
}

async function send(body) {
  await call("POST", "/v1/tasks/" + state.task.id + "/messages", body);
}

async function submit() {
  const text = $("text").value;
  if (!text.trim() || !state.task) return;
  const body = { text };
  if (state.editing) { body.type = "edit"; body.ref = state.editing.id; }
  else if (state.replyTo) { body.ref = state.replyTo.id; }
  await send(body);
  $("text").value = "";
  cancelReply();
}

// ---- wiring ----------------------------------------------------------------

$("composer").addEventListener("submit", guarded(submit));
$("text").addEventListener("keydown", (ev) => {
  if (ev.key === "Enter" && !ev.shiftKey && !ev.isComposing) guarded(submit)(ev);
});
$("cancel-reply").addEventListener("click", () => { cancelReply(); $("text").value = ""; });
$("messages").addEventListener("scroll", () => {
  if ($("messages").scrollTop < 30) loadOlder().catch(showError);
});
$("back").addEventListener("click", () => $("app").classList.remove("in-task"));
$("new-task").addEventListener("submit", guarded(async () => {
  const t = await call("POST", "/v1/tasks", { title: $("new-title").value, parent: $("new-parent").value || undefined });
  $("new-title").value = "";
  await loadTasks();
  await openTask(t.id);
}));
$("join").addEventListener("submit", guarded(async () => {
  $("join").querySelector("button").disabled = true;
  try {
    const t = await call("POST", "/v1/join", { code: $("join-code").value.trim() });
    $("join-code").value = "";
    await loadTasks();
    await openTask(t.id);
  } finally { $("join").querySelector("button").disabled = false; }
}));
$("invite").addEventListener("click", guarded(async () => {
  const iv = await call("POST", "/v1/tasks/" + state.task.id + "/invite");
  state.invite = iv.code;
  $("invite-code").textContent = iv.code;
  $("invite-state").textContent = "";
  $("invite-box").hidden = false;
}));
$("copy-invite").addEventListener("click", guarded(async () => {
  await navigator.clipboard.writeText(state.invite);
  $("invite-state").textContent = "Copied.";
}));
$("revoke-invite").addEventListener("click", guarded(async () => {
  await call("POST", "/v1/revoke", { code: state.invite });
  $("invite-state").textContent = "Revoked: nobody can join with this code.";
}));
$("rename").addEventListener("click", () => {
  $("rename-input").value = state.task.title;
  $("rename-form").hidden = !$("rename-form").hidden;
});
$("rename-form").addEventListener("submit", guarded(async () => {
  await call("POST", "/v1/tasks/" + state.task.id + "/rename", { title: $("rename-input").value });
  $("rename-form").hidden = true;
  await loadTasks();
}));
$("close-task").addEventListener("click", guarded(async () => {
  await call("POST", "/v1/tasks/" + state.task.id + "/close");
  await loadTasks();
}));
$("leave").addEventListener("click", guarded(async () => {
  await call("POST", "/v1/tasks/" + state.task.id + "/leave");
  await loadTasks();
}));
$("name-edit").addEventListener("click", () => {
  $("name-input").value = state.me.name || "";
  $("name-form").hidden = !$("name-form").hidden;
});
$("name-form").addEventListener("submit", guarded(async () => {
  state.me = await call("POST", "/v1/name", { name: $("name-input").value });
  $("name-form").hidden = true;
  showMe();
}));

// A new sign-in link pasted into this tab changes only the fragment:
// no page load, so sign in again.
window.addEventListener("hashchange", () => { if (location.hash.includes("token=")) location.reload(); });

start();
