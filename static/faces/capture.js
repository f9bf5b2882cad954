/* "Certify me" / "certify someone else": camera → session → server-led prompts → frames sent as
   captured → verdict page. No libraries, no CDN.
   The server leads: it issues each prompt at a moment it chooses; the page only learns a prompt by
   polling, shows it in large type and speaks it. Frames go up in short chunks as they are captured
   and the server stamps their arrival; it orders them by that stamp, not by anything the page says.
   Frames are drawn from the raw (unmirrored) video; only the preview is mirrored. */
(function () {
  "use strict";
  var root = document.getElementById("face-capture");
  if (!root) { return; }
  var cfg = JSON.parse(document.getElementById("face-config").textContent);
  var csrf = document.getElementById("face-csrf").value;
  var video = document.getElementById("face-video");
  var promptEl = document.getElementById("face-prompt");
  var stepEl = document.getElementById("face-step");
  var errorEl = document.getElementById("face-error");
  var startBtn = document.getElementById("face-start");
  var stream = null;

  function stage(name) {
    root.setAttribute("data-stage", name);
    var els = root.querySelectorAll("[data-show]");
    for (var i = 0; i < els.length; i++) {
      els[i].hidden = els[i].getAttribute("data-show").split(" ").indexOf(name) < 0;
    }
  }
  function sleep(ms) { return new Promise(function (r) { setTimeout(r, ms); }); }
  function say(text) {
    try {
      if (cfg.speak && window.speechSynthesis && window.SpeechSynthesisUtterance) {
        var u = new SpeechSynthesisUtterance(text);
        u.lang = document.documentElement.lang || "zh-CN"; u.rate = 0.85;  // "en" on English pages
        window.speechSynthesis.cancel();
        window.speechSynthesis.speak(u);
      }
    } catch (e) { /* speech is optional */ }
  }
  function stopCamera() {
    if (stream) { stream.getTracks().forEach(function (t) { t.stop(); }); stream = null; }
  }
  function fail(message) {
    stopCamera();
    errorEl.textContent = message;
    stage("error");
  }

  function openCamera() {
    stage("opening");
    if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) { stopCamera(); stage("nocamera"); return; }
    navigator.mediaDevices.getUserMedia({
      video: { facingMode: "user", width: { ideal: 640 }, height: { ideal: 480 } }, audio: false
    }).then(function (s) {
      stream = s;
      video.srcObject = s;
      var ready = function () { stage("ready"); };
      if (video.readyState >= 2) { ready(); } else { video.addEventListener("loadeddata", ready, { once: true }); }
      var p = video.play(); if (p && p.catch) { p.catch(function () {}); }
    }).catch(function () { stopCamera(); stage("nocamera"); });
  }

  function grab(canvas) {
    var w = video.videoWidth, h = video.videoHeight;
    var scale = Math.min(1, cfg.maxSide / Math.max(w, h));
    canvas.width = Math.round(w * scale); canvas.height = Math.round(h * scale);
    canvas.getContext("2d").drawImage(video, 0, 0, canvas.width, canvas.height);
    return new Promise(function (res) { canvas.toBlob(res, "image/jpeg", 0.88); });
  }

  function request(method, url, body, json) {
    var headers = { "X-CSRFToken": csrf, "Accept": "application/json" };
    if (json) { headers["Content-Type"] = "application/json"; body = JSON.stringify(body); }
    return fetch(url, { method: method, credentials: "same-origin", headers: headers, body: body })
      .then(function (r) { return r.json().then(function (b) { return { ok: r.ok, body: b }; }); });
  }

  async function run() {
    startBtn.disabled = true;
    stage("starting");
    var res;
    try { res = await request("POST", cfg.sessionsUrl, { consent_id: cfg.consentId }, true); }
    catch (e) { fail(cfg.texts.network); return; }
    if (!res.ok) { fail(res.body.message || cfg.texts.network); return; }
    var session = res.body, cap = session.capture;
    var interval = 1000 / cap.fps;
    var canvas = document.createElement("canvas");
    var pending = [], sent = 0, step = -1, done = false, broken = null;
    var uploads = Promise.resolve();

    function send(blobs, last) {
      var fd = new FormData();
      blobs.forEach(function (blob, j) { fd.append("frames", blob, "frame" + (sent + j) + ".jpg"); });
      sent += blobs.length;
      if (last) { fd.append("done", "1"); }
      uploads = uploads.then(function () {
        if (broken) { return null; }
        return request("POST", session.frames_url, fd, false).then(function (r) {
          if (!r.ok) { broken = r.body.message || cfg.texts.network; }
          return r;
        });
      }).catch(function () { broken = cfg.texts.network; return null; });
      return uploads;
    }

    async function poll() {
      while (!done && !broken) {
        try {
          var r = await request("GET", session.prompt_url, undefined, false);
          if (!r.ok) { broken = r.body.message || cfg.texts.network; break; }
          var p = r.body;
          if (p.step !== step) {
            step = p.step;
            promptEl.textContent = p.text;
            stepEl.textContent = p.step > 0 ? cfg.texts.step.replace("{k}", p.step).replace("{n}", p.of) : cfg.texts.wait;
            root.setAttribute("data-step", String(p.step));
            say(p.text);
          }
          if (p.done) { done = true; break; }
        } catch (e) { /* one lost poll is not fatal: ask again */ }
        await sleep(cap.poll_ms);
      }
    }

    stage("prompt");
    promptEl.textContent = cfg.texts.ready; stepEl.textContent = cfg.texts.wait;
    say(cfg.texts.ready);
    var polling = poll();
    while (!done && !broken && sent + pending.length < cap.max_frames) {
      var t0 = performance.now();
      var b = await grab(canvas);
      if (b) { pending.push(b); }
      if (pending.length >= cap.chunk_frames) { send(pending, false); pending = []; }
      var wait = interval - (performance.now() - t0);
      if (wait > 0) { await sleep(wait); }
    }
    done = true;
    await polling;
    stopCamera();
    if (broken) { fail(broken); return; }
    stage("uploading");
    var last = await send(pending, true);
    if (broken || !last) { fail(broken || cfg.texts.network); return; }
    window.location.assign(last.body.result_url);
  }

  startBtn.addEventListener("click", run);
  window.addEventListener("pagehide", stopCamera);
  openCamera();
})();
