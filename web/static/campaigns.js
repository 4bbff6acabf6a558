// The campaigns pages. The form offers the segments and lists the
// placeholders of the purpose chosen (the server checks both again); a
// campaign's page, while it is sending, asks for its progress every second
// (GET, no personal data: counts only) and reloads once it is done or
// stopped.
(function () {
  var form = document.getElementById("campaign-form");
  if (form) {
    var purpose = document.getElementById("c-purpose"), segment = document.getElementById("c-segment");
    var follow = function () {
      var p = purpose.value;
      Array.prototype.forEach.call(segment.options, function (o) {
        var other = o.dataset.purpose && o.dataset.purpose !== p;
        o.hidden = other;
        o.disabled = other;
        if (other && o.selected) segment.value = "";
      });
      Array.prototype.forEach.call(document.querySelectorAll("dl.placeholders"), function (dl) {
        dl.hidden = dl.dataset.purpose !== p;
      });
    };
    purpose.addEventListener("change", follow);
    follow();
  }
  var progress = document.getElementById("progress");
  if (!progress || !progress.dataset.poll) return;
  var set = function (id, v) { var e = document.getElementById(id); if (e) e.textContent = String(v); };
  var tick = function () {
    fetch(progress.dataset.poll, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { if (!r.ok) throw new Error(String(r.status)); return r.json(); })
      .then(function (j) {
        set("c-status", j.status_text);
        set("c-sent", j.sent);
        set("c-failed", j.failed);
        set("c-sending", j.sending);
        set("c-waiting", j.waiting);
        set("c-skipped", j.skipped_total);
        var ul = document.getElementById("c-skips");
        if (ul && j.skipped.length) {
          ul.textContent = "";
          j.skipped.forEach(function (s) {
            var li = document.createElement("li");
            li.textContent = s.text + ": " + s.n;
            ul.appendChild(li);
          });
        }
        if (j.status !== "sending") { window.location.replace(window.location.pathname); return; }
        setTimeout(tick, 1000);
      })
      .catch(function () { setTimeout(tick, 5000); });
  };
  setTimeout(tick, 1000);
})();
