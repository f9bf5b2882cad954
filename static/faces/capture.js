/* "Certify me" / "certify someone else": camera → challenge → prompts → burst → upload → verdict page.
   No libraries, no CDN. Frames are drawn from the raw (unmirrored) video; only the preview is mirrored. */
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
    if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) { fail(cfg.texts.noCamera); return; }
    navigator.mediaDevices.getUserMedia({
      video: { facingMode: "user", width: { ideal: 640 }, height: { ideal: 480 } }, audio: false
    }).then(function (s) {
      stream = s;
      video.srcObject = s;
      var ready = function () { stage("ready"); };
      if (video.readyState >= 2) { ready(); } else { video.addEventListener("loadeddata", ready, { once: true }); }
      var p = video.play(); if (p && p.catch) { p.catch(function () {}); }
    }).catch(function () { fail(cfg.texts.noCamera); });
  }

  function grab(canvas) {
    var w = video.videoWidth, h = video.videoHeight;
    var scale = Math.min(1, cfg.maxSide / Math.max(w, h));
    canvas.width = Math.round(w * scale); canvas.height = Math.round(h * scale);
    canvas.getContext("2d").drawImage(video, 0, 0, canvas.width, canvas.height);
    return new Promise(function (res) { canvas.toBlob(res, "image/jpeg", 0.88); });
  }

  function postJson(url, body) {
    return fetch(url, {
      method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrf, "Accept": "application/json" },
      body: JSON.stringify(body)
    }).then(function (r) { return r.json().then(function (b) { return { ok: r.ok, body: b }; }); });
  }

  async function run() {
    startBtn.disabled = true;
    stage("starting");
    var res;
    try { res = await postJson(cfg.sessionsUrl, { consent_id: cfg.consentId }); } catch (e) { fail(cfg.texts.network); return; }
    if (!res.ok) { fail(res.body.message || cfg.texts.network); return; }
    var session = res.body, cap = session.capture, n = session.prompts.length;
    var perPrompt = Math.max(1, Math.min(Math.floor(cap.max_frames / n), Math.round(cap.fps * cap.seconds_per_prompt)));
    var interval = 1000 / cap.fps;
    var canvas = document.createElement("canvas");
    var blobs = [];
    stage("prompt");
    promptEl.textContent = cfg.texts.ready; stepEl.textContent = "";
    say(cfg.texts.ready);
    await sleep(1500);
    for (var k = 0; k < n; k++) {
      promptEl.textContent = session.prompts[k];
      stepEl.textContent = cfg.texts.step.replace("{k}", k + 1).replace("{n}", n);
      say(session.prompts[k]);
      for (var i = 0; i < perPrompt; i++) {
        var t0 = performance.now();
        var b = await grab(canvas);
        if (b) { blobs.push(b); }
        var wait = interval - (performance.now() - t0);
        if (wait > 0) { await sleep(wait); }
      }
    }
    stopCamera();
    stage("uploading");
    var fd = new FormData();
    blobs.forEach(function (blob, j) { fd.append("frames", blob, "frame" + j + ".jpg"); });
    try {
      var r = await fetch(session.frames_url, {
        method: "POST", credentials: "same-origin", body: fd,
        headers: { "X-CSRFToken": csrf, "Accept": "application/json" }
      });
      var body = await r.json();
      if (!r.ok) { fail(body.message || cfg.texts.network); return; }
      window.location.assign(body.result_url);
    } catch (e) { fail(cfg.texts.network); }
  }

  startBtn.addEventListener("click", run);
  window.addEventListener("pagehide", stopCamera);
  openCamera();
})();
