// The tickets page: one customer, one purchase. Commands go to the services'
// HTTP APIs; what happens comes back as CloudEvents that Eddy pushes over a
// WebSocket, filtered to this session (every event with the extension
// sessionid=<this session>). The page's state follows the events only.
"use strict";

const $ = (id) => document.getElementById(id);
const state = { session: "", gaveUp: false, ws: null, connected: null, reservation: null, step: "", exited: false, pollQueue: 0, lastEventId: "", from: "", payBy: 0, payingStage: 0, deployed: "", model: "", models: {} };

// A reload keeps the purchase: the tab's sessionStorage holds the session
// and where its stream started (the positions the first stream was told),
// and the reloaded page resumes the stream from there, so that the
// session's events, pushed again, bring the page back to where it was.
const saved = "tickets.session";

function newSession() {
  const b = new Uint8Array(12);
  crypto.getRandomValues(b);
  return "s-" + Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
}

// show displays one step; body[data-step] lets a test see where the page is.
function show(step) {
  state.step = step;
  document.body.dataset.step = step;
  for (const s of document.querySelectorAll(".step")) s.hidden = s.id !== "step-" + step;
  clearInterval(state.pollQueue);
  if (step === "queue") state.pollQueue = setInterval(pollPosition, 1000);
}

// The steps in the order a purchase goes through them. Events move the
// page forward only: a reloaded page gets its session's events again
// partition by partition, not in the order they happened, and an older
// one must not take it back (to "paying" after "done", say).
const rank = { start: 0, queue: 1, choose: 2, pay: 3, paying: 4, done: 5, over: 5 };

function advance(step) {
  if (rank[step] > (rank[state.step] ?? -1)) show(step);
}

// payingText says how far the payment got, never going back (see rank).
function payingText(stage, text) {
  if (stage <= state.payingStage) return;
  state.payingStage = stage;
  $("paying").textContent = text;
}

function fail(msg) {
  $("error").textContent = msg;
  $("error").hidden = !msg;
}

async function call(method, path, body) {
  const resp = await fetch(path, {
    method,
    headers: body ? { "Content-Type": "application/json" } : {},
    body: body ? JSON.stringify(body) : undefined,
  });
  const out = await resp.json().catch(() => ({}));
  if (!resp.ok) throw new Error(out.error || resp.status + " " + resp.statusText);
  return out;
}

// connect subscribes to this session's events; the promise settles once
// the subscription is live, so that no event of ours is missed.
// A reconnection resumes after the last event received (its eddyeventid),
// or after the positions the stream last told (the eddy.positions
// subprotocol: messages with an eddyeventid and no event), so that
// nothing sent while the page was offline is missed, even before the
// first event of the session.
function connect() {
  const session = state.session;
  const proto = location.protocol === "https:" ? "wss:" : "ws:";
  let url = `${proto}//${location.host}/v1/events/ws?sessionid=${encodeURIComponent(session)}`;
  if (state.lastEventId) url += `&lastEventId=${encodeURIComponent(state.lastEventId)}`;
  const ws = new WebSocket(url, "eddy.positions");
  state.ws = ws;
  let opened = false;
  state.connected = new Promise((resolve) => {
    ws.onopen = () => {
      opened = true;
      $("link").textContent = "live";
      $("link").className = "good";
      resolve();
    };
  });
  ws.onmessage = (m) => {
    const ev = JSON.parse(m.data);
    if (state.session !== session) return;
    if (ev.eddyeventid) state.lastEventId = ev.eddyeventid;
    if (!state.from && ev.eddyeventid) {
      state.from = ev.eddyeventid;
      sessionStorage.setItem(saved, JSON.stringify({ session, from: state.from }));
    }
    if (ev.specversion) onEvent(ev);
  };
  ws.onclose = async () => {
    if (state.ws !== ws) return; // a socket of an earlier purchase
    $("link").textContent = "offline";
    $("link").className = "bad";
    if (state.session !== session) return;
    // A stream that would not open may be one Eddy cannot resume: its
    // positions are of a log it no longer has (it started afresh). The
    // session went with that log, and a new one starts.
    if (!opened && state.lastEventId && !(await resumable(session, state.lastEventId))) {
      if (state.session === session) start();
      return;
    }
    setTimeout(() => state.session === session && connect(), 1000);
  };
}

