// newsstream newsroom: one page, three views (#/, #/entity/ID, #/article/ID), fed by the
// dashboard's JSON and told of changes over a WebSocket. All text from the topics goes
// into the page as text nodes, never as HTML: articles come from crawlers.
"use strict";

const $ = (id) => document.getElementById(id);
const LABELS = { PER: "person", ORG: "organisation", LOC: "place", EVT: "event" };
const WINDOW_NAMES = { total: "total", "1m": "1 m", "1h": "1 h", "1d": "1 d" };

// What the tests and `make bench` read: when the first view was drawn, how long updates take.
const timings = (window.newsstream = { firstRender: null, updates: 0, lastUpdateMs: null, updateMs: [] });

const view = { window: "total", start: "", label: "", language: "", trending: "", chartWindow: null };
let lastSeq = null;        // newest article in the feed
let version = -1;          // the state version the page shows
let route = null;
let refreshing = null;     // the refresh in flight, and whether another is owed
let owed = false;

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (key === "class") node.className = value;
    else if (key === "text") node.textContent = value;
    else node.setAttribute(key, value === true ? "" : value);
  }
  for (const child of children) {
    if (child === null || child === undefined) continue;
    node.append(child instanceof Node ? child : String(child));
  }
  return node;
}

// replaceChildren writes a null child as the text "null": the parts a view leaves out go.
function fill(node, ...children) {
  node.replaceChildren(...children.filter((child) => child !== null && child !== undefined));
}

// Whether ``node`` shows ``data`` already: a view is redrawn only when what it shows changed,
// so that nothing is replaced under a reader (or a test) for an update elsewhere.
function unchanged(node, data) {
  const key = JSON.stringify(data);
  if (node.dataset.shown === key) return true;
  node.dataset.shown = key;
  return false;
}

const entityHref = (id) => "#/entity/" + encodeURIComponent(id);
const articleHref = (id) => "#/article/" + encodeURIComponent(id);
const number = (n) => (n === null || n === undefined ? "–" : n.toLocaleString("en"));
const windowName = (w) => WINDOW_NAMES[w] || w;
const plural = (n, word) => number(n) + " " + word + (n === 1 ? "" : "s");

function when(stamp) {
  if (!stamp) return "";
  const date = new Date(stamp.length === 10 ? stamp + "T00:00:00Z" : stamp);
  if (isNaN(date)) return stamp;
  return stamp.length === 10
    ? date.toLocaleDateString(undefined, { dateStyle: "medium", timeZone: "UTC" })
    : date.toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" });
}

function startName(seconds, window, sizes) {
  if (seconds === null || seconds === undefined) return "";
  const date = new Date(seconds * 1000);
  const size = sizes ? sizes[window] : null;
  if (size && size >= 86400) return date.toLocaleDateString(undefined, { dateStyle: "medium", timeZone: "UTC" });
  return date.toLocaleString(undefined, { dateStyle: "short", timeStyle: "short" });
}

// A link built from topic data: only http(s) URLs become links ("javascript:" and the like
// are shown as text).
function webLink(url) {
  if (typeof url === "string" && /^https?:\/\//i.test(url)) {
    return el("a", { href: url, rel: "noopener noreferrer", target: "_blank", text: url });
  }
  return el("span", { class: "url", text: url || "" });
}

async function getJSON(url) {
  const response = await fetch(url, { headers: { Accept: "application/json" } });
  if (!response.ok && response.status !== 404) throw new Error(url + ": " + response.status);
  return response.json();
}

function entityLink(entity, extra) {
  return el("a", { href: entityHref(entity.entity_id), class: "entity", "data-entity": entity.entity_id },
    entity.name, el("span", { class: "label " + entity.label, title: LABELS[entity.label] || entity.label, text: entity.label }), extra);
}

function tabs(container, names, selected, onPick) {
  const key = names.join("|") + "#" + selected;
  if (container.dataset.key === key) return;
  container.dataset.key = key;
  container.replaceChildren(...names.map((name) =>
    el("button", { type: "button", role: "tab", "aria-selected": String(name === selected), "data-window": name,
      text: windowName(name) })));
  container.onclick = (event) => {
    const button = event.target.closest("button");
    if (button) onPick(button.dataset.window);
  };
}

