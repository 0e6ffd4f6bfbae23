// The live page at /: lists open auctions (refreshing itself), opens one,
// watches its board over /v1/sessions/{id}/live, counts down with the
// server's clock, places bids, and lets an admin start or end an auction.
// Amounts are integers of the currency's minor units on the wire and money
// in the viewer's locale on screen. Plain browser JavaScript served as a
// static asset: it only ever talks to the API on its own origin.

const TOKEN_KEY = "bidding.token";
const RECONNECT_MIN_MS = 500;
const RECONNECT_MAX_MS = 10_000;
const TICK_MS = 250;
const LIST_REFRESH_MS = 10_000;

const $ = (id) => {
  const element = document.getElementById(id);
  if (!element) throw new Error(`#${id} is missing from the page`);
  return element;
};

const state = {
  token: sessionStorage.getItem(TOKEN_KEY) ?? "",
  userId: undefined,
  role: undefined,
  session: undefined,
  /** serverTime − Date.now(), from the last answer or message that carried the server's clock. */
  clockOffsetMs: 0,
  endsAtMs: 0,
  ended: false,
  highest: null,
  /** The signed-in viewer holds a bid in the open session: only then does "lost" concern them. */
  hasBid: false,
  socket: undefined,
  /** The authenticated upgrade failed for this session: watch anonymously instead. */
  bearerRefused: false,
  reconnectDelayMs: RECONNECT_MIN_MS,
  reconnectTimer: undefined,
  /** The object URL of the last receipt offered for saving. */
  receiptUrl: undefined,
};

// --- money and time, in the viewer's locale --------------------------------

/** Digits after the decimal point of `currency`'s minor unit (2 for USD, 0 for JPY). */
function minorDigits(currency) {
  return new Intl.NumberFormat(undefined, { style: "currency", currency }).resolvedOptions()
    .maximumFractionDigits;
}

function money(minorUnits, currency = state.session?.currency ?? "USD") {
  const digits = minorDigits(currency);
  return new Intl.NumberFormat(undefined, { style: "currency", currency }).format(minorUnits / 10 ** digits);
}

/** The number typed in the viewer's locale ("12.50", "12,50", "1 234") as minor units, or NaN. */
function parseMoney(text, currency) {
  const decimal = new Intl.NumberFormat().formatToParts(1.5).find((p) => p.type === "decimal")?.value ?? ".";
  let plain = text.trim().replace(/[\s\u00a0\u202f']/g, "");
  if (decimal === ",") plain = plain.replace(/\./g, "").replace(",", ".");
  else plain = plain.replace(/,/g, "");
  if (!/^\d+(\.\d+)?$/.test(plain)) return Number.NaN;
  const digits = minorDigits(currency);
  const [whole = "0", fraction = ""] = plain.split(".");
  if (fraction.length > digits) return Number.NaN;
  return Number(whole) * 10 ** digits + Number(fraction.padEnd(digits, "0") || "0");
}

/** Minor units as the plain number a person types back ("12.50"), in the viewer's locale. */
function moneyInput(minorUnits, currency) {
  const digits = minorDigits(currency);
  return new Intl.NumberFormat(undefined, {
    minimumFractionDigits: digits,
    maximumFractionDigits: digits,
    useGrouping: false,
  }).format(minorUnits / 10 ** digits);
}

const dateTime = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "medium" });
const timeOnly = new Intl.DateTimeFormat(undefined, { timeStyle: "medium" });

/** "365 d 4 h 03 m 09 s", "4 h 03 m 09 s", "3 m 09 s", "9 s". */
function formatRemaining(ms) {
  const total = Math.max(0, Math.ceil(ms / 1000));
  const days = Math.floor(total / 86_400);
  const hours = Math.floor((total % 86_400) / 3600);
  const minutes = Math.floor((total % 3600) / 60);
  const seconds = total % 60;
  const two = (n) => String(n).padStart(2, "0");
  if (days > 0) return `${days} d ${hours} h ${two(minutes)} m ${two(seconds)} s`;
  if (hours > 0) return `${hours} h ${two(minutes)} m ${two(seconds)} s`;
  if (minutes > 0) return `${minutes} m ${two(seconds)} s`;
  return `${seconds} s`;
}

// --- errors next to their field ---------------------------------------------