// resumable asks Eddy, over its SSE stream, whether it can resume from id:
// a stream it cannot resume is refused with a 400 before it opens.
async function resumable(session, id) {
  const ctl = new AbortController();
  try {
    const resp = await fetch(`/v1/events/stream?sessionid=${encodeURIComponent(session)}&lastEventId=${encodeURIComponent(id)}`, { signal: ctl.signal });
    return resp.status !== 400;
  } catch (e) {
    return true; // Eddy is away for now: try again
  } finally {
    ctl.abort();
  }
}

function logEvent(ev) {
  const tr = document.createElement("tr");
  const time = (ev.time || "").replace(/^.*T/, "").replace(/\..*$/, "");
  for (const [text, cls] of [[time], [ev.type], [ev.source], [JSON.stringify(ev.data ?? null), "data"]]) {
    const td = document.createElement("td");
    td.textContent = text;
    if (cls) td.className = cls;
    tr.appendChild(td);
  }
  $("events").tBodies[0].prepend(tr);
}

function notify(text, at) {
  const li = document.createElement("li");
  li.textContent = new Date(at || Date.now()).toLocaleTimeString() + " · " + text;
  $("notifications").prepend(li);
}

function over(title, text) {
  if (rank[state.step] >= rank.over) return;
  $("over-title").textContent = title;
  $("over-text").textContent = text;
  show("over");
}

function done(r) {
  const list = (r.tickets || []).join(", ");
  if (rank[state.step] >= rank.done) return;
  $("tickets").textContent = `${r.ticketsQuantity} × ${r.ticketsType}` + (list ? ` — tickets ${list}` : "") + ` (reservation ${r.reservationId})`;
  show("done");
}

function onEvent(ev) {
  logEvent(ev);
  const d = ev.data || {};
  switch (ev.type) {
    case "Queue.CustomerJoined":
      // Also the answer to the join request; after a reload, the only news.
      // It says the model the purchase runs under.
      setModel(d.model);
      advance(state.exited ? "choose" : "queue");
      break;
    case "Queue.CustomerExited":
      // It may come before the answer to the join request does.
      setModel(d.model);
      state.exited = true;
      if (state.step === "queue") advance("choose");
      break;
    case "Queue.CustomerAbandoned":
      // Given up in the queue, or later, with tickets reserved.
      state.gaveUp = true;
      over("You left", rank[state.step] >= rank.pay ? "You gave up the purchase: your tickets are released." : "You left the queue.");
      break;
    case "Tickets.Reserved":
      showReservation(d, Date.parse(ev.time) || Date.now());
      break;
    case "Tickets.ReservationRejected":
      fail("No reservation: " + d.reason);
      break;
    case "Tickets.PaymentRequested":
    case "Tickets.MoneyTransferRequested":
      advance("paying");
      break;
    case "Payments.RequestReceived":
      payingText(1, "The payment provider received the payment request…");
      break;
    case "Payments.Authorized":
    case "MoneyTransfer.Accepted":
      payingText(2, "The payment provider authorized the payment…");
      break;
    case "Tickets.PaymentsAuthorized":
      payingText(3, "Payment authorized; issuing your tickets…");
      break;
    case "Tickets.Emitted":
      done(d);
      break;
    case "Tickets.Released":
      if (state.step !== "done") over("Reservation released", d.reason || "");
      break;
    case "Notifications.Requested":
      // A customer who gave up takes no more reminders to pay: the
      // models without an abandon path (v2, v4) go on sending them until
      // their timer ends.
      if (state.gaveUp && (d.kind === "payment-reminder" || d.kind === "reservation-timed-out")) break;
      notify(d.message, Date.parse(ev.time));
      if (d.kind === "tickets-emitted" && state.reservation) done(state.reservation);
      if (d.kind === "reservation-timed-out" && state.step !== "done") over("Too late", d.message);
      if (d.kind === "session-closed" && state.step !== "done") over("Session closed", d.message);
      break;
  }
}

// terms are the purchase's model's: from what order size it is paid by
// transfer, and how long the model waits for the payment. A customer who
// joined before another model was deployed buys under that earlier one.
function terms() {
  return state.models[state.model] || state.models[state.deployed] || { transferFrom: 0, paymentWindowMs: 0 };
}

// setModel says which model the purchase runs under (a queue status's or
// a reservation's; none keeps the one known).
function setModel(m) {
  if (m) state.model = m;
  const t = terms();
  $("model").textContent = state.model === state.deployed ? state.deployed : `${state.deployed} (your purchase: ${state.model})`;
  $("transfer-note").textContent = `Orders of ${t.transferFrom} tickets or more are paid by bank transfer.`;
  $("quantity").oninput();
}

