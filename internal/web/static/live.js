// Live events: every value is set with textContent, never as HTML, because
// usernames, commands and URLs come from attackers.
(function () {
  "use strict";
  var body = document.querySelector("#events tbody");
  var status = document.getElementById("status");
  var max = 200;
  function cell(tr, text) {
    var td = document.createElement("td");
    td.textContent = text == null ? "" : String(text);
    tr.appendChild(td);
  }
  function detail(d) {
    if (!d) return "";
    var keys = ["username", "password", "input", "url", "payload", "sha256", "protocol", "reason"];
    var out = [];
    for (var i = 0; i < keys.length; i++) {
      if (d[keys[i]] !== undefined) out.push(keys[i] + "=" + d[keys[i]]);
    }
    return out.join(" ").slice(0, 300);
  }
  var es = new EventSource("/api/v1/stream");
  es.onopen = function () { status.textContent = "connected"; };
  es.onerror = function () { status.textContent = "reconnecting…"; };
  es.addEventListener("event", function (m) {
    var e;
    try { e = JSON.parse(m.data); } catch (err) { return; }
    var tr = document.createElement("tr");
    tr.className = "ev";
    cell(tr, e.time);
    cell(tr, e.honeypot);
    cell(tr, e.kind);
    cell(tr, e.src_ip);
    cell(tr, e.dst_port);
    cell(tr, detail(e.data));
    body.insertBefore(tr, body.firstChild);
    while (body.children.length > max) body.removeChild(body.lastChild);
  });
})();
