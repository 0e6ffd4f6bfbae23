// The live page at /: lists active sessions, opens one, watches its board over
// /v1/sessions/{id}/live, counts down with the server's clock, and places bids
// with a Bearer token. Plain browser JavaScript served as a static asset: it
// only ever talks to the API on its own origin.

const TOKEN_KEY = "bidding.token";
const RECONNECT_MIN_MS = 500;
const RECONNECT_MAX_MS = 10_000;
const TICK_MS = 100;

const $ = (id) => {
  const element = document.getElementById(id);
  if (!element) throw new Error(`#${id} is missing from the page`);
  return element;
};

const state = {
  token: sessionStorage.getItem(TOKEN_KEY) ?? "",
  userId: undefined,
  session: undefined,
  /** serverTime − Date.now(), from the last answer or message that carried the server's clock. */
  clockOffsetMs: 0,
  endsAtMs: 0,
  ended: false,
  socket: undefined,
  /** The authenticated upgrade failed for this session: watch anonymously instead. */
  bearerRefused: false,
  reconnectDelayMs: RECONNECT_MIN_MS,
  reconnectTimer: undefined,
};

function showError(message) {
  const box = $("error");
  box.textContent = message;
  box.hidden = message === "";
}

function showNotice(message, kind) {
  const box = $("notice");
  box.textContent = message;
  box.dataset.kind = kind;
  box.hidden = false;
}

/** The problem document's `detail` (RFC 9457), else its title, else the status line. */
async function problemMessage(res) {
  try {
    const problem = await res.json();
    const text = problem.detail ?? problem.title;
    if (typeof text === "string") return problem.code ? `${text} (${problem.code})` : text;
  } catch {
    // Not JSON: fall back to the status.
  }
  return `${res.status} ${res.statusText}`.trim();
}

function utcTime(ms) {
  return new Date(ms).toISOString().slice(11, 23);
}

function formatRemaining(ms) {
  if (ms <= 0) return "0:00.0";
  const tenths = Math.floor(ms / 100);
  const hours = Math.floor(tenths / 36_000);
  const minutes = Math.floor((tenths % 36_000) / 600);
  const seconds = Math.floor((tenths % 600) / 10);
  const mmss = `${hours > 0 ? `${hours}:${String(minutes).padStart(2, "0")}` : minutes}:${String(seconds).padStart(2, "0")}`;
  return `${mmss}.${tenths % 10}`;
}

/** The user id a token names (its `sub`), read without verifying: the server does that. */
function tokenSubject(token) {
  try {
    const payload = token.split(".")[1] ?? "";
    const json = JSON.parse(atob(payload.replace(/-/g, "+").replace(/_/g, "/")));
    return typeof json.sub === "string" ? Number(json.sub) : undefined;
  } catch {
    return undefined;
  }
}

function newIdempotencyKey() {
  if (typeof crypto.randomUUID === "function") return crypto.randomUUID();
  return Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => b.toString(16).padStart(2, "0")).join(
    "",
  );
}

// --- sign in -------------------------------------------------------------

function renderSignIn() {
  const signedIn = state.token !== "";
  state.userId = signedIn ? tokenSubject(state.token) : undefined;
  $("whoami").textContent = signedIn
    ? `Signed in as user ${state.userId ?? "?"}.`
    : "Not signed in: you can watch, not bid.";
  $("signout-button").hidden = !signedIn;
  $("bid-button").disabled = !signedIn;
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
    note.textContent = `Could not list sessions: ${error.message}`;
    return;
  }
  if (res.status === 404) {
    list.replaceChildren();
    note.textContent = "This server cannot list sessions yet: open one by its id.";
    return;
  }
  if (!res.ok) {
    note.textContent = `Could not list sessions: ${await problemMessage(res)}`;
    return;
  }
  const { sessions } = await res.json();
  note.textContent = sessions.length === 0 ? "No active session right now." : "";
  list.replaceChildren(
    ...sessions.map((session) => {
      const item = document.createElement("li");
      const button = document.createElement("button");
      button.type = "button";
      button.dataset.sessionId = session.id;
      const highest = session.highestBid === null ? "no bids" : `highest ${session.highestBid}`;
      button.textContent = `${session.title} — ${session.bidders} bidders, ${highest}`;
      button.addEventListener("click", () => openSession(session.id));
      item.append(button);
      return item;
    }),
  );
}

// --- one session ---------------------------------------------------------