function fieldError(id, message) {
  const box = $(id);
  box.textContent = message;
  box.hidden = message === "";
  const input = box.closest(".field")?.querySelector("input");
  if (input) input.setAttribute("aria-invalid", message === "" ? "false" : "true");
}

/** The problem document (RFC 9457) of a refused request, or a stand-in built from the status. */
async function problemOf(res) {
  try {
    const problem = await res.json();
    if (typeof problem.detail === "string") return problem;
  } catch {
    // Not JSON: fall back to the status.
  }
  return { code: "http_error", detail: `The server answered ${res.status} ${res.statusText}`.trim() };
}

/** What a refused bid means to a bidder, followed by the server's own detail. */
function bidProblemText(problem) {
  const session = state.session;
  const next = session ? nextAmount() : undefined;
  const words = {
    bid_below_minimum: session && `Bids start at ${money(session.minBid)}.`,
    bid_increment_too_small:
      next !== undefined && `That is not enough of a raise: bid ${money(next)} or more.`,
    session_ended: "This auction has closed: no more bids.",
    session_not_started: "This auction has not opened yet.",
    rate_limited: "Too many bids in a row: wait a few seconds and try again.",
    unauthorized: "Your sign-in was not accepted: sign in again.",
    forbidden: "This token cannot bid (admin tokens manage auctions, they do not bid).",
    user_not_found: "Your account was not found.",
    session_not_found: "This auction does not exist.",
    service_unavailable: "The auction is busy: try again in a moment.",
    database_unavailable: "The auction is busy: try again in a moment.",
  }[problem.code];
  return words ? `${words} (${problem.detail})` : problem.detail;
}

// --- sign in -------------------------------------------------------------

/** The token's claims, read without verifying: the server does that. Only for what the page shows. */
function tokenClaims(token) {
  try {
    const payload = token.split(".")[1] ?? "";
    return JSON.parse(atob(payload.replace(/-/g, "+").replace(/_/g, "/")));
  } catch {
    return {};
  }
}

async function renderSignIn() {
  const signedIn = state.token !== "";
  const claims = signedIn ? tokenClaims(state.token) : {};
  state.userId = typeof claims.sub === "string" ? Number(claims.sub) : undefined;
  state.role = claims.role;
  $("signout-button").hidden = !signedIn;
  $("bid-button").disabled = !signedIn;
  $("admin").hidden = state.role !== "admin";
  renderEnded();
  fieldError("token-error", "");
  if (!signedIn) {
    $("whoami").textContent = "Not signed in: you can watch, not bid.";
    return;
  }
  $("whoami").textContent = "Signing in…";
  let res;
  try {
    res = await fetch("/v1/me", { headers: { Authorization: `Bearer ${state.token}` } });
  } catch (error) {
    $("whoami").textContent = "";
    fieldError("token-error", `The server could not be reached (${error.message}).`);
    return;
  }
  if (res.ok) {
    const me = await res.json();
    state.userId = me.id;
    const role = state.role === "admin" ? " (admin)" : "";
    $("whoami").textContent = `Signed in as ${me.username}${role}.`;
    markOwnRows();
    return;
  }
  const problem = await problemOf(res);
  if (res.status === 401) {
    $("whoami").textContent = "Not signed in: you can watch, not bid.";
    fieldError("token-error", `This token was not accepted: check you pasted all of it. (${problem.detail})`);
    return;
  }
  // A valid token for nobody in the directory (an admin's, say): signed in all the same.
  $("whoami").textContent = `Signed in${state.role === "admin" ? " as an admin" : ""}.`;
}

function signIn(token) {
  state.token = token.trim().replace(/^Bearer\s+/i, "");
  if (state.token === "") sessionStorage.removeItem(TOKEN_KEY);
  else sessionStorage.setItem(TOKEN_KEY, state.token);
  renderSignIn();
  // The socket carries the token: reopen it so personal notices follow the new user.
  if (state.session) {
    state.bearerRefused = false;
    connectLive();
  }
}

// --- session list --------------------------------------------------------

