// The playground's page: draws one channel of the local Discord stand-in and sends what the
// Discord client would send (a slash command, an autocomplete, a button click) through the page
// server. No framework and no build step; the words of the page itself are here, the bot's
// words come from the bot, in the language picked below (the interaction's locale).
"use strict";

const WORDS = {
  "en-US": {
    banner: "Local playground: the real bot, with an emulated video service and a local Discord stand-in. No accounts, no money spent; nothing leaves this computer.",
    language: "Language",
    sideNote: "Everything here runs on your computer: the bot, a stand-in for Discord and an emulator of Alibaba Cloud's video service (Wan). Videos are test patterns made from your picture.",
    welcomeTitle: "Welcome to #playground",
    welcomeText: "Pick a picture, write a prompt and send /animate. The bot answers here exactly as it would in a Discord server: a status message, a thread, the video, and buttons that work.",
    sample: "Use a sample picture",
    moreOptions: "More options",
    send: "Send",
    submit: "Submit",
    close: "Cancel",
    onlyYou: "Only you can see this",
    thinking: "is thinking…",
    edited: "(edited)",
    bot: "BOT",
    needImage: "Pick a picture first (or use the sample).",
    needPrompt: "Write a prompt: what should happen in the video?",
    byDefault: "(default)",
    yes: "yes",
    no: "no",
    offline: "The playground is not answering; is `animate-bot demo` still running?",
    used: "{user} used {command}",
  },
  "zh-CN": {
    banner: "本地试玩：真实的机器人，搭配模拟的视频服务和本地的 Discord 替身。无需账号，不产生费用，数据不会离开这台电脑。",
    language: "语言",
    sideNote: "这里的一切都在你的电脑上运行：机器人、Discord 的替身，以及阿里云百炼视频服务（通义万相）的模拟器。生成的视频是用你的图片做的测试画面。",
    welcomeTitle: "欢迎来到 #playground",
    welcomeText: "选一张图片，写下提示词，然后发送 /animate。机器人会像在 Discord 服务器里一样回应：状态消息、子区、视频，以及可以使用的按钮。",
    sample: "使用示例图片",
    moreOptions: "更多选项",
    send: "发送",
    submit: "提交",
    close: "取消",
    onlyYou: "只有你能看到这条消息",
    thinking: "正在思考…",
    edited: "（已编辑）",
    bot: "机器人",
    needImage: "请先选择一张图片（或使用示例图片）。",
    needPrompt: "请写下提示词：视频里应该发生什么？",
    byDefault: "（默认）",
    yes: "是",
    no: "否",
    offline: "试玩服务没有响应；`animate-bot demo` 还在运行吗？",
    used: "{user} 使用了 {command}",
  },
};
const MAIN_OPTIONS = ["model", "resolution", "duration"];
const FORM_OWN = ["image", "prompt"];

const $ = (sel) => document.querySelector(sel);
let locale = localStorage.getItem("playground-locale") || "en-US";
let command = null;
let sampleFile = null;
let stateAbort = null;
const shown = new Map(); // message or thread id -> {key, el}

function word(key) { return (WORDS[locale] || WORDS["en-US"])[key] || key; }

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === null || v === undefined || v === false) continue;
    if (k === "class") node.className = v;
    else if (k === "text") node.textContent = v;
    else if (k === "html") node.innerHTML = v;
    else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
    else node.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children) if (c) node.append(c);
  return node;
}

function escapeHtml(s) {
  return s.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c]));
}

