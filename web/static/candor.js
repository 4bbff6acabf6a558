/*! candor.js: Candor's consent banner and event SDK. No dependencies, no cookies.
 * <script src="https://candor.example/sdk/candor.js" data-key="WRITE_KEY"
 *         [data-api="https://candor.example"] [data-lang="zh-CN|en"]></script>
 * Asks for consent per purpose, records it in Candor's ledger, and sends
 * track/page/identify calls only for purposes the visitor allowed. */
(function (w, d) {
  'use strict';
  if (w.candor && w.candor.version) return;
  var VERSION = '1.0.0';
  var NS = 'candor.';
  var MAXQ = 100;

  var script = d.currentScript || d.querySelector('script[data-key][src*="candor.js"]');
  if (!script) return;
  var key = script.getAttribute('data-key') || '';
  var src = new URL(script.src, location.href);
  var api = (script.getAttribute('data-api') || src.origin).replace(/\/+$/, '');
  var lang = /^zh/i.test(script.getAttribute('data-lang') || d.documentElement.lang || navigator.language || '') ? 'zh-CN' : 'en';
  var gpc = navigator.globalPrivacyControl === true;

  var T = {
    en: {
      title: 'Your privacy at {org}',
      prefs: 'Privacy preferences',
      intro: 'We ask your consent for each purpose below. Everything that needs your consent stays off until you switch it on, and you can change your mind at any time from “Privacy preferences”.',
      consent: 'Purposes that need your consent',
      separate: 'Purposes that need your separate consent',
      sepIntro: 'Each of these needs your consent on its own. “Accept all” never switches them on: use their own switch.',
      always: 'Always on: needed for the service or required by law',
      recipients: 'Who receives your information',
      uses: 'Uses: ',
      gets: 'Receives: ',
      forp: 'For: ',
      cross: 'Cross-border transfer: outside {country}',
      local: 'In {country}',
      auto: 'Automated decision-making: a choice that does not depend on you is always available.',
      sensitive: 'sensitive',
      gpcOff: 'Off: your browser sends a Global Privacy Control signal, so we do not ask.',
      reject: 'Reject all',
      accept: 'Accept all',
      save: 'Save choices',
      close: 'Close',
      acceptNote: '“Accept all” switches on the purposes that need your consent, except the separate consents, which stay as their own switch shows. “Reject all” switches everything off.',
      portal: 'See and manage what we hold about you',
      failed: 'Your choices could not be saved. Please try again.'
    },
    'zh-CN': {
      title: '{org} 的个人信息保护',
      prefs: '隐私设置',
      intro: '我们就以下每一项目的分别征求您的同意。需要您同意的项目在您开启之前均保持关闭；您可以随时在“隐私设置”中更改选择。',
      consent: '需要您同意的处理目的',
      separate: '需要您单独同意的处理目的',
      sepIntro: '以下每一项都需要您单独同意。“全部接受”不会开启这些项目，请使用各自的开关。',
      always: '始终开启：提供服务所必需或法律要求',
      recipients: '哪些接收方会获得您的信息',
      uses: '使用的信息：',
      gets: '获得的信息：',
      forp: '用于：',
      cross: '跨境提供：{country}境外',
      local: '位于{country}',
      auto: '自动化决策：我们始终提供不针对您个人特征的选项。',
      sensitive: '敏感',
      gpcOff: '已关闭：您的浏览器发送了“全球隐私控制”（GPC）信号，因此我们不再询问。',
      reject: '全部拒绝',
      accept: '全部接受',
      save: '保存选择',
      close: '关闭',
      acceptNote: '“全部接受”会开启需要您同意的项目，但不包括需要单独同意的项目，它们以各自开关的状态为准。“全部拒绝”会关闭所有项目。',
      portal: '查看和管理我们持有的您的信息',
      failed: '未能保存您的选择，请重试。'
    }
  }[lang];

  // Storage: localStorage when the browser allows it, else this page only.
  var mem = {};
  function load(k) {
    try { return JSON.parse(localStorage.getItem(NS + k)); } catch (e) { return mem[k] === undefined ? null : mem[k]; }
  }
  function store(k, v) {
    mem[k] = v;
    try { localStorage.setItem(NS + k, JSON.stringify(v)); } catch (e) { /* private mode */ }
  }
  function uuid() {
    if (w.crypto && crypto.randomUUID) return crypto.randomUUID();
    var b = crypto.getRandomValues(new Uint8Array(16));
    b[6] = (b[6] & 15) | 64; b[8] = (b[8] & 63) | 128;
    var h = Array.prototype.map.call(b, function (x) { return (x + 256).toString(16).slice(1); }).join('');
    return h.slice(0, 8) + '-' + h.slice(8, 12) + '-' + h.slice(12, 16) + '-' + h.slice(16, 20) + '-' + h.slice(20);
  }
  var aid = load('aid');
  if (typeof aid !== 'string' || !aid) { aid = uuid(); store('aid', aid); }

  var notice = null;      // GET /v1/notice
  var saved = load('consent'); // {version, choices, subject_id, receipt_id, gpc, at}
  var failed = false;     // the notice could not be loaded
  var queue = [];
  var readyFns = [];
  var userId = null;
  var identity = null;    // the shop's server's token for userId
  var stats = { sent: 0, dropped: 0, failed: 0, queued: 0 };
  var ui = null;

  function emit(name, detail) {
    try { w.dispatchEvent(new CustomEvent('candor:' + name, { detail: detail })); } catch (e) { /* old browser */ }
  }
  function fmt(s, v) { return s.replace(/\{(\w+)\}/g, function (_, k) { return v[k] == null ? '' : v[k]; }); }
  function purposes() { return notice ? notice.purposes : []; }
  function purpose(id) { return purposes().filter(function (p) { return p.id === id; })[0]; }
  function gpcDenies(p) { return gpc && p.gpc === 'deny'; }
  function decided() { return !!(notice && saved && saved.version === notice.version); }

  // allows: may data be used for purpose p now, per the visitor's choices?
  function allows(p) {
    if (!p) return false;
    if (!p.needs_consent) return true;
    return decided() && !gpcDenies(p) && saved.choices[p.id] === true;
  }
  // covering: the purposes that cover an event.
  function covering(name) {
    var out = purposes().filter(function (p) { return (p.events || []).indexOf(name) >= 0; });
    (notice.events || []).forEach(function (e) {
      if (e.name === name) (e.purposes || []).forEach(function (id) { var p = purpose(id); if (p && out.indexOf(p) < 0) out.push(p); });
    });
    if (!out.length && name === 'Page Viewed' && purpose('analytics')) out.push(purpose('analytics'));
    return out;
  }

  function call(path, body) {
    return fetch(api + path, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Authorization: 'Basic ' + btoa(key + ':') },
      body: JSON.stringify(body),
      credentials: 'omit',
      keepalive: true
    });
  }

  // Messages: Segment spec, sent only when a covering purpose is allowed.
  function enqueue(type, a, b, c) {
    if (decided() || failed) return deliver(type, a, b, c);
    if (queue.length >= MAXQ) { var old = queue.shift(); stats.queued--; drop(old[0], nameOf(old[0], old[1]), 'queue full'); }
    queue.push([type, a, b, c]);
    stats.queued++;
  }
  function flush() {
    var q = queue;
    queue = [];
    stats.queued = 0;
    q.forEach(function (m) { deliver(m[0], m[1], m[2], m[3]); });
  }
  function nameOf(type, a) { return type === 'track' ? a : type === 'page' ? 'Page Viewed' : 'identify'; }
  function drop(type, name, why) {
    stats.dropped++;
    emit('dropped', { type: type, event: name, reason: why });
  }
  function deliver(type, a, b, ts) {
    var name = nameOf(type, a);
    if (!notice) return drop(type, name, 'notice unavailable');
    var msg = { type: type, anonymousId: aid, messageId: uuid(), timestamp: ts,
      context: { library: { name: 'candor.js', version: VERSION }, locale: lang, page: { path: location.pathname, title: d.title } } };
    var ok;
    if (type === 'identify') {
      // Signing in serves the account (a purpose that needs no consent);
      // traits go only for a purpose the visitor allows.
      msg.userId = a;
      msg.traits = {};
      Object.keys(b || {}).forEach(function (k) {
        var f = (notice.fields || []).filter(function (f) { return f.id === k; })[0];
        if (f && (f.purposes || []).some(function (id) { return allows(purpose(id)); })) msg.traits[k] = b[k];
      });
      ok = purposes().some(allows);
    } else {
      ok = covering(name).some(allows);
      if (type === 'track') msg.event = a; else if (a) msg.name = a;
      msg.properties = Object.assign({}, b);
      if (type === 'page') {
        msg.properties.path = msg.properties.path || location.pathname;
        msg.properties.title = msg.properties.title || d.title;
      }
      if (userId) msg.userId = userId;
    }
    // A browser key may name a user only with the shop's identity token.
    if (msg.userId && identity) msg.context.candorIdentity = identity;
    if (!ok) return drop(type, name, 'no consent');
    msg.sentAt = new Date().toISOString();
    stats.sent++;
    var info = { type: type, event: name, message: msg };
    emit('sent', info);
    return call('/v1/' + type, msg).then(function (r) {
      info.status = r.status;
      if (!r.ok) { stats.failed++; emit('failed', info); }
    }, function () { stats.failed++; emit('failed', info); });
  }

  // Consent: every consent purpose recorded explicitly, true or false.
  function record(choices) {
    var body = { anonymous_id: aid, notice_version: notice.version, choices: choices, channel: 'web', language: lang, gpc: gpc };
    return call('/v1/consents', body).then(function (r) {
      if (r.status !== 201) throw new Error('candor: consent not recorded: ' + r.status);
      return r.json();
    }).then(function (res) {
      var got = {};
      Object.keys(choices).forEach(function (id) {
        var s = res.state && res.state[id];
        got[id] = choices[id] && (!s || s.allow === true);
      });
      saved = { version: notice.version, choices: got, subject_id: res.subject_id, receipt_id: res.receipt_id, gpc: gpc, at: new Date().toISOString() };
      store('consent', saved);
      store('receipt', res.receipt);
      emit('consent', api_.consent());
      flush();
      return saved;
    });
  }

  // UI.
  function el(tag, cls, text, attrs) {
    var e = d.createElement(tag);
    if (cls) e.className = cls;
    if (text) e.textContent = text;
    for (var k in attrs || {}) e.setAttribute(k, attrs[k]);
    return e;
  }
  function region(code) {
    try { return new Intl.DisplayNames([lang], { type: 'region' }).of(code) || code; } catch (e) { return code; }
  }
  function fieldText(ids) {
    return ids.map(function (id) {
      var f = (notice.fields || []).filter(function (f) { return f.id === id; })[0];
      if (!f) return id;
      return f.category_text + (f.sensitive ? ' (' + T.sensitive + ')' : '');
    }).join(lang === 'en' ? ', ' : '、');
  }
  function purposeNames(ids) {
    return ids.map(function (id) { var p = purpose(id); return p ? p.name : id; }).join(lang === 'en' ? ', ' : '、');
  }

  function purposeRow(p, box) {
    var row = el('div', 'candor-purpose');
    var text = el('div', 'candor-ptext');
    var id = 'candor-p-' + p.id.replace(/[^\w-]/g, '-');
    var descs = [id + '-d'];
    var name = p.needs_consent ? el('label', 'candor-pname', p.name, { 'for': id }) : el('h4', 'candor-pname', p.name);
    text.appendChild(name);
    text.appendChild(el('p', 'candor-pdesc', p.description, { id: id + '-d' }));
    if (p.fields && p.fields.length) text.appendChild(el('p', 'candor-small', T.uses + fieldText(p.fields)));
    if (p.automated_decision) text.appendChild(el('p', 'candor-small', T.auto));
    if (!p.needs_consent) text.appendChild(el('p', 'candor-small candor-basis', p.basis_text));
    row.appendChild(text);
    if (!p.needs_consent) return box.appendChild(row);
    var input = el('input', 'candor-switch', '', { type: 'checkbox', role: 'switch', id: id, 'data-purpose': p.id });
    if (gpcDenies(p)) {
      input.disabled = true;
      text.appendChild(el('p', 'candor-small candor-gpc', T.gpcOff, { id: id + '-g' }));
      descs.push(id + '-g');
    }
    input.setAttribute('aria-describedby', descs.join(' '));
    row.appendChild(input);
    box.appendChild(row);
  }

  function section(parent, title, intro) {
    var s = el('section', 'candor-section');
    s.appendChild(el('h3', 'candor-h3', title));
    if (intro) s.appendChild(el('p', 'candor-small', intro));
    parent.appendChild(s);
    return s;
  }

  function build() {
    // Hidden by the attribute, so that it stays hidden before candor.css loads.
    var root = el('div', 'candor-root', '', { hidden: '' });
    var dlg = el('div', 'candor-dialog', '', { role: 'dialog', 'aria-modal': 'true', 'aria-labelledby': 'candor-title', 'aria-describedby': 'candor-intro', tabindex: '-1', lang: lang });
    var head = el('div', 'candor-head');
    var h = el('h2', 'candor-title', '', { id: 'candor-title' });
    var x = el('button', 'candor-close', '×', { type: 'button', 'aria-label': T.close });
    head.appendChild(h);
    head.appendChild(x);
    dlg.appendChild(head);
    var body = el('div', 'candor-body');
    body.appendChild(el('p', 'candor-intro', T.intro, { id: 'candor-intro' }));
    var normal = purposes().filter(function (p) { return p.needs_consent && !p.separate_consent; });
    var sep = purposes().filter(function (p) { return p.needs_consent && p.separate_consent; });
    var fixed = purposes().filter(function (p) { return !p.needs_consent; });
    if (normal.length) { var s1 = section(body, T.consent); s1.id = 'candor-consents'; normal.forEach(function (p) { purposeRow(p, s1); }); }
    if (sep.length) { var s2 = section(body, T.separate, T.sepIntro); s2.id = 'candor-separate'; s2.classList.add('candor-sep'); sep.forEach(function (p) { purposeRow(p, s2); }); }
    if (fixed.length) { var s3 = section(body, T.always); fixed.forEach(function (p) { purposeRow(p, s3); }); }
    var recs = notice.recipients || [];
    if (recs.length) {
      var s4 = section(body, T.recipients);
      var ul = el('ul', 'candor-recipients');
      recs.forEach(function (r) {
        var li = el('li', 'candor-recipient');
        li.appendChild(el('strong', '', r.name));
        var home = region((notice.organization || {}).country || r.country);
        li.appendChild(el('span', r.cross_border ? 'candor-badge candor-cross' : 'candor-badge', r.cross_border ? region(r.country) + ' · ' + fmt(T.cross, { country: home }) : fmt(T.local, { country: region(r.country) })));
        li.appendChild(el('p', 'candor-small', T.gets + fieldText(r.fields || [])));
        li.appendChild(el('p', 'candor-small', T.forp + purposeNames(r.purposes || [])));
        ul.appendChild(li);
      });
      s4.appendChild(ul);
    }
    var portal = el('a', 'candor-portal', T.portal, { href: api + '/privacy?lang=' + encodeURIComponent(lang) });
    body.appendChild(portal);
    dlg.appendChild(body);
    var foot = el('div', 'candor-foot');
    var err = el('p', 'candor-error', '', { role: 'alert', id: 'candor-error' });
    foot.appendChild(err);
    var note = el('p', 'candor-small candor-note', T.acceptNote, { id: 'candor-note' });
    foot.appendChild(note);
    var row = el('div', 'candor-buttons');
    var rej = el('button', 'candor-btn candor-main', T.reject, { type: 'button', id: 'candor-reject', 'aria-describedby': 'candor-note' });
    var acc = el('button', 'candor-btn candor-main', T.accept, { type: 'button', id: 'candor-accept', 'aria-describedby': 'candor-note' });
    var sav = el('button', 'candor-btn candor-save', T.save, { type: 'button', id: 'candor-save' });
    row.appendChild(rej); row.appendChild(acc); row.appendChild(sav);
    foot.appendChild(row);
    dlg.appendChild(foot);
    root.appendChild(dlg);

    var u = { root: root, dlg: dlg, title: h, close: x, err: err, open: false, prefs: false, last: null, busy: false };
    function inputs() { return Array.prototype.slice.call(dlg.querySelectorAll('input[data-purpose]')); }
    function choose(mode) {
      if (u.busy) return;
      var c = {};
      inputs().forEach(function (i) {
        var p = purpose(i.getAttribute('data-purpose'));
        var v = mode === 'all' ? (p.separate_consent ? i.checked : true) : mode === 'none' ? false : i.checked;
        c[p.id] = gpcDenies(p) ? false : v;
      });
      u.busy = true;
      err.textContent = '';
      record(c).then(function () { u.busy = false; hide(); }, function (e) {
        u.busy = false;
        err.textContent = T.failed;
        if (w.console) console.warn(e);
      });
    }
    rej.addEventListener('click', function () { choose('none'); });
    acc.addEventListener('click', function () { choose('all'); });
    sav.addEventListener('click', function () { choose('some'); });
    x.addEventListener('click', function () { hide(); });
    dlg.addEventListener('keydown', function (e) {
      if (e.key === 'Escape' && u.prefs) { e.preventDefault(); hide(); return; }
      if (e.key !== 'Tab') return;
      var f = Array.prototype.filter.call(dlg.querySelectorAll('button,input,a[href]'), function (n) { return !n.disabled && n.offsetParent !== null; });
      if (!f.length) return;
      var first = f[0], last = f[f.length - 1];
      if (e.shiftKey && (d.activeElement === first || d.activeElement === dlg)) { e.preventDefault(); last.focus(); }
      else if (!e.shiftKey && d.activeElement === last) { e.preventDefault(); first.focus(); }
    });
    // Focus that leaves the dialog (a click outside, a screen reader) comes back.
    d.addEventListener('focusin', function (e) { if (u.open && !dlg.contains(e.target)) dlg.focus(); });
    u.inputs = inputs;
    return u;
  }

  var cssReady = null;
  function css() {
    if (cssReady) return cssReady;
    cssReady = new Promise(function (ok) {
      var l = d.createElement('link');
      l.rel = 'stylesheet';
      l.href = new URL('candor.css', src).href;
      l.onload = l.onerror = ok;
      setTimeout(ok, 3000);
      (d.head || d.documentElement).appendChild(l);
    });
    return cssReady;
  }

  function show(prefs) {
    if (!notice) return;
    if (!ui) ui = build();
    var u = ui;
    // Before a first choice there is no closing the dialog: a choice is needed.
    prefs = prefs && decided();
    u.prefs = prefs;
    u.title.textContent = prefs ? T.prefs : fmt(T.title, { org: (notice.organization || {}).name || '' });
    u.close.hidden = !prefs;
    u.err.textContent = '';
    var cur = decided() ? saved.choices : saved && saved.choices ? saved.choices : {};
    u.inputs().forEach(function (i) {
      var p = purpose(i.getAttribute('data-purpose'));
      // Nothing is switched on in advance: only what the visitor chose before.
      i.checked = !gpcDenies(p) && cur[p.id] === true;
    });
    if (!u.open) {
      u.last = d.activeElement;
      u.open = true;
      if (!u.root.parentNode) d.body.appendChild(u.root);
      Array.prototype.forEach.call(d.body.children, function (n) {
        if (n !== u.root && !n.hasAttribute('inert')) { n.setAttribute('inert', ''); n.setAttribute('data-candor-inert', ''); }
      });
    }
    css().then(function () {
      if (!u.open) return;
      u.root.hidden = false;
      u.dlg.focus();
    });
    u.root.classList.toggle('candor-is-prefs', prefs);
  }
  function hide() {
    var u = ui;
    if (!u || !u.open) return;
    u.open = false;
    u.root.hidden = true;
    Array.prototype.forEach.call(d.querySelectorAll('[data-candor-inert]'), function (n) { n.removeAttribute('inert'); n.removeAttribute('data-candor-inert'); });
    if (u.last && u.last.focus && d.contains(u.last)) u.last.focus();
  }

  function start() {
    fetch(api + '/v1/notice?lang=' + encodeURIComponent(lang), { credentials: 'omit' }).then(function (r) {
      if (!r.ok) throw new Error('candor: notice: ' + r.status);
      return r.json();
    }).then(function (n) {
      notice = n;
      if (decided()) flush(); else show(false);
    }, function (e) {
      failed = true;
      if (w.console) console.warn(e);
      flush();
    }).then(function () {
      var fns = readyFns;
      readyFns = null;
      fns.forEach(function (f) { try { f(api_); } catch (e) { setTimeout(function () { throw e; }); } });
    });
  }

  var api_ = {
    version: VERSION,
    /** openPreferences opens the preferences dialog with the current choices. */
    openPreferences: function () {
      if (notice) show(true); else api_.ready(function () { show(true); });
    },
    /** track sends a track call when a purpose covering the event is allowed. */
    track: function (event, properties) { enqueue('track', String(event), properties, new Date().toISOString()); },
    /** page sends a page call ("Page Viewed") when a purpose covering it is allowed. */
    page: function (name, properties) {
      if (typeof name === 'object' && name) { properties = name; name = undefined; }
      enqueue('page', name, properties, new Date().toISOString());
    },
    /** identify names the signed-in user, with the identity token the shop's server
     *  made for them ({token}); only traits an allowed purpose covers are sent. */
    identify: function (id, traits, options) {
      userId = String(id);
      identity = (options && options.token) || null;
      enqueue('identify', userId, traits, new Date().toISOString());
    },
    /** consent returns the current choices: {decided, version, choices, subject_id, gpc}. */
    consent: function () {
      var ok = decided();
      var c = {};
      purposes().forEach(function (p) { if (p.needs_consent) c[p.id] = allows(p); });
      return { decided: ok, version: notice && notice.version, choices: c, subject_id: saved && saved.subject_id, receipt_id: saved && saved.receipt_id, gpc: gpc, anonymous_id: aid };
    },
    /** ready calls fn once the notice is loaded (or failed to load). */
    ready: function (fn) { if (readyFns) readyFns.push(fn); else fn(api_); },
    /** stats counts the calls sent, dropped for want of consent, failed and queued. */
    stats: function () { return { sent: stats.sent, dropped: stats.dropped, failed: stats.failed, queued: stats.queued }; }
  };
  w.candor = api_;
  if (d.readyState === 'loading') d.addEventListener('DOMContentLoaded', start); else start();
})(window, document);