async function loadSessions() {
  const list = $("session-list");
  const note = $("sessions-note");
  let res;
  try {
    res = await fetch("/v1/sessions?status=active&limit=20");
  } catch (error) {
    note.textContent = `Could not list auctions: ${error.message}`;
    return;
  }
  if (!res.ok) {
    note.textContent = `Could not list auctions: ${(await problemOf(res)).detail}`;
    return;
  }
  const { sessions } = await res.json();
  note.textContent = sessions.length === 0 ? "No auction is open right now." : "";
  list.replaceChildren(
    ...sessions.map((session) => {
      const item = document.createElement("li");
      const button = document.createElement("button");
      button.type = "button";
      button.className = "link";
      button.dataset.sessionId = session.id;
      const currency = session.currency ?? "USD";
      const highest =
        session.highestBid === null ? "no bids yet" : `highest ${money(session.highestBid, currency)}`;
      const bidders = `${session.bidders} ${session.bidders === 1 ? "bidder" : "bidders"}`;
      button.textContent = `${session.title} — ${bidders}, ${highest}, ends ${dateTime.format(Date.parse(session.endsAt))}`;
      button.addEventListener("click", () => openSession(session.id));
      item.append(button);
      return item;
    }),
  );
}

// --- one session ---------------------------------------------------------

function nextAmount() {
  const session = state.session;
  if (!session) return 0;
  return state.highest === null ? session.minBid : state.highest + session.minIncrement;
}

function suggestAmount() {
  const session = state.session;
  if (!session) return;
  const next = nextAmount();
  $("amount").value = moneyInput(next, session.currency ?? "USD");
  $("amount-hint").textContent = `Next valid bid: ${money(next)} or more.`;
}

async function openSession(id) {
  fieldError("session-id-error", "");
  if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(id)) {
    fieldError(
      "session-id-error",
      "That is not an auction id: it looks like 0b8f3c5e-2f7a-4c61-9d1e-6a1f0e5b9c42.",
    );
    return;
  }
  const started = Date.now();
  let res;
  try {
    res = await fetch(`/v1/sessions/${encodeURIComponent(id)}`);
  } catch (error) {
    fieldError("session-id-error", `The server could not be reached (${error.message}).`);
    return;
  }
  if (!res.ok) {
    const problem = await problemOf(res);
    const words = res.status === 404 ? "No auction has this id." : "This auction could not be opened.";
    fieldError("session-id-error", `${words} (${problem.detail})`);
    return;
  }
  const session = await res.json();
  session.currency = session.currency ?? "USD";
  // The answer was made somewhere between sending and receiving: take the midpoint.
  const midpoint = (started + Date.now()) / 2;
  const serverNow = Date.parse(session.serverTime ?? "") || midpoint;
  state.clockOffsetMs = serverNow - midpoint;
  state.endsAtMs =
    typeof session.endsInMs === "number" ? serverNow + session.endsInMs : Date.parse(session.endsAt);
  state.session = session;
  state.highest = session.highestBid;
  state.hasBid = false;
  state.ended = session.status === "ended";
  state.bearerRefused = false;
  if (location.hash !== `#${session.id}`) history.replaceState(null, "", `#${session.id}`);
  $("session-id").value = session.id;
  $("session").hidden = false;
  fieldError("end-error", "");
  fieldError("amount-error", "");
  $("notice").hidden = true;
  $("bid-result").textContent = "";
  offerReceipt(undefined);
  $("session-title").textContent = session.title;
  $("status").textContent = statusWords(session.status);
  $("rules").textContent = `${money(session.minBid)} / ${money(session.minIncrement)}`;
  $("soft-close").textContent = session.softClose
    ? `a bid in the last ${session.softClose.windowSeconds} s moves the end to ${session.softClose.extendSeconds} s after it`
    : "no extension";
  $("extensions").textContent = String(session.extensions ?? 0);
  $("ends-at").textContent = dateTime.format(state.endsAtMs);
  $("amount-label").textContent = `Your bid (${session.currency})`;
  suggestAmount();
  renderBoard({ entries: [], total: session.bidders });
  renderHead(session.headHash);
  renderEnded();
  tick();
  connectLive();
}

/** Once the auction has closed: no bid box, no end button. */
function renderEnded() {
  $("bid-form").hidden = state.ended;
  $("admin-actions").hidden = state.role !== "admin" || !state.session || state.ended;
}

function statusWords(status) {
  return { scheduled: "not open yet", active: "open for bids", ended: "closed" }[status] ?? status;
}