// The little Markdown Discord draws in messages: bold, italics, inline code, links.
function markdown(text) {
  let s = escapeHtml(text || "");
  s = s.replace(/`([^`]+)`/g, "<code>$1</code>");
  s = s.replace(/\*\*([^*]+)\*\*/g, "<strong>$1</strong>");
  s = s.replace(/(^|[^*])\*([^*\n]+)\*/g, "$1<em>$2</em>");
  s = s.replace(/\[([^\]]+)\]\((https?:[^)\s]+)\)/g, (_, label, url) => {
    const jump = url.match(/discord\.com\/channels\/\d+\/\d+\/(\d+)/);
    return jump ? `<a href="#m-${jump[1]}">${label}</a>` : `<a href="${url}" target="_blank" rel="noreferrer">${label}</a>`;
  });
  return s;
}

function localized(obj, key) {
  const table = obj[`${key}_localizations`] || {};
  return table[locale] || obj[key] || "";
}

// ------------------------------------------------------------------------ the words of the page
function applyWords() {
  document.documentElement.lang = locale === "zh-CN" ? "zh-CN" : "en";
  for (const node of document.querySelectorAll("[data-word]")) node.textContent = word(node.dataset.word);
  $("#locale").value = locale;
  if (command) buildForm();
}

// ------------------------------------------------------------------------ the /animate form
async function loadInfo() {
  for (;;) {
    try {
      const info = await (await fetch("/api/info")).json();
      $("#guild-name").textContent = info.guild;
      $("#channel-name").textContent = info.channel;
      $("#channel-title").textContent = info.channel;
      if (info.command) { command = info.command; buildForm(); return; }
    } catch (e) { /* the server is starting; ask again */ }
    await new Promise((r) => setTimeout(r, 500));
  }
}

function optionField(option) {
  const id = `opt-${option.name}`;
  const kept = $(`#${id}`);
  const previous = kept ? kept.value : "";
  let input;
  if (option.autocomplete) {
    input = el("select", { id, name: option.name }, el("option", { value: "", text: word("byDefault") }));
    fillAutocomplete(option, input, previous);
  } else if (option.choices) {
    input = el("select", { id, name: option.name }, el("option", { value: "", text: word("byDefault") }));
    for (const c of option.choices) input.append(el("option", { value: c.value, text: localized(c, "name") }));
  } else if (option.type === 5) {
    input = el("select", { id, name: option.name },
      el("option", { value: "", text: word("byDefault") }),
      el("option", { value: "true", text: word("yes") }),
      el("option", { value: "false", text: word("no") }));
  } else if (option.type === 11) {
    input = el("input", { id, name: option.name, type: "file" });
  } else if (option.type === 4 || option.type === 10) {
    input = el("input", { id, name: option.name, type: "number", min: option.min_value, max: option.max_value, step: option.type === 4 ? 1 : "any" });
  } else {
    input = el("input", { id, name: option.name, type: "text", maxlength: option.max_length });
  }
  if (previous && option.type !== 11) input.value = previous;
  const help = localized(option, "description");
  input.title = help;
  return el("div", { class: `field field-${option.name}` },
    el("label", { for: id, class: "opt-name", text: localized(option, "name"), title: help }),
    input);
}

async function fillAutocomplete(option, select, previous) {
  // what the Discord client does while the user types: an autocomplete interaction
  const asked = locale;
  const r = await fetch("/api/autocomplete", {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ option: option.name, value: "", locale: asked }),
  });
  if (!r.ok || asked !== locale) return;
  const { choices } = await r.json();
  for (const c of choices) select.append(el("option", { value: c.value, text: c.name }));
  if (previous) select.value = previous;
}

function buildForm() {
  $("#command-description").textContent = localized(command, "description");
  const main = $("#main-options");
  const more = $("#more-options");
  const fields = { main: [], more: [] };
  for (const option of command.options || []) {
    if (FORM_OWN.includes(option.name)) {
      const label = document.querySelector(`label[for="opt-${option.name}"]`);
      label.textContent = localized(option, "name");
      label.title = $(`#opt-${option.name}`).title = localized(option, "description");
      if (option.name === "prompt") $("#opt-prompt").placeholder = localized(option, "description");
      continue;
    }
    (MAIN_OPTIONS.includes(option.name) ? fields.main : fields.more).push(optionField(option));
  }
  main.replaceChildren(...fields.main);
  more.replaceChildren(...fields.more);
}

function samplePicture() {
  // drawn here, so the playground needs no picture of the user's to try it
  const canvas = el("canvas", { width: 640, height: 400 });
  const g = canvas.getContext("2d");
  const sky = g.createLinearGradient(0, 0, 0, 400);
  sky.addColorStop(0, "#3a7bd5"); sky.addColorStop(1, "#f9d976");
  g.fillStyle = sky; g.fillRect(0, 0, 640, 400);
  g.fillStyle = "#fff3b0"; g.beginPath(); g.arc(470, 120, 55, 0, Math.PI * 2); g.fill();
  g.fillStyle = "#2f5d50"; g.beginPath(); g.moveTo(0, 400); g.lineTo(0, 260); g.lineTo(160, 170);
  g.lineTo(300, 270); g.lineTo(420, 200); g.lineTo(640, 300); g.lineTo(640, 400); g.fill();
  g.fillStyle = "#1d3b33"; g.fillRect(0, 340, 640, 60);
  return new Promise((resolve) => canvas.toBlob((blob) => resolve(new File([blob], "sample.png", { type: "image/png" })), "image/png"));
}

function showPreview(file) {
  const img = $("#preview");
  if (!file) { img.hidden = true; return; }
  img.src = URL.createObjectURL(file);
  img.hidden = false;
}

