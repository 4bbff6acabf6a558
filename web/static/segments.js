// The segments page's live count: as the rule, its purpose or its name is
// edited, the count is asked for once the typing pauses for 600 ms (not
// at each keystroke: each count is a run of the gate that each person
// whose data it read finds in their access report), and any refusal is
// shown with the path it names.
(function () {
  var form = document.getElementById("segment-form");
  if (!form) return;
  var out = document.getElementById("s-count"), errs = document.getElementById("s-errors");
  var timer = null, seq = 0;
  function show(list) {
    errs.textContent = "";
    (list || []).forEach(function (e) {
      var li = document.createElement("li"), code = document.createElement("code");
      code.textContent = e.path;
      li.appendChild(code);
      li.appendChild(document.createTextNode(" " + e.text));
      errs.appendChild(li);
    });
  }
  function count() {
    var mine = ++seq, body = new URLSearchParams();
    ["csrf", "name", "purpose", "rule"].forEach(function (k) { body.set(k, form.elements[k].value); });
    out.textContent = out.dataset.busy;
    fetch(form.dataset.count, { method: "POST", body: body, credentials: "same-origin" })
      .then(function (r) { return r.json(); })
      .then(function (j) {
        if (mine !== seq) return;
        show(j.errors);
        if (j.errors) { out.textContent = ""; return; }
        out.textContent = out.dataset.word + " " + (j.count === null ? j.text : j.count);
      })
      .catch(function () { if (mine === seq) out.textContent = ""; });
  }
  function later() {
    clearTimeout(timer);
    timer = setTimeout(count, 600);
  }
  ["s-rule", "s-purpose", "s-name"].forEach(function (id) {
    document.getElementById(id).addEventListener("input", later);
  });
  later();
})();