function renderBoard(board) {
  $("board-total").textContent = `(${board.total} ${board.total === 1 ? "bidder" : "bidders"})`;
  $("board")
    .querySelector("tbody")
    .replaceChildren(
      ...board.entries.map((entry) => {
        const row = document.createElement("tr");
        row.dataset.userId = String(entry.userId);
        const mine = entry.userId === state.userId;
        const name = entry.username ?? `bidder ${entry.userId}`;
        for (const text of [
          String(entry.rank),
          mine ? `${name} (you)` : name,
          money(entry.amount),
          timeOnly.format(Date.parse(entry.placedAt)),
        ]) {
          const cell = document.createElement("td");
          cell.textContent = text;
          row.append(cell);
        }
        if (mine) {
          row.classList.add("mine");
          state.hasBid = true;
        }
        return row;
      }),
    );
  const top = board.entries[0];
  if (top && (state.highest === null || top.amount !== state.highest)) {
    state.highest = top.amount;
    suggestAmount();
  }
}

/** The bid log's head (API.md v1.2): the link of the last accepted bid, as the history recomputes it. */
function renderHead(hash) {
  // An answer from a server without the bid log leaves the line as it was.
  if (hash === undefined) return;
  $("head-hash").textContent = hash ?? "none: this auction took bids before the bid log existed";
}

/** A link that saves the receipt as JSON, for `npm run verify -- --receipt FILE`; none for undefined. */
function offerReceipt(receipt) {
  if (state.receiptUrl) URL.revokeObjectURL(state.receiptUrl);
  state.receiptUrl = undefined;
  $("receipt").hidden = receipt === undefined;
  if (receipt === undefined) return;
  const json = JSON.stringify(receipt, null, 2);
  state.receiptUrl = URL.createObjectURL(new Blob([json], { type: "application/json" }));
  const link = document.createElement("a");
  link.href = state.receiptUrl;
  link.download = `receipt-${receipt.sessionId}-seq-${receipt.seq}.json`;
  link.textContent = "Save this bid's receipt";
  $("receipt").replaceChildren(link, " to check later that the bid log still holds your bid.");
}

function markOwnRows() {
  for (const row of $("board").querySelectorAll("tbody tr")) {
    const mine = Number(row.dataset.userId) === state.userId;
    row.classList.toggle("mine", mine);
    const cell = row.children[1];
    if (mine && cell && !cell.textContent.endsWith(" (you)")) cell.textContent += " (you)";
  }
}

function tick() {
  if (!state.session) return;
  const remaining = state.ended ? 0 : state.endsAtMs - (Date.now() + state.clockOffsetMs);
  $("countdown").textContent = remaining > 0 ? formatRemaining(remaining) : "closed";
}

function setLiveState(value, text) {
  const element = $("live-state");
  element.dataset.state = value;
  element.textContent = text;
}

function showNotice(message, kind) {
  const box = $("notice");
  box.textContent = message;
  box.dataset.kind = kind;
  box.hidden = false;
}

// --- /live ---------------------------------------------------------------

function connectLive() {
  closeLive();
  const session = state.session;
  if (!session) return;
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  const url = `${scheme}//${location.host}/v1/sessions/${session.id}/live`;
  const authenticated = state.token !== "" && !state.bearerRefused;
  // Browsers cannot set headers on a WebSocket: the token travels as a subprotocol (API.md, "Notifications").
  const socket = authenticated ? new WebSocket(url, ["bearer", `bearer.${state.token}`]) : new WebSocket(url);
  state.socket = socket;
  let opened = false;
  setLiveState("connecting", "connecting…");
  socket.addEventListener("open", () => {
    opened = true;
    state.reconnectDelayMs = RECONNECT_MIN_MS;
    setLiveState("open", authenticated ? "on, with your notices" : "on");
  });
  socket.addEventListener("message", (event) => {
    try {
      handleMessage(JSON.parse(event.data));
    } catch (error) {
      console.warn("live: unreadable message", error);
    }
  });
  socket.addEventListener("close", () => {
    if (state.socket !== socket) return;
    state.socket = undefined;
    if (!opened && authenticated) {
      // Refused before the upgrade (a bad token): watch anonymously.
      state.bearerRefused = true;
      showNotice("Your sign-in was refused for live notices: watching without them.", "info");
      connectLive();
      return;
    }
    if (state.ended) {
      setLiveState("closed", "off (the auction has closed)");
      return;
    }
    setLiveState("reconnecting", `reconnecting in ${(state.reconnectDelayMs / 1000).toFixed(1)} s`);
    state.reconnectTimer = setTimeout(connectLive, state.reconnectDelayMs);
    state.reconnectDelayMs = Math.min(state.reconnectDelayMs * 2, RECONNECT_MAX_MS);
  });
}