async function send(event) {
  event.preventDefault();
  const error = $("#form-error");
  error.textContent = "";
  const picked = $("#opt-image").files[0] || sampleFile;
  const prompt = $("#opt-prompt").value.trim();
  // a clip to continue may stand in for the picture (the bot says which it needs)
  const clip = document.querySelector('[name="clip"]');
  if (!picked && !(clip && clip.files && clip.files[0])) { error.textContent = word("needImage"); return; }
  if (!prompt) { error.textContent = word("needPrompt"); return; }
  const form = new FormData();
  form.append("locale", locale);
  if (picked) form.append("image", picked, picked.name);
  form.append("prompt", prompt);
  for (const node of document.querySelectorAll("#main-options [name], #more-options [name]")) {
    if (node.type === "file") { if (node.files[0]) form.append(node.name, node.files[0], node.files[0].name); }
    else if (node.value !== "") form.append(node.name, node.value);
  }
  $("#send").disabled = true;
  try {
    const r = await fetch("/api/animate", { method: "POST", body: form });
    if (!r.ok) error.textContent = (await r.json()).error || r.statusText;
  } catch (e) {
    error.textContent = word("offline");
  } finally {
    $("#send").disabled = false;
  }
}

async function click(message, button, node) {
  node.disabled = true;
  try {
    const r = await fetch("/api/click", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ message_id: message.id, custom_id: button.custom_id, locale }),
    });
    const answer = await r.json();
    if (!r.ok) $("#form-error").textContent = answer.error || r.statusText;
    else if (answer.modal) openForm(answer.modal, answer.interaction);
  } finally {
    node.disabled = false;
  }
}

// A form the bot opened (Extend): drawn as Discord draws a modal, sent back as its answer.
function openForm(modal, interaction) {
  const dialog = el("dialog", { id: "bot-form", class: "bot-form" });
  const form = el("form", { method: "dialog" });
  form.append(el("h2", { text: modal.title }));
  const fields = modal.inputs.map((input, i) => {
    const attrs = { id: `bot-form-${i}`, placeholder: input.placeholder, required: input.required };
    if (input.max_length) attrs.maxlength = String(input.max_length);
    const field = input.paragraph ? el("textarea", { ...attrs, rows: "3" }) : el("input", { ...attrs, type: "text" });
    field.value = input.value;
    form.append(el("label", { for: attrs.id, text: input.label }), field);
    return field;
  });
  const problem = el("div", { class: "form-problem", role: "alert" });
  const cancel = el("button", { type: "button", class: "secondary", text: word("close"), onclick: () => dialog.close() });
  const submit = el("button", { type: "submit", id: "bot-form-submit", text: word("submit") });
  form.append(problem, el("div", { class: "row" }, cancel, submit));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const r = await fetch("/api/modal", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ interaction, values: fields.map((f) => f.value) }),
    });
    if (r.ok) dialog.close();
    else problem.textContent = (await r.json()).error || r.statusText;
  });
  dialog.addEventListener("close", () => dialog.remove());
  dialog.append(form);
  document.body.append(dialog);
  dialog.showModal();
}

// ------------------------------------------------------------------------ drawing the channel
function drawEmbed(embed) {
  const main = el("div", { class: "embed-main" });
  if (embed.title) main.append(el("div", { class: "embed-title", html: markdown(embed.title) }));
  if (embed.description) main.append(el("div", { class: "embed-description", html: markdown(embed.description) }));
  if (embed.fields.length) {
    const grid = el("div", { class: "embed-fields" });
    for (const f of embed.fields) {
      grid.append(el("div", { class: `embed-field${f.inline ? " inline" : ""}` },
        el("div", { class: "embed-field-name", html: markdown(f.name) }),
        el("div", { class: "embed-field-value", html: markdown(f.value) })));
    }
    main.append(grid);
  }
  if (embed.image) main.append(el("img", { src: embed.image, alt: "" }));
  if (embed.footer) main.append(el("div", { class: "embed-footer", text: embed.footer }));
  const box = el("div", { class: "embed" }, main);
  if (embed.color !== null && embed.color !== undefined) box.style.borderLeftColor = `#${embed.color.toString(16).padStart(6, "0")}`;
  if (embed.thumbnail) box.append(el("img", { class: "embed-thumb", src: embed.thumbnail, alt: "" }));
  return box;
}

function drawAttachment(att) {
  const type = att.content_type || "";
  if (type.startsWith("video/")) {
    const video = el("video", { src: att.url, controls: true, autoplay: true, muted: true, loop: true, playsinline: true, preload: "auto", "data-filename": att.filename });
    video.muted = true; // browsers autoplay muted videos only (the attribute alone is not enough here)
    return video;
  }
  if (type.startsWith("image/")) return el("img", { src: att.url, alt: att.filename });
  return el("a", { class: "file", href: att.url, download: att.filename, text: `📎 ${att.filename}` });
}