// ---- the article text with its mentions ----------------------------------------------------

function highlighted(segments, className) {
  const text = el("p", { class: "text " + className });
  for (const segment of segments) {
    if (segment.e === undefined) text.append(segment.t);
    else text.append(el("a", {
      href: entityHref(segment.e), class: "mention " + (LABELS[segment.l] ? segment.l : "other"),
      "data-entity": segment.e, "data-name": segment.n, title: segment.n + " · " + segment.l, text: segment.t,
    }));
  }
  return text;
}

function articleMeta(article) {
  const meta = el("div", { class: "meta" },
    el("span", { class: "source", text: article.source }),
    el("span", { class: "lang", text: article.language }),
    el("time", { datetime: article.published_at || article.processed_at || "", text: when(article.published_at || article.processed_at) }),
    el("span", { text: plural(article.mentions, "mention") }));
  if (article.duplicate_of) {
    meta.append(el("span", { class: "dup" }, "duplicate of ",
      el("a", { href: articleHref(article.duplicate_of), class: "first-copy", text: article.first_copy_known ? "the first copy" : article.duplicate_of })));
  }
  return meta;
}

function feedItem(article, fresh) {
  return el("li", { class: fresh ? "fresh" : null, "data-id": article.id, "data-seq": article.seq },
    el("h3", {}, el("a", { href: articleHref(article.id), text: article.title || article.url || article.id })),
    articleMeta(article),
    highlighted(article.segments, "excerpt"),
    article.more ? el("a", { class: "more", href: articleHref(article.id), text: "Read the article →" }) : null);
}

// ---- home -----------------------------------------------------------------------------------

function homeQuery() {
  const params = new URLSearchParams({ window: view.window, n: "25" });
  for (const key of ["start", "label", "language", "trending"]) if (view[key]) params.set(key, view[key]);
  if (lastSeq !== null) params.set("since", String(lastSeq));
  return "/api/home?" + params;
}

async function loadHome(replaceFeed) {
  if (replaceFeed) lastSeq = null;
  const data = await getJSON(homeQuery());
  renderHome(data, replaceFeed);
  return data;
}

function renderHome(data, replaceFeed) {
  version = Math.max(version, data.version);
  renderStatus(data.status, data.held);
  tabs($("windows"), data.windows, view.window, (w) => { view.window = w; view.start = ""; loadHome(false); });
  renderStarts(data.top);
  renderLanguages(data.languages);
  renderTop(data.top);
  renderTrending(data.trending);
  renderFeed(data.feed, replaceFeed);
  renderDeadletters(data.deadletters);
}

function renderDeadletters(letters) {
  const box = $("deadletters");
  if (unchanged(box, letters)) return;
  box.hidden = letters.total === 0;
  $("deadletters-summary").textContent = plural(letters.total, "dead letter") + ": " +
    letters.reasons.map((r) => r.reason_code + " " + number(r.count)).join(", ");
  $("deadletters-latest").replaceChildren(...letters.latest.map((letter) => el("li", {},
    el("span", { class: "code", text: letter.reason_code }), " ",
    (letter.article_id || (letter.topic + "/" + letter.partition + "@" + letter.offset)) + ": " + letter.reason)));
}

function renderTop(top) {
  if (unchanged($("top"), top.entities)) return;
  const rows = top.entities.map((entity, i) => el("tr", { "data-entity": entity.entity_id },
    el("td", { text: String(i + 1) }), el("td", {}, entityLink(entity)),
    el("td", { class: "num mentions", text: number(entity.mentions) }), el("td", { class: "num articles", text: number(entity.articles) })));
  $("top").tBodies[0].replaceChildren(...rows);
  $("top-empty").hidden = rows.length > 0;
}