function closeLive() {
  clearTimeout(state.reconnectTimer);
  const socket = state.socket;
  state.socket = undefined;
  socket?.close();
}

function handleMessage(message) {
  switch (message.type) {
    case "leaderboard":
      renderBoard(message);
      renderHead(message.headHash);
      return;
    case "extended": {
      state.clockOffsetMs = Date.parse(message.serverTime) - Date.now();
      const before = state.endsAtMs;
      state.endsAtMs = Date.parse(message.endsAt);
      $("ends-at").textContent = dateTime.format(state.endsAtMs);
      $("extensions").textContent = String(message.extensions);
      showNotice(
        `A late bid extended the auction: it now ends ${timeOnly.format(state.endsAtMs)} instead of ${timeOnly.format(before)}.`,
        "info",
      );
      tick();
      return;
    }
    case "outbid":
      // The next valid amount follows under the bid box once the new board arrives.
      showNotice(`You were outbid: your ${money(message.amount)} is now number ${message.rank}.`, "outbid");
      return;
    case "won":
      showNotice(`You won with ${money(message.amount)}.`, "won");
      return;
    case "lost":
      if (state.hasBid) showNotice("The auction closed and your bid did not win.", "lost");
      return;
    case "result": {
      const winners = message.winners.map(
        (w) => `${w.username ?? `bidder ${w.userId}`} (${money(w.amount)})`,
      );
      $("bid-result").textContent =
        `Result: ${winners.length > 0 ? `won by ${winners.join(", ")}` : "no winner"}.`;
      return;
    }
    case "status":
      $("status").textContent = statusWords(message.status);
      if (message.status === "ended") {
        state.ended = true;
        renderEnded();
        tick();
      }
      return;
    default:
      // Messages this page does not know yet are ignored, as the contract allows new ones.
      return;
  }
}

// --- bids ----------------------------------------------------------------

async function placeBid(amount) {
  const session = state.session;
  if (!session) return;
  fieldError("amount-error", "");
  $("bid-result").textContent = "Placing your bid…";
  offerReceipt(undefined);
  let res;
  try {
    res = await fetch(`/v1/sessions/${session.id}/bids`, {
      method: "POST",
      headers: {
        Authorization: `Bearer ${state.token}`,
        "Content-Type": "application/json",
        // One key per click: a retry of this very request could be replayed, a new click is a new bid.
        "Idempotency-Key": crypto.randomUUID(),
      },
      body: JSON.stringify({ amount }),
    });
  } catch (error) {
    $("bid-result").textContent = "";
    fieldError("amount-error", `Your bid did not reach the server (${error.message}): try again.`);
    return;
  }
  if (res.status !== 201) {
    $("bid-result").textContent = "";
    fieldError("amount-error", bidProblemText(await problemOf(res)));
    return;
  }
  const receipt = await res.json();
  state.hasBid = true;
  const standing = receipt.rank === 1 ? "you lead" : `you are number ${receipt.rank}`;
  $("bid-result").textContent = `Your bid of ${money(receipt.amount)} is in: ${standing}.`;
  offerReceipt(receipt);
  if (state.highest === null || receipt.amount > state.highest) state.highest = receipt.amount;
  suggestAmount();
}

// --- admin: start and end auctions -------------------------------------

const createFields = {
  title: "new-title-error",
  endsAt: "new-ends-at-error",
  currency: "new-currency-error",
  minBid: "new-min-bid-error",
  minIncrement: "new-min-increment-error",
};

async function adminCall(method, path, body) {
  return fetch(path, {
    method,
    headers: { Authorization: `Bearer ${state.token}`, "Content-Type": "application/json" },
    body: JSON.stringify(body),
  });
}

