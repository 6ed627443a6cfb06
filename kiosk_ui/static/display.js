/* The customer display: one EventSource to /display/<till>/events; every "show" event is the whole
   picture (idle, quote or code), so a reconnect needs no history. The stream pings every heartbeat:
   silence for three of them, or a stream the browser gave up on (an error status), is reopened here. */
(function () {
  "use strict";
  var body = document.body, cfg = body.dataset;
  var heartbeat = parseFloat(cfg.heartbeat || "15") * 1000;
  var es = null, lastSeen = 0, idleTimer = null, retryTimer = null, opened = 0, shownState = "idle";
  function $(id) { return document.getElementById(id); }

  function screen(name) {
    ["idle", "quote", "code"].forEach(function (s) { $(s).hidden = s !== name; });
    body.setAttribute("data-state", name);
  }

  function idle() {
    var after = shownState;
    shownState = "idle"; screen("idle");
    /* the next customer gets the shop's language again */
    if (after !== "idle" && cfg.lang !== cfg.shopLang && cfg.home) { window.location.replace(cfg.home); }
  }

  function show(d) {
    clearTimeout(idleTimer);
    body.setAttribute("data-seq", String(d.seq || 0));
    if (d.state === "quote") {
      $("quote-hello").textContent = d.hello || ""; $("quote-headline").textContent = d.headline || "";
    } else if (d.state === "code") {
      $("code-hello").textContent = d.hello || ""; $("code-text").textContent = d.code || "";
      $("code-qr").innerHTML = d.qr || "";  /* our own server's SVG, made by the qrcode library */
    } else { idle(); return; }
    shownState = d.state; screen(d.state);
    if (d.seconds) { idleTimer = setTimeout(idle, d.seconds * 1000); }
  }

  function link(state) { $("link").setAttribute("data-link", state); body.setAttribute("data-link", state); }

  function connect() {
    clearTimeout(retryTimer);
    if (es) { es.close(); }
    es = new EventSource(cfg.events);
    lastSeen = Date.now();
    es.addEventListener("open", function () {
      opened += 1; body.setAttribute("data-opened", String(opened)); link("up"); lastSeen = Date.now();
    });
    es.addEventListener("show", function (e) { lastSeen = Date.now(); show(JSON.parse(e.data)); });
    es.addEventListener("ping", function () { lastSeen = Date.now(); });
    es.addEventListener("error", function () {
      link("down");
      if (es.readyState === EventSource.CLOSED) { retryTimer = setTimeout(connect, 3000); }  /* e.g. a 503 */
    });
  }

  setInterval(function () {  /* a stream that went silent (a dead Wi-Fi link) is reopened */
    if (Date.now() - lastSeen > 3 * heartbeat) { link("down"); connect(); }
  }, 1000);
  connect();
  body.setAttribute("data-display-ready", "1");
})();