function renderStarts(top) {
  const select = $("start");
  const key = top.window + "|" + top.starts.join(",") + "|" + top.start;
  if (select.dataset.key === key) return;
  select.dataset.key = key;
  select.disabled = top.window === "total";
  const options = top.window === "total" ? [el("option", { value: "", text: "since the stream began" })]
    : top.starts.map((s, i) => el("option", { value: String(s), selected: s === top.start,
      text: (i === 0 ? "latest: " : "") + startName(s, top.window, { [top.window]: top.seconds }) }));
  select.replaceChildren(...options);
}

function renderLanguages(languages) {
  const select = $("language");
  const key = languages.join(",");
  if (select.dataset.key === key) return;
  select.dataset.key = key;
  select.replaceChildren(el("option", { value: "", text: "all" }),
    ...languages.map((l) => el("option", { value: l, selected: l === view.language, text: l })));
}

function renderTrending(board) {
  if (unchanged($("trending"), board)) return;
  const body = $("trending").tBodies[0];
  if (!board) {
    body.replaceChildren();
    $("trending-empty").hidden = false;
    $("trend-span").textContent = "";
    $("trend-windows").replaceChildren();
    return;
  }
  tabs($("trend-windows"), board.windows, board.window, (w) => { view.trending = w; loadHome(false); });
  $("trend-span").textContent = "Window " + when(board.window_start) + " – " + when(board.window_end);
  const rows = board.entities.map((row) => {
    const ratio = row.baseline > 0 ? "×" + (row.mentions / row.baseline).toFixed(1) + " its baseline" : "new: no mentions before";
    return el("tr", { "data-entity": row.entity.entity_id },
      el("td", { text: String(row.rank) }),
      el("td", {}, entityLink(row.entity), el("span", { class: "why",
        text: row.mentions + " mentions now against " + row.baseline.toFixed(1) + " per window (" + ratio + ")" })),
      el("td", { class: "num", text: number(row.mentions) }),
      el("td", { class: "num", text: row.baseline.toFixed(1) }),
      el("td", { class: "num", text: row.score.toFixed(2) }));
  });
  body.replaceChildren(...rows);
  $("trending-empty").hidden = rows.length > 0;
}

function renderFeed(items, replace) {
  const list = $("feed");
  if (replace) list.replaceChildren();
  const fresh = !replace && list.children.length > 0;
  for (const article of items.slice().reverse()) {
    const old = list.querySelector(`li[data-id="${CSS.escape(article.id)}"]`);
    const item = feedItem(article, fresh);
    if (old) old.replaceWith(item); else list.prepend(item);
  }
  if (items.length) lastSeq = Math.max(lastSeq ?? 0, ...items.map((a) => a.seq));
  while (list.children.length > 60) list.lastElementChild.remove();
  $("feed-empty").hidden = list.children.length > 0;
  $("feed-count").textContent = list.children.length ? "newest first" : "";
}

function renderStatus(status, held) {
  const node = $("status");
  let text, state;
  if (status.consumer_failed) { text = "reader failed: " + status.consumer_failed; state = "down"; }
  else if (!status.broker_ok && status.broker_error) { text = "broker unreachable"; state = "down"; }
  else if (!status.caught_up) { text = "catching up · " + number(status.lag) + " records behind"; state = "behind"; }
  else { text = "live"; state = "live"; }
  node.textContent = text;
  node.className = "status " + state;
  if (held) node.title = `${number(held.articles)} articles, ${number(held.entities)} entities held`;
}

// ---- entity ---------------------------------------------------------------------------------

let chart = null;