async function createSession() {
  for (const id of [...Object.values(createFields), "create-error"]) fieldError(id, "");
  const currency = $("new-currency").value.trim().toUpperCase();
  const endsAt = Date.parse($("new-ends-at").value);
  const errors = {};
  if ($("new-title").value.trim() === "") errors.title = "Give the auction a title.";
  if (Number.isNaN(endsAt)) errors.endsAt = "Pick the date and time it ends.";
  else if (endsAt <= Date.now()) errors.endsAt = "The end must be in the future.";
  let minBid = Number.NaN;
  let minIncrement = Number.NaN;
  if (!/^[A-Z]{3}$/.test(currency)) errors.currency = "Three capital letters, such as USD or EUR.";
  else {
    minBid = parseMoney($("new-min-bid").value, currency);
    minIncrement = parseMoney($("new-min-increment").value, currency);
    if (!(minBid >= 1)) errors.minBid = `An amount in ${currency}, such as ${moneyInput(1000, currency)}.`;
    if (!(minIncrement >= 1))
      errors.minIncrement = `An amount in ${currency}, such as ${moneyInput(100, currency)}.`;
  }
  for (const [field, message] of Object.entries(errors)) fieldError(createFields[field], message);
  if (Object.keys(errors).length > 0) return;
  const res = await adminCall("POST", "/v1/sessions", {
    title: $("new-title").value.trim(),
    startsAt: new Date(Date.now() + state.clockOffsetMs).toISOString(),
    endsAt: new Date(endsAt).toISOString(),
    minBid,
    minIncrement,
    currency,
  });
  if (res.status !== 201) {
    const problem = await problemOf(res);
    // "field: message" names the field the server refused; show it there.
    const field = Object.keys(createFields).find((name) => problem.detail.startsWith(`${name}:`));
    fieldError(field ? createFields[field] : "create-error", problem.detail);
    return;
  }
  const session = await res.json();
  $("new-title").value = "";
  await loadSessions();
  await openSession(session.id);
}

async function endSessionNow() {
  const session = state.session;
  if (!session) return;
  fieldError("end-error", "");
  const res = await adminCall("PATCH", `/v1/sessions/${session.id}`, {
    endsAt: new Date(Date.now() + state.clockOffsetMs).toISOString(),
  });
  if (!res.ok) {
    fieldError("end-error", `The auction could not be ended. (${(await problemOf(res)).detail})`);
    return;
  }
  const updated = await res.json();
  state.ended = updated.status === "ended";
  state.endsAtMs = Date.parse(updated.endsAt);
  renderEnded();
  $("status").textContent = statusWords(updated.status);
  $("ends-at").textContent = dateTime.format(state.endsAtMs);
  tick();
  loadSessions();
}

// --- wiring --------------------------------------------------------------

$("signin-form").addEventListener("submit", (event) => {
  event.preventDefault();
  signIn($("token").value);
});
$("signout-button").addEventListener("click", () => {
  $("token").value = "";
  signIn("");
});
$("open-form").addEventListener("submit", (event) => {
  event.preventDefault();
  openSession($("session-id").value.trim());
});
$("bid-form").addEventListener("submit", (event) => {
  event.preventDefault();
  const session = state.session;
  if (!session) return;
  const amount = parseMoney($("amount").value, session.currency);
  if (!Number.isSafeInteger(amount) || amount < 1) {
    fieldError(
      "amount-error",
      `Type an amount in ${session.currency}, such as ${moneyInput(nextAmount(), session.currency)}.`,
    );
    return;
  }
  placeBid(amount);
});
$("create-form").addEventListener("submit", (event) => {
  event.preventDefault();
  createSession();
});
$("end-button").addEventListener("click", endSessionNow);
window.addEventListener("hashchange", () => {
  const id = decodeURIComponent(location.hash.slice(1));
  if (id !== "" && id !== state.session?.id) openSession(id);
});

const weekAhead = new Date(Date.now() + 7 * 24 * 3600_000);
weekAhead.setMinutes(weekAhead.getMinutes() - weekAhead.getTimezoneOffset());
$("new-ends-at").value = weekAhead.toISOString().slice(0, 16);
$("token").value = state.token;
renderSignIn();
setInterval(tick, TICK_MS);
loadSessions();
setInterval(loadSessions, LIST_REFRESH_MS);
if (location.hash.length > 1) openSession(decodeURIComponent(location.hash.slice(1)));
