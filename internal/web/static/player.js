// Asciicast v2 replay for the session page. The recording is attacker
// output: it is only ever written with textContent, never as HTML.
(function () {
  "use strict";
  var box = document.getElementById("player");
  if (!box) { return; }
  var screen = document.getElementById("screen");
  var status = document.getElementById("player-status");
  var button = document.getElementById("play");
  var MAX = 200000; // characters kept on screen
  // Strip terminal control sequences; the player shows text, not a terminal.
  function clean(s) {
    return s.replace(/\x1b\[[0-9;?]*[ -\/]*[@-~]/g, "").replace(/\x1b\][^\x07]*(\x07|\x1b\\)/g, "")
            .replace(/\x1b[@-_]/g, "").replace(/\r\n/g, "\n").replace(/\r/g, "");
  }
  function parse(text) {
    var lines = text.split("\n"), frames = [];
    for (var i = 1; i < lines.length && frames.length < 100000; i++) {
      if (!lines[i]) { continue; }
      try {
        var f = JSON.parse(lines[i]);
        if (Array.isArray(f) && typeof f[0] === "number" && f[1] === "o" && typeof f[2] === "string") { frames.push(f); }
      } catch (e) { /* skip a bad line */ }
    }
    return frames;
  }
  function play(frames) {
    screen.textContent = "";
    var start = performance.now(), i = 0;
    function step() {
      var t = (performance.now() - start) / 1000;
      var out = "";
      while (i < frames.length && Math.min(frames[i][0], i * 2) <= t) { out += clean(frames[i][2]); i++; }
      if (out) {
        var s = screen.textContent + out;
        screen.textContent = s.length > MAX ? s.slice(s.length - MAX) : s;
      }
      if (i < frames.length) { window.setTimeout(step, 30); } else { status.textContent = "■"; }
    }
    step();
  }
  button.addEventListener("click", function () {
    status.textContent = "…";
    fetch(box.getAttribute("data-src"), { credentials: "same-origin" }).then(function (r) {
      if (!r.ok) { throw new Error(String(r.status)); }
      return r.text();
    }).then(function (text) {
      status.textContent = "▶";
      play(parse(text));
    }).catch(function (e) { status.textContent = "✕ " + e.message; });
  });
})();