async function loadEntity(id) {
  const data = await getJSON("/api/entity/" + encodeURIComponent(id));
  const page = $("entity-view");
  if (unchanged(page, [id, view.chartWindow, data])) return;
  page.dataset.id = id;
  if (data.error) {
    $("entity-name").textContent = id;
    $("entity-totals").textContent = data.error;
    return;
  }
  $("entity-name").textContent = data.name;
  const label = $("entity-label");
  label.textContent = LABELS[data.label] ? data.label + " · " + LABELS[data.label] : data.label;
  label.className = "label " + data.label;
  $("entity-totals").textContent = data.total
    ? `${plural(data.total.mentions, "mention")} in ${plural(data.total.articles, "article")} since the stream began` +
      (data.languages.length ? " · " + data.languages.join(", ") : "")
    : "";
  const windows = data.windows;
  if (!windows.includes(view.chartWindow)) {
    // The window the newsroom looks at, else the one with the longest history.
    const longest = windows.slice().sort((a, b) => data.series[b].length - data.series[a].length)[0];
    view.chartWindow = windows.includes(view.window) ? view.window : longest || null;
  }
  tabs($("chart-windows"), windows, view.chartWindow, (w) => { view.chartWindow = w; loadEntity(id); });
  drawChart(data);
  $("outlets").replaceChildren(...data.outlets.map((o) => el("li", {}, o.source, el("span", { class: "count", text: plural(o.articles, "article") }))));
  $("cooccurring").replaceChildren(...data.cooccurring.map((e) => el("li", {}, entityLink(e), el("span", { class: "count", text: "in " + plural(e.articles, "article") }))));
  $("entity-scope").textContent = `Outlets, neighbours and articles: from the ${number(data.stored_articles)} of the latest articles held that mention it.`;
  $("entity-articles").replaceChildren(...data.articles.map((a) => feedItem(a, false)));
}

function drawChart(data) {
  const box = $("chart");
  const points = (data.series[view.chartWindow] || []);
  box.dataset.points = String(points.length);
  box.dataset.window = view.chartWindow || "";
  $("chart-empty").hidden = points.length > 0;
  if (chart) { chart.destroy(); chart = null; }
  if (!points.length || typeof uPlot === "undefined") return;
  const xs = points.map((p) => p[0]);
  const ys = points.map((p) => p[1]);
  const articles = points.map((p) => p[2]);
  const size = data.window_seconds[view.chartWindow] || 60;
  chart = new uPlot({
    width: Math.max(box.clientWidth, 260), height: 240,
    // Half a window either side: one point still gets a readable axis.
    scales: { x: { time: true, range: () => [xs[0] - size / 2, xs[xs.length - 1] + size / 2] }, y: { range: (u, min, max) => [0, Math.max(1, max * 1.15)] } },
    axes: [{}, { label: "mentions" }],
    series: [{}, { label: "mentions", stroke: "#1f5fbf", fill: "rgba(31,95,191,.12)", width: 2, points: { show: true, size: 7 } },
      { label: "articles", stroke: "#2f855a", width: 1.5, dash: [4, 4], points: { show: true, size: 5 } }],
  }, [xs, ys, articles], box);
}

// ---- article --------------------------------------------------------------------------------

async function loadArticle(id) {
  const data = await getJSON("/api/article/" + encodeURIComponent(id));
  const box = $("article");
  if (unchanged(box, [id, data])) return;
  box.dataset.id = id;
  if (data.error) { fill(box, el("h1", { text: id }), el("p", { class: "empty", text: data.error })); return; }
  fill(box,
    el("h1", { text: data.title || data.url }),
    articleMeta(data),
    el("p", { class: "hint" }, webLink(data.url)),
    highlighted(data.segments, "full"),
    data.more ? el("p", { class: "hint", text: "(the dashboard keeps the first 20,000 characters)" }) : null,
    el("section", { class: "entities" }, el("h2", { text: "Entities" }),
      el("ol", { class: "plain" }, ...data.entity_counts.map((e) => el("li", {}, entityLink(e), el("span", { class: "count", text: "×" + e.mentions }))))));
}

// ---- search ---------------------------------------------------------------------------------

