/* Till page: wedge scans into one always-focused input, answers from the JSON API (session +
   X-CSRFToken), confirm with an Idempotency-Key, manager override, referral cards, status,
   practice mode (demo codes answered by /till/practice/quote: nothing is sent to the real API),
   the after-sale "give this customer a referral card?" prompt and the staff guide.
   No dependencies, no external assets: the till works with no internet. */
(function () {
  "use strict";
  var $ = function (id) { return document.getElementById(id); };

  /* PIN keypad on the sign-in page (touch). */
  Array.prototype.forEach.call(document.querySelectorAll(".keypad"), function (pad) {
    var target = $(pad.getAttribute("data-target"));
    pad.addEventListener("click", function (e) {
      var key = e.target.getAttribute && e.target.getAttribute("data-key");
      if (!key || key === "OK") { return; }
      if (key === "⌫") { target.value = target.value.slice(0, -1); } else if (target.value.length < 8) { target.value += key; }
      target.focus();
    });
  });

  /* Sign-in: a tap on a name of someone who signed in at this till recently fills the name field. */
  Array.prototype.forEach.call(document.querySelectorAll(".name-choices"), function (box) {
    var target = $(box.getAttribute("data-target"));
    box.addEventListener("click", function (e) {
      var name = e.target.getAttribute && e.target.getAttribute("data-name");
      if (!name) { return; }
      target.value = name;
      ($("pin") || target).focus();
    });
  });

  var cfgEl = $("till-config");
  if (!cfgEl) { return; }
  var cfg = JSON.parse(cfgEl.textContent), T = JSON.parse($("till-i18n").textContent);
  var csrf = document.querySelector('meta[name="csrf-token"]').getAttribute("content");
  var codeEl = $("code"), basketEl = $("basket"), customerEl = $("customer"), nameEl = $("first-name"),
      saleEl = $("sale"), answer = $("answer"), big = $("answer-big"), small = $("answer-small"),
      confirmBtn = $("confirm"), overrideBtn = $("override"), result = $("result"), dialog = $("override-dialog"),
      sayEl = $("answer-say"), offerDialog = $("offer-dialog"), practiceBtn = $("practice-toggle"),
      inviteHint = $("invite-hint");
  var PRINTER_LOOK = { ready: "good", paper_low: "low", paper_out: "bad", cover_open: "bad", offline: "bad" };
  var NOT_OVERRIDABLE = ["unknown_code", "mistyped_code", "wrong_kind", "already_redeemed", "voucher_revoked",
                         "rate_limited", "database_busy"];
  var current = null, seq = 0, asked = 0, lastJob = null, busy = false, practice = false, offerSale = null;

  function fmt(s, v) { return String(s).replace(/%\((\w+)\)[sd]/g, function (_, k) { return v[k] == null ? "" : v[k]; }); }
  var money;  /* the server's own form (money.js, from Babel): the till reads as the receipt */
  if (window.moneyFormatter && cfg.money) { money = { format: window.moneyFormatter(cfg.money) }; }
  else {
    try { money = new Intl.NumberFormat(cfg.lang, { style: "currency", currency: cfg.currency }); }
    catch (err) { money = { format: function (s) { return s + " " + cfg.currency; } }; }
  }
  function showMoney(s) { return money.format(s); }  /* a decimal string: formatted exactly, no float maths */
  function randomKey() {
    var b = new Uint8Array(16); crypto.getRandomValues(b);
    return Array.prototype.map.call(b, function (x) { return ("0" + x.toString(16)).slice(-2); }).join("");
  }
  function saleId() {
    var d = new Date(), p = function (n) { return ("0" + n).slice(-2); };
    return cfg.till + "-" + d.getFullYear() + p(d.getMonth() + 1) + p(d.getDate()) + p(d.getHours()) +
      p(d.getMinutes()) + p(d.getSeconds()) + "-" + randomKey().slice(0, 4);
  }
  function basket() {  /* null: empty, false: not a price, else "12.50" */
    var v = basketEl.value.replace(/\s/g, "").replace(",", ".");
    if (!v) { return null; }
    if (!/^\d{1,10}(\.\d{1,2})?$/.test(v)) { return false; }
    return (v.indexOf(".") < 0 ? v + ".00" : (v + "00").replace(/(\.\d\d)\d*$/, "$1"));
  }
  function customer() {
    var v = customerEl.value.trim(), c = null;
    if (v) { c = v.indexOf("@") >= 0 ? { email: v } : { phone: v }; }
    if (c && nameEl.value.trim()) { c.first_name = nameEl.value.trim(); }
    if (c) { c.language = cfg.lang; }
    return c;
  }
  function reasonText(data) {
    var r = data && (data.reason || data.code);
    return (r && T.reasons[r]) || (data && (data.message || data.detail)) || T.unknown;
  }
  function show(kind, bigText, smallText, t0) {
    answer.className = "answer " + kind;
    big.textContent = bigText; small.textContent = smallText || "";
    sayEl.textContent = ""; sayEl.hidden = true;
    seq += 1; answer.setAttribute("data-seq", String(seq));
    if (t0 != null) {  /* scan-to-answer time, read by bench/scan_to_answer.py */
      answer.setAttribute("data-ms", (performance.now() - t0).toFixed(2));
      requestAnimationFrame(function () { answer.setAttribute("data-paint-ms", (performance.now() - t0).toFixed(2)); });
    }
  }
  function post(path, body, headers) {
    var h = { "Content-Type": "application/json", "X-CSRFToken": csrf, "Accept": "application/json" };
    Object.keys(headers || {}).forEach(function (k) { h[k] = headers[k]; });
    return fetch(path, { method: "POST", headers: h, body: JSON.stringify(body), credentials: "same-origin" })
      .then(parse);
  }
  function get(path) { return fetch(path, { credentials: "same-origin", headers: { "Accept": "application/json" } }).then(parse); }
  function parse(r) {
    if (r.status === 401) { window.location.reload(); }
    return r.text().then(function (t) { var d = null; try { d = JSON.parse(t); } catch (e) { d = null; } return { status: r.status, data: d }; });
  }
  function failed(err) { show("refused", T.offline, String(err && err.message || "")); }
  function problemText(r) {
    if (r.status === 400 && !r.data) { return T.reload; }
    if (r.data && (r.data.reason || (r.data.code && T.reasons[r.data.code]))) { return reasonText(r.data); }
    if (r.status < 500 && r.data && r.data.detail) { return r.data.detail; }  /* the till's own answers are translated */
    return fmt(T.error, { why: (r.data && (r.data.detail || r.data.title)) || r.status });
  }

  function quote(t0, stay) {  /* stay: the cashier is typing elsewhere, the answer does not move the cursor */
    var raw = codeEl.value.trim();
    if (!raw) { return; }
    var b = basket();
    if (b === null || b === false) {  /* scanned first: keep the code, quote once the basket is typed */
      current = { code: raw, quote: null }; asked += 1;  /* an answer still on its way is for an older scan */
      confirmBtn.disabled = true; overrideBtn.disabled = true;
      show("ask", b === false ? T.bad_basket : T.code_kept, fmt(T.code_shown, { code: raw }), t0);
      if (!stay) { basketEl.focus(); }
      return;
    }
    var body = { code: raw, basket_total: b }, c = customer(), mine = ++asked;
    if (c) { body.customer = c; }
    confirmBtn.disabled = true; overrideBtn.disabled = true;
    if (practice) { practiceQuote(body, mine, t0, stay); return; }
    post("/api/v1/checkouts/quote", body).then(function (r) {
      if (mine !== asked) { return; }  /* a newer scan is on its way: show only its answer */
      var q = r.data;
      if (r.status !== 200 || !q) { current = null; show("refused", problemText(r), "", t0); return; }
      current = { code: q.code || raw, quote: q, basket: b, key: null, sent: null };
      var shown = q.display_code ? fmt(T.code_shown, { code: q.display_code }) : "";
      if (q.eligible) {
        var text = q.discount !== "0.00" ? fmt(T.apply, { amount: showMoney(q.discount) })
          : (q.reward && q.reward.item ? fmt(T.give_item, { item: q.reward.item }) : T.valid);
        var hint = (q.kind === "referral" && !c) ? " · " + T.need_customer : "";
        if (q.referrer_outcome === "none_cap_reached") { hint += " · " + T.referrer_capped; }
        show("ok", text, shown + hint, t0);
        confirmBtn.disabled = false;
      } else {
        show("refused", reasonText(q), shown, t0);
        overrideBtn.disabled = NOT_OVERRIDABLE.indexOf(q.reason) >= 0;
      }
      if (!stay) { codeEl.select(); }
    }).catch(failed);
  }

  function practiceQuote(body, mine, t0, stay) {  /* never the real API: nothing is recorded, printed or counted */
    post("/till/practice/quote", { code: body.code, basket_total: body.basket_total }).then(function (r) {
      if (mine !== asked) { return; }
      var q = r.data;
      if (r.status !== 200 || !q) { current = null; show("refused", problemText(r), "", t0); return; }
      current = { code: q.code, quote: q, basket: body.basket_total, practice: true };
      show(q.eligible ? "ok" : "refused", q.eligible ? q.message : reasonText(q), fmt(T.code_shown, { code: q.code }), t0);
      if (q.say) { sayEl.textContent = fmt(T.say, { text: q.say }); sayEl.hidden = false; }
      confirmBtn.disabled = !q.eligible;
      if (!stay) { codeEl.select(); }
    }).catch(failed);
  }
  function practiceDone() {
    showResult([T.practice_done], null); reset(); show("done", T.practice_done, T.next_scan); codeEl.focus();
  }

  function confirmSale() {
    if (busy || !current || !current.quote || !current.quote.eligible) { return; }
    var c = customer();
    if (current.quote.kind === "referral" && !c) { show("ask", T.need_customer, ""); customerEl.focus(); return; }
    var b = basket();
    if (!b) { show("ask", T.need_basket, ""); basketEl.focus(); return; }
    if (current.practice) { practiceDone(); return; }
    current.sale = current.sale || saleEl.value.trim() || saleId();
    var body = { code: current.code, sale_id: current.sale, basket_total: b, customer: c, till_id: cfg.till };
    var text = JSON.stringify(body);
    if (current.sent !== text) { current.key = randomKey(); current.sent = text; }  /* a retry reuses its key */
    busy = true; confirmBtn.disabled = true; show("busy", T.recording, "");
    post("/api/v1/redemptions", body, { "Idempotency-Key": current.key }).then(function (r) {
      busy = false;
      if (r.status === 201 || r.status === 200) {
        var d = r.data, lines = [fmt(T.recorded, { amount: showMoney(d.discount), sale: d.sale_id })];
        if (d.friend_code) { lines.push(fmt(T.friend_code, { code: d.friend_code.display_code })); }
        if (d.referrer_outcome === "none_cap_reached") { lines.push(T.referrer_capped); }
        lines.push(d.print_job_id ? fmt(T.job, { id: d.print_job_id }) : T.no_print);
        showResult(lines, d.print_job_id);
        reset();
        show("done", lines[0], T.next_scan);  /* the outcome, not "Recording…", until the next scan */
        status();
      } else {
        confirmBtn.disabled = false;
        show("refused", problemText(r), "");
        if (r.status >= 400 && r.status < 500) { current.sent = null; }
      }
      codeEl.focus();
    }).catch(function (err) { busy = false; confirmBtn.disabled = false; failed(err); });
  }

  var shown = 0;  /* which result the print-job poll belongs to: a cleared result stays cleared */
  function showResult(lines, jobId) {
    result.innerHTML = ""; shown += 1;
    lines.forEach(function (l) { var p = document.createElement("p"); p.textContent = l; result.appendChild(p); });
    if (jobId) { lastJob = jobId; $("reprint").disabled = false; pollJob(jobId, 0, shown); }
  }
  function pollJob(id, n, mine) {
    get("/api/v1/print-jobs/" + id).then(function (r) {
      if (r.status !== 200 || !r.data || mine !== shown) { return; }
      var st = r.data.status, el = $("job-" + id) || document.createElement("p");
      el.id = "job-" + id; el.className = "job " + st;
      el.textContent = fmt(T.job_status, { id: id, status: T["status_" + st] || st });
      result.appendChild(el);
      if ((st === "queued" || st === "printing") && n < 15) { setTimeout(function () { pollJob(id, n + 1, mine); }, 1000); }
    }).catch(function () { /* status is a nicety; the job itself is safe in the database */ });
  }

  function reset() {
    current = null;
    [codeEl, basketEl, customerEl, nameEl, saleEl].forEach(function (el) { el.value = ""; });
    inviteHint.hidden = true; inviteHint.textContent = "";
    confirmBtn.disabled = true; overrideBtn.disabled = true;
    answer.className = "answer idle";
  }
  function clearAll() {
    /* "you save" on the customer display goes too (their own code after a sale stays: they may be scanning it) */
    if (!practice) { post("/till/display/clear", {}).catch(function () { /* the display times out by itself */ }); }
    reset(); big.textContent = ""; small.textContent = ""; result.innerHTML = ""; shown += 1;
    sayEl.textContent = ""; sayEl.hidden = true; codeEl.focus();
  }

  function openOverride() {
    if (practice || !current || !current.quote || current.quote.eligible || overrideBtn.disabled) { return; }
    $("ov-refusal").textContent = big.textContent; $("ov-error").textContent = "";
    $("ov-pin").value = ""; $("ov-note").value = "";
    dialog.showModal();
    ($("ov-manager").options.length > 1 ? $("ov-manager") : $("ov-pin")).focus();
  }
  $("override-form").addEventListener("submit", function (e) {
    e.preventDefault();
    var b = basket() || "0.00";
    current.sale = current.sale || saleEl.value.trim() || saleId();
    var body = { code: current.code, sale_id: current.sale, basket_total: b, customer: customer(),
                 manager: $("ov-manager").value, note: $("ov-note").value };
    var text = JSON.stringify(body);
    if (current.sent !== text) { current.key = randomKey(); current.sent = text; }
    body.pin = $("ov-pin").value;
    post("/till/override", body, { "Idempotency-Key": current.key }).then(function (r) {
      if (r.status === 201 || r.status === 200) {
        dialog.close();
        var msg = fmt(T.override_done, { name: r.data.approved_by, amount: showMoney(r.data.discount) });
        show("ok", msg, fmt(T.code_shown, { code: r.data.code }));
        showResult([msg], null); reset(); codeEl.focus();
      } else { $("ov-error").textContent = problemText(r); $("ov-pin").value = ""; $("ov-pin").focus(); }
    }).catch(function (err) { $("ov-error").textContent = T.offline + " " + (err && err.message || ""); });
  });
  $("ov-cancel").addEventListener("click", function () { dialog.close(); codeEl.focus(); });
  dialog.addEventListener("close", function () { codeEl.focus(); });

  function issueCard() {
    var c = customer();
    if (!c) { $("issue-result").textContent = T.need_customer; customerEl.focus(); return; }
    if (practice) { $("issue-result").textContent = T.practice_done; return; }
    post("/till/issue", { customer: c, print: true }).then(function (r) {
      var out = $("issue-result");
      if (r.status === 201 || r.status === 200) {
        var d = r.data, lines = [fmt(d.created ? T.issued : T.issued_again, { code: d.display_code }),
                                 d.print_job_id ? fmt(T.card_job, { id: d.print_job_id }) : T.no_print];
        out.textContent = lines.join(" ");
        if (d.print_job_id) { lastJob = d.print_job_id; $("reprint").disabled = false; }
      } else { out.textContent = problemText(r); }
      codeEl.focus();
    }).catch(failed);
  }
  /* "Give card" for the print proxy: the next receipt the POS prints carries a code (api/proxy.py). */
  function armProxy() {
    var out = $("arm-result");
    if (!out) { return; }
    if (practice) { out.textContent = T.practice_done; return; }
    post("/api/v1/proxy/arm", {}).then(function (r) {
      out.textContent = r.status === 200 ? fmt(T.proxy_armed, { seconds: r.data.armed_seconds }) : problemText(r);
      codeEl.focus();
    }).catch(failed);
  }
  function reprint() {
    if (!lastJob || practice) { return; }
    post("/api/v1/print-jobs/" + lastJob + "/reprint", {}).then(function (r) {
      var d = r.data || {};
      if (r.status === 201 || r.status === 200) { result.appendChild(document.createTextNode(fmt(T.reprint_queued, { id: d.print_job_id || d.id || "?" }))); }
      else { result.appendChild(document.createTextNode(fmt(T.reprint_failed, { why: d.detail || r.status }))); }
    }).catch(failed);
  }

  /* "Sale done" reports the sale (source till, the basket total and the customer typed) to the reports'
     denominator, POST /api/v1/sales; without a total nothing is reported. Never blocks the prompt. */
  function recordSale(sale) {
    var b = basket(), c = customer();
    if (!b) { return Promise.resolve(null); }
    var body = { sale_id: sale, total: b };
    if (c) { body.customer = c; }
    return post("/api/v1/sales", body).catch(function () { return null; });
  }
  /* A frequent customer without a card: the till says "offer one" as soon as their contact is typed. */
  function checkInvite() {
    var c = customer();
    inviteHint.hidden = true; inviteHint.textContent = "";
    if (!c || practice) { return; }
    var typed = customerEl.value;
    post("/api/v1/prompts/invite-hint", { customer: c }).then(function (r) {
      if (r.status !== 200 || !r.data || !r.data.invite || customerEl.value !== typed) { return; }
      inviteHint.textContent = T.invite_hint; inviteHint.hidden = false;
    }).catch(function () {});
  }

  /* After a sale without a friend's code: offer the customer a referral card, once per sale. */
  function saleDone() {
    var sale = saleEl.value.trim() || saleId();
    if (practice) { offerSale = sale; offerDialog.returnValue = ""; offerDialog.showModal(); $("offer-yes").focus(); return; }
    recordSale(sale).then(function () {
      return get("/api/v1/prompts/card-offer/" + encodeURIComponent(sale));
    }).then(function (r) {
      if (r.status !== 200 || !r.data) { showResult([problemText(r)], null); return; }
      if (!r.data.offer) {
        showResult([r.data.reason === "referral_sale" ? T.offer_none_referral : T.offer_none_again], null); return;
      }
      offerSale = sale; offerDialog.returnValue = ""; offerDialog.showModal(); $("offer-yes").focus();
    }).catch(failed);
  }
  function offerAnswered() {
    var sale = offerSale, answer = offerDialog.returnValue;  /* "yes", "no", or "" (Esc: not offered) */
    offerSale = null;
    if (!sale) { return; }
    var accepted = answer === "yes", text = accepted ? T.offer_accepted : (answer === "no" ? T.offer_declined : T.offer_skipped);
    var keep = customer();
    function after() {
      result.innerHTML = ""; showResult([text], null);
      if (accepted && keep) { issueCard(); return; }
      if (accepted) { customerEl.focus(); return; }
      reset(); codeEl.focus();
    }
    if (practice) { text = T.practice_done; accepted = false; after(); return; }
    post("/api/v1/prompts/card-offer", { sale_id: sale, accepted: accepted, offered: answer !== "" }).then(function (r) {
      if (r.status === 201 || r.status === 200) { after(); } else { showResult([problemText(r)], null); }
    }).catch(failed);
  }
  offerDialog.addEventListener("close", offerAnswered);

  function staffGuide() {
    post("/till/practice/staff-guide", {}).then(function (r) {
      var d = r.data || {}, out = $("guide-result");
      if (r.status === 201 || r.status === 200) {
        out.textContent = d.print_job_id ? fmt(T.guide_queued, { id: d.print_job_id }) : T.guide_no_printer;
      } else { out.textContent = problemText(r); }
      codeEl.focus();
    }).catch(failed);
  }

  function setPractice(on) {
    practice = on;
    document.body.classList.toggle("practice", on);
    practiceBtn.setAttribute("aria-pressed", on ? "true" : "false");
    $("practice-banner").hidden = !on; $("practice-panel").hidden = !on;
    $("reprint").disabled = on || !lastJob;
    asked += 1;  /* an answer still on its way belongs to the other mode: drop it */
    clearAll();
    showResult([on ? T.practice_on : T.practice_off], null);
  }

  function status() {
    get("/healthz").then(function (r) {
      var d = r.data || {}, q = d.print_queue || {}, p = d.printer;
      var pstate = p == null ? "none" : (T.printer_states[p.state] ? p.state : "unknown");
      $("st-printer").textContent = T.printer + ": " + T.printer_states[pstate];
      $("st-printer").setAttribute("data-state", pstate);
      $("st-printer").className = "chip " + (PRINTER_LOOK[pstate] || "");
      var waiting = (q.queued || 0) + (q.printing || 0);
      $("st-queue").textContent = T.queue + ": " + (q.failed ? fmt(T.failed, { n: q.failed }) + " · " : "") +
        (waiting ? fmt(T.waiting, { n: waiting }) : T.ok);
      $("st-queue").className = "chip" + (q.failed ? " bad" : "");
      syncChip(d.sync);
    }).catch(function () { syncChip({ mode: "chain", state: "unknown" }); });
  }
  function syncChip(s) {  /* a standalone shop has nothing to sync; a chain store shows sync only when late */
    var chip = $("st-sync");
    if (!chip) { return; }
    var late = s && s.mode === "chain" && s.state !== "ok";
    chip.hidden = !late;
    chip.className = "chip" + (late ? " bad" : "");
    chip.textContent = !late ? "" : T.sync + ": " + (s.state === "late"
      ? fmt(T.sync_late, { n: s.waiting, min: Math.max(1, Math.round(s.oldest_waiting_seconds / 60)) }) : T.unknown);
  }

  $("scan-form").addEventListener("submit", function (e) { e.preventDefault(); });
  codeEl.addEventListener("keydown", function (e) { if (e.key === "Enter") { e.preventDefault(); quote(e.timeStamp); } });
  var SCAN_AFTER_TOTAL = /^\s*(\d{1,10}(?:[.,]\d{1,2})?)?\s*(https?:\/\/\S+|(?:[0-9A-Za-z]{4}[-\s]?){3}[0-9A-Za-z]{2})\s*$/;
  function scanInBasket() {  /* the scanner typed into the basket field: the total stays, the code moves */
    if (basket() !== false) { return false; }
    var m = SCAN_AFTER_TOTAL.exec(basketEl.value);
    if (!m) { return false; }
    basketEl.value = m[1] || ""; codeEl.value = m[2]; quote(performance.now());
    return true;
  }
  basketEl.addEventListener("change", function () {  /* the total typed after a scan: quote it at once */
    if (scanInBasket()) { return; }
    var b = basket();
    if (!current || !current.code || busy || !b || (current.quote && current.basket === b)) { return; }
    codeEl.value = current.code; quote(performance.now(), true);
  });
  [basketEl, customerEl, nameEl, saleEl].forEach(function (el) {
    el.addEventListener("keydown", function (e) {
      if (e.key !== "Enter") { return; }
      e.preventDefault();
      if (el === basketEl && scanInBasket()) { return; }
      if (current && current.code) { codeEl.value = current.code; quote(e.timeStamp); }
      codeEl.focus();
    });
  });
  confirmBtn.addEventListener("click", confirmSale);
  overrideBtn.addEventListener("click", openOverride);
  $("clear").addEventListener("click", clearAll);
  $("issue").addEventListener("click", issueCard);
  $("reprint").addEventListener("click", reprint);
  if ($("arm-proxy")) { $("arm-proxy").addEventListener("click", armProxy); }
  $("sale-done").addEventListener("click", saleDone);
  customerEl.addEventListener("change", checkInvite);
  $("staff-guide").addEventListener("click", staffGuide);
  practiceBtn.addEventListener("click", function () { setPractice(!practice); });
  Array.prototype.forEach.call(document.querySelectorAll("button.demo"), function (btn) {
    btn.addEventListener("click", function () { codeEl.value = btn.getAttribute("data-code"); quote(performance.now()); });
  });
  document.addEventListener("keydown", function (e) {
    if (dialog.open || offerDialog.open) { return; }
    var keys = { F2: confirmSale, F4: openOverride, F6: issueCard, F7: armProxy, F8: reprint, F9: saleDone, Escape: clearAll };
    if (keys[e.key]) { e.preventDefault(); keys[e.key](); return; }
    var a = document.activeElement, typing = a && (a.tagName === "INPUT" || a.tagName === "SELECT" || a.tagName === "TEXTAREA");
    if (!typing && e.key.length === 1 && !e.ctrlKey && !e.metaKey && !e.altKey) { codeEl.focus(); }  /* a scan never gets lost */
  });
  document.addEventListener("focusout", function () {
    setTimeout(function () { if (!dialog.open && !offerDialog.open && (!document.activeElement || document.activeElement === document.body)) { codeEl.focus(); } }, 0);
  });
  if (cfg.serial && window.EventSource) {
    var es = new EventSource("/till/events");
    es.addEventListener("scan", function (e) {
      var d = JSON.parse(e.data); codeEl.value = d.code; quote(performance.now());
    });
  }
  status(); setInterval(status, 5000);
  codeEl.focus();
  document.body.setAttribute("data-till-ready", "1");  /* listeners are on: a scan now cannot submit the bare form */
})();