function fillMessage(node, m) {
  node.className = `message${m.ephemeral ? " ephemeral" : ""}`;
  node.id = `m-${m.id}`;
  node.dataset.id = m.id;
  const head = el("div", {}, el("span", { class: "author", text: m.author }));
  if (m.bot) head.append(el("span", { class: "tag", text: word("bot") }));
  if (m.edits) head.append(el("span", { class: "edited", text: word("edited") }));
  const body = el("div", { class: "body" }, head);
  if (m.thinking) body.append(el("div", { class: "thinking", text: `${m.author} ${word("thinking")}` }));
  if (m.content) body.append(el("div", { class: "content", html: markdown(m.content) }));
  for (const e of m.embeds) body.append(drawEmbed(e));
  if (m.attachments.length) body.append(el("div", { class: "attachments" }, ...m.attachments.map(drawAttachment)));
  if (m.buttons.length) {
    const row = el("div", { class: "buttons" });
    for (const b of m.buttons) {
      const node2 = el("button", { type: "button", class: `style-${b.style}`, "data-custom-id": b.custom_id, disabled: b.disabled, text: b.label });
      if (b.url) node2.addEventListener("click", () => window.open(b.url, "_blank", "noreferrer"));
      else node2.addEventListener("click", () => click(m, b, node2));
      row.append(node2);
    }
    body.append(row);
  }
  if (m.ephemeral) body.append(el("div", { class: "ephemeral-note", text: `👁 ${word("onlyYou")}` }));
  const avatar = el("div", { class: `avatar ${m.bot ? "bot" : "user"}`, text: m.author.slice(0, 1).toUpperCase() });
  const row = el("div", { class: "message-row" }, avatar, body);
  const used = m.used && word("used").replace("{user}", m.used.user).replace("{command}", m.used.command);
  node.replaceChildren(...(used ? [el("div", { class: "used", text: used }), row] : [row]));
}

// Keyed drawing: a message is redrawn only when it changed, so a playing video keeps playing.
function place(key, data, parent, after, draw, make) {
  const digest = JSON.stringify(data) + locale;
  let item = shown.get(key);
  if (!item) { item = { digest: null, el: make() }; shown.set(key, item); }
  if (item.digest !== digest) { draw(item.el, data); item.digest = digest; }
  if (item.el.parentNode !== parent || item.el.previousSibling !== after) {
    if (after) after.after(item.el); else parent.prepend(item.el);
  }
  return item.el;
}

function render(messages) {
  const box = $("#messages");
  const seen = new Set();
  let last = $("#welcome");
  for (const m of messages) {
    const { thread, ...rest } = m;
    seen.add(m.id);
    last = place(m.id, rest, box, last, fillMessage, () => el("div"));
    if (!thread) continue;
    const key = `thread-${thread.id}`;
    seen.add(key);
    const tnode = place(key, { name: thread.name }, box, last, (n, t) => {
      const title = n.querySelector(".thread-name") || el("div", { class: "thread-name" });
      title.textContent = t.name;
      if (!title.parentNode) n.prepend(title);
    }, () => el("div", { class: "thread", id: key }));
    let inner = tnode.querySelector(".thread-name");
    for (const tm of thread.messages) {
      seen.add(tm.id);
      inner = place(tm.id, tm, tnode, inner, fillMessage, () => el("div"));
    }
    last = tnode;
  }
  for (const [key, item] of shown) {
    if (!seen.has(key)) { item.el.remove(); shown.delete(key); }
  }
}

async function follow() {
  // long polling: the server answers when the channel changed (or after a while, unchanged)
  if (stateAbort) stateAbort.abort();
  const abort = new AbortController();
  stateAbort = abort;
  let after = null;
  while (!abort.signal.aborted) {
    try {
      const q = after === null ? "" : `after=${after}&`;
      const r = await fetch(`/api/state?${q}locale=${locale}`, { signal: abort.signal });
      const state = await r.json();
      const stick = $("#messages").scrollHeight - $("#messages").scrollTop - $("#messages").clientHeight < 80;
      render(state.messages);
      if (stick && after !== state.version) $("#messages").scrollTop = $("#messages").scrollHeight;
      after = state.version;
    } catch (e) {
      if (abort.signal.aborted) return;
      await new Promise((r) => setTimeout(r, 1000));
    }
  }
}

// ------------------------------------------------------------------------ start
$("#locale").addEventListener("change", (e) => {
  locale = e.target.value;
  localStorage.setItem("playground-locale", locale);
  applyWords();
  follow();
});
$("#opt-image").addEventListener("change", (e) => { sampleFile = null; showPreview(e.target.files[0]); });
$("#sample").addEventListener("click", async () => {
  sampleFile = await samplePicture();
  $("#opt-image").value = "";
  showPreview(sampleFile);
});
$("#composer").addEventListener("submit", send);
applyWords();
loadInfo();
follow();