let searchTimer = null;
function setupSearch() {
  const input = $("q");
  const list = $("suggestions");
  input.addEventListener("input", () => {
    clearTimeout(searchTimer);
    searchTimer = setTimeout(async () => {
      const q = input.value.trim();
      if (!q) { list.hidden = true; return; }
      const data = await getJSON("/api/search?q=" + encodeURIComponent(q));
      list.replaceChildren(...data.entities.map((e, i) => el("li", {},
        el("a", { href: entityHref(e.entity_id), class: i === 0 ? "active" : null, "data-entity": e.entity_id },
          el("span", {}, e.name, el("span", { class: "label " + e.label, text: e.label })),
          el("span", { class: "count", text: e.mentions === null ? "" : number(e.mentions) })))));
      if (!data.entities.length) list.replaceChildren(el("li", {}, el("a", { text: "no entity named like that" })));
      list.hidden = false;
    }, 120);
  });
  $("search").addEventListener("submit", (event) => {
    event.preventDefault();
    const first = list.querySelector("a[data-entity]");
    if (first) location.hash = first.getAttribute("href");
  });
  list.addEventListener("click", () => { list.hidden = true; input.value = ""; });
  document.addEventListener("click", (event) => { if (!event.target.closest("#search")) list.hidden = true; });
}

// ---- routing and updates --------------------------------------------------------------------

function parseRoute() {
  const parts = location.hash.replace(/^#\/?/, "").split("/");
  if (parts[0] === "entity" && parts[1]) return { name: "entity", id: decodeURIComponent(parts.slice(1).join("/")) };
  if (parts[0] === "article" && parts[1]) return { name: "article", id: decodeURIComponent(parts.slice(1).join("/")) };
  return { name: "home" };
}

async function show() {
  route = parseRoute();
  $("home-view").hidden = route.name !== "home";
  $("entity-view").hidden = route.name !== "entity";
  $("article-view").hidden = route.name !== "article";
  window.scrollTo(0, 0);
  if (route.name === "home") await loadHome(true);
  else if (route.name === "entity") await loadEntity(route.id);
  else await loadArticle(route.id);
}

async function refresh() {
  if (route.name === "home") await loadHome(false);
  else if (route.name === "entity") await loadEntity(route.id);
  else await loadArticle(route.id); // an article sent again with another text is redrawn
}

// At most one refresh in flight; changes that arrive meanwhile make exactly one more.
function changed(received) {
  if (refreshing) { owed = true; return; }
  refreshing = refresh().then(() => {
    const ms = performance.now() - received;
    timings.updates += 1;
    timings.lastUpdateMs = ms;
    timings.updateMs.push(ms);
    if (timings.updateMs.length > 100) timings.updateMs.shift();
  }).catch(() => {}).finally(() => {
    refreshing = null;
    if (owed) { owed = false; changed(performance.now()); }
  });
}

let retry = 500;
let reconnecting = false;
function listen() {
  const socket = new WebSocket((location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/api/updates");
  socket.binaryType = "arraybuffer";
  // After a reconnect the dashboard may have restarted (its version counts from 0 again).
  socket.onopen = () => { if (reconnecting) version = -1; retry = 500; reconnecting = true; };
  socket.onmessage = (event) => {
    const received = performance.now();
    const data = JSON.parse(typeof event.data === "string" ? event.data : new TextDecoder().decode(event.data));
    renderStatus(data.status, null);
    if (data.version > version) changed(received);
  };
  socket.onclose = () => {
    const node = $("status");
    node.textContent = "dashboard unreachable: retrying";
    node.className = "status down";
    setTimeout(listen, retry);
    retry = Math.min(retry * 2, 10000);
  };
}

// On a phone the home view shows one section at a time, picked from a tab bar at its top.
function setupSections() {
  const home = $("home-view");
  tabs($("sections"), ["top", "trending", "feed"], home.dataset.section, (name) => {
    home.dataset.section = name;
    setupSections();
  });
  for (const button of $("sections").querySelectorAll("button")) {
    button.textContent = SECTION_NAMES[button.dataset.window];
  }
}
const SECTION_NAMES = { top: "Top entities", trending: "Trending", feed: "Live feed" };

function setup() {
  setupSections();
  for (const id of ["label", "language", "start"]) {
    $(id).addEventListener("change", () => { view[id] = $(id).value; loadHome(false); });
  }
  setupSearch();
  window.addEventListener("hashchange", show);
  window.addEventListener("resize", () => { if (chart) chart.setSize({ width: Math.max($("chart").clientWidth, 260), height: 240 }); });
  show().then(() => { timings.firstRender = performance.now(); }).finally(listen);
}

setup();