// showReservation shows a reservation and until when it is held: the
// tickets service's hold, or sooner the model's payment timeout (v2-v4),
// which runs from about when the reservation was made (at, ms). The timeout
// is on the card payment's path ("Payment Sent"): v4's orders paid by
// transfer wait on "Money Transfer Accepted", which has none.
function showReservation(r, at) {
  setModel(r.model);
  if (!state.reservation || state.reservation.reservationId !== r.reservationId) {
    const ms = r.paymentMethod === "transfer" ? 0 : terms().paymentWindowMs;
    state.payBy = ms ? at + ms : 0;
  }
  state.reservation = r;
  const how = r.paymentMethod === "transfer" ? "by bank transfer" : "by card";
  const until = Math.min(new Date(r.expiresAt).getTime(), state.payBy || Infinity);
  $("reservation").textContent = `${r.ticketsQuantity} × ${r.ticketsType} for ${r.amount} €, held until ${new Date(until).toLocaleTimeString()}; pay ${how}.`;
  if (state.step === "choose") show("pay");
}

async function pollPosition() {
  try {
    const st = await call("GET", "/queue/customers/" + state.session);
    setModel(st.model);
    if (st.state === "waiting") $("position").textContent = st.position === 0 ? "You are next." : `${st.position} customers ahead of you.`;
  } catch (e) {
    /* the next poll tries again */
  }
}

async function pollStock() {
  try {
    const s = await call("GET", "/tickets/stock");
    $("stock").textContent = `${s.available} of ${s.stock} tickets left`;
    const sel = $("type");
    if (!sel.options.length) {
      for (const [t, p] of Object.entries(s.prices)) sel.add(new Option(`${t} (${p} €)`, t));
    }
  } catch (e) {
    $("stock").textContent = "";
  }
}

async function act(fn) {
  fail("");
  try {
    await fn();
  } catch (e) {
    fail(e.message);
  }
}

// start begins a new session, or, given one saved before a reload, takes
// it up again from where its stream started.
function start(resumed) {
  if (state.ws) {
    state.session = "";
    state.ws.close();
  }
  state.session = resumed ? resumed.session : newSession();
  // A new session's stream starts from now.
  state.lastEventId = state.from = resumed ? resumed.from : "";
  if (!resumed) sessionStorage.removeItem(saved);
  state.reservation = null;
  if (state.deployed) setModel(state.deployed); // a new session joins under the model deployed
  state.exited = state.gaveUp = false;
  state.payingStage = 0;
  $("paying").textContent = "Waiting for the payment provider…";
  $("session").textContent = state.session;
  $("events").tBodies[0].replaceChildren();
  $("notifications").replaceChildren();
  fail("");
  connect();
  show("start");
}

async function abandon() {
  await call("POST", "/queue/abandon", { sessionId: state.session });
}

$("join").onclick = () => act(async () => {
  await state.connected;
  const st = await call("POST", "/queue/join", { sessionId: state.session });
  setModel(st.model);
  if (st.state === "waiting") {
    $("position").textContent = `${st.position} customers ahead of you.`;
    advance(state.exited ? "choose" : "queue");
  }
});
$("abandon").onclick = $("abandon2").onclick = $("abandon3").onclick = () => act(abandon);
$("reserve-form").onsubmit = (e) => {
  e.preventDefault();
  act(async () => {
    const r = await call("POST", "/tickets/reservations", {
      sessionId: state.session,
      ticketsQuantity: Number($("quantity").value),
      ticketsType: $("type").value,
    });
    showReservation(r, Date.now());
  });
};
$("quantity").oninput = () => {
  const n = Number($("quantity").value);
  const from = terms().transferFrom;
  $("transfer-note").hidden = !(from && n >= from);
};
$("pay").onclick = () => act(async () => {
  await call("POST", `/tickets/reservations/${state.reservation.reservationId}/payment`, { sessionId: state.session });
  if (state.step === "pay") show("paying");
});
$("restart").onclick = () => start();

(async () => {
  const cfg = await call("GET", "/config.json");
  state.deployed = state.model = cfg.model;
  state.models = cfg.models || {};
  setModel();
  pollStock();
  setInterval(pollStock, 2000);
  let resumed = null;
  try {
    resumed = JSON.parse(sessionStorage.getItem(saved) || "null");
  } catch (e) {
    /* a new session, then */
  }
  start(resumed && resumed.session && resumed.from ? resumed : null);
})();