async function openSession(id) {
  showError("");
  const started = Date.now();
  let res;
  try {
    res = await fetch(`/v1/sessions/${encodeURIComponent(id)}`);
  } catch (error) {
    showError(`Could not load the session: ${error.message}`);
    return;
  }
  if (!res.ok) {
    showError(await problemMessage(res));
    return;
  }
  const session = await res.json();
  // The answer was made somewhere between sending and receiving: take the midpoint.
  const midpoint = (started + Date.now()) / 2;
  const serverNow = Date.parse(session.serverTime ?? "") || midpoint;
  state.clockOffsetMs = serverNow - midpoint;
  state.endsAtMs =
    typeof session.endsInMs === "number" ? serverNow + session.endsInMs : Date.parse(session.endsAt);
  state.session = session;
  state.ended = session.status === "ended";
  state.bearerRefused = false;
  if (location.hash !== `#${session.id}`) history.replaceState(null, "", `#${session.id}`);
  $("session-id").value = session.id;
  $("session").hidden = false;
  $("notice").hidden = true;
  $("bid-result").textContent = "";
  $("session-title").textContent = session.title;
  $("status").textContent = session.status;
  $("rules").textContent = `${session.minBid} / ${session.minIncrement}`;
  $("soft-close").textContent = session.softClose
    ? `bids in the last ${session.softClose.windowSeconds} s extend it to ${session.softClose.extendSeconds} s from the bid`
    : "none";
  $("extensions").textContent = String(session.extensions ?? 0);
  $("ends-at").textContent = utcTime(state.endsAtMs);
  $("amount").value = String(
    session.highestBid === null ? session.minBid : session.highestBid + session.minIncrement,
  );
  renderBoard({ entries: [], total: session.bidders });
  tick();
  connectLive();
}

function renderBoard(board) {
  $("board-total").textContent = `(${board.total} bidders)`;
  $("board")
    .querySelector("tbody")
    .replaceChildren(
      ...board.entries.map((entry) => {
        const row = document.createElement("tr");
        row.dataset.userId = String(entry.userId);
        if (entry.userId === state.userId) row.classList.add("mine");
        for (const text of [
          String(entry.rank),
          entry.username ?? `user ${entry.userId}`,
          String(entry.amount),
          utcTime(Date.parse(entry.placedAt)),
        ]) {
          const cell = document.createElement("td");
          cell.textContent = text;
          row.append(cell);
        }
        return row;
      }),
    );
}

function tick() {
  if (!state.session) return;
  const remaining = state.ended ? 0 : state.endsAtMs - (Date.now() + state.clockOffsetMs);
  $("countdown").textContent = remaining > 0 ? formatRemaining(remaining) : "ended";
}

function setLiveState(value, text) {
  const element = $("live-state");
  element.dataset.state = value;
  element.textContent = text;
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
    setLiveState("open", authenticated ? "connected (signed in)" : "connected");
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
      // Refused before the upgrade (a bad token, or a server without signed-in sockets): watch anonymously.
      state.bearerRefused = true;
      showNotice("The signed-in live socket was refused: watching without personal notices.", "info");
      connectLive();
      return;
    }
    if (state.ended) {
      setLiveState("closed", "closed (session ended)");
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
      return;
    case "extended": {
      state.clockOffsetMs = Date.parse(message.serverTime) - Date.now();
      const before = state.endsAtMs;
      state.endsAtMs = Date.parse(message.endsAt);
      $("ends-at").textContent = utcTime(state.endsAtMs);
      $("extensions").textContent = String(message.extensions);
      showNotice(
        `Extended: the end moved from ${utcTime(before)} to ${utcTime(state.endsAtMs)} UTC.`,
        "info",
      );
      tick();
      return;
    }
    case "outbid":
      showNotice(`You were outbid: your bid of ${message.amount} is now rank ${message.rank}.`, "outbid");
      return;
    case "won":
      showNotice(`You won, rank ${message.rank}, with ${message.amount}.`, "won");
      return;
    case "lost":
      showNotice("The session ended and your bid did not win.", "lost");
      return;
    case "result": {
      const winners = message.winners.map(
        (w) => `#${w.rank} ${w.username ?? `user ${w.userId}`} (${w.amount})`,
      );
      $("bid-result").textContent = `Results: ${winners.length > 0 ? winners.join(", ") : "no winner"}.`;
      return;
    }
    case "status":
      $("status").textContent = message.status;
      if (message.status === "ended") {
        state.ended = true;
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
  showError("");
  $("bid-result").textContent = "placing…";
  let res;
  try {
    res = await fetch(`/v1/sessions/${session.id}/bids`, {
      method: "POST",
      headers: {
        Authorization: `Bearer ${state.token}`,
        "Content-Type": "application/json",
        // One key per click: a retry of this very request could be replayed, a new click is a new bid.
        "Idempotency-Key": newIdempotencyKey(),
      },
      body: JSON.stringify({ amount }),
    });
  } catch (error) {
    $("bid-result").textContent = "";
    showError(`The bid did not reach the server: ${error.message}`);
    return;
  }
  if (res.status !== 201) {
    $("bid-result").textContent = "";
    showError(await problemMessage(res));
    return;
  }
  const receipt = await res.json();
  $("bid-result").textContent = `Bid of ${receipt.amount} placed: rank ${receipt.rank} (#${receipt.seq}).`;
  $("amount").value = String(receipt.amount + session.minIncrement);
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
  const id = $("session-id").value.trim();
  if (id !== "") openSession(id);
});
$("refresh-sessions").addEventListener("click", loadSessions);
$("bid-form").addEventListener("submit", (event) => {
  event.preventDefault();
  const amount = Number($("amount").value);
  if (!Number.isSafeInteger(amount) || amount < 1) {
    showError("The amount is a whole number of minor units, 1 or more.");
    return;
  }
  placeBid(amount);
});

$("token").value = state.token;
renderSignIn();
setInterval(tick, TICK_MS);
loadSessions();
if (location.hash.length > 1) openSession(decodeURIComponent(location.hash.slice(1)));
