/* shop.js: the demo shop's page, a user of candor.js like any shop. */
(function (w, d) {
  'use strict';
  var candor = w.candor;
  var log = d.getElementById('sdk-log');
  var words = log.dataset;
  var counts = { sent: 0, dropped: 0 };
  var cart = 0;

  function product(btn) {
    var li = btn.closest('.shop-product');
    var p = li.dataset;
    return { product_id: p.id, sku: p.sku, category: p.category, name: p.name, brand: p.brand, price: Number(p.price), currency: 'CNY' };
  }

  // The panel: what candor.js sent to Candor, and what it dropped.
  function note(kind, text, detail) {
    var li = d.createElement('li');
    li.className = 'shop-log-' + kind;
    var tag = d.createElement('strong');
    tag.textContent = words[kind] || kind;
    li.appendChild(tag);
    li.appendChild(d.createTextNode(' ' + text + (detail ? ' (' + detail + ')' : '')));
    log.insertBefore(li, log.firstChild);
    while (log.children.length > 30) log.removeChild(log.lastChild);
    if (counts[kind] !== undefined) {
      counts[kind]++;
      d.getElementById('count-' + kind).textContent = counts[kind];
    }
  }
  function label(e) { return e.type === 'identify' ? 'identify' : e.event; }
  w.addEventListener('candor:sent', function (e) { note('sent', label(e.detail)); });
  w.addEventListener('candor:dropped', function (e) {
    note('dropped', label(e.detail), e.detail.reason === 'no consent' ? words.noConsent : e.detail.reason);
  });
  w.addEventListener('candor:failed', function (e) { note('failed', label(e.detail), String(e.detail.status || '')); });
  w.addEventListener('candor:consent', function (e) {
    var c = e.detail.choices, on = Object.keys(c).filter(function (k) { return c[k]; });
    note('consent', on.length ? on.join(', ') : '—');
  });

  // The cart's count and its noun: "1 item", "2 items" (the page gives
  // the words for one and for more; in Chinese they are the same).
  function showCart() {
    var unit = d.getElementById('cart-unit');
    d.getElementById('cart-count').textContent = cart;
    unit.textContent = cart === 1 ? unit.dataset.singular : unit.dataset.plural;
  }

  d.getElementById('products').addEventListener('click', function (e) {
    var btn = e.target.closest('button');
    if (!btn) return;
    if (btn.classList.contains('shop-view')) {
      btn.closest('.shop-product').classList.toggle('shop-viewed');
      candor.track('Product Viewed', product(btn));
    } else if (btn.classList.contains('shop-add')) {
      var p = product(btn);
      p.quantity = 1;
      p.cart_id = 'demo-cart';
      cart++;
      showCart();
      candor.track('Product Added', p);
    }
  });

  d.getElementById('search').addEventListener('submit', function (e) {
    e.preventDefault();
    var q = d.getElementById('search-q').value.trim();
    var shown = 0;
    Array.prototype.forEach.call(d.querySelectorAll('.shop-product'), function (li) {
      var hit = !q || li.dataset.name.toLowerCase().indexOf(q.toLowerCase()) >= 0 || li.dataset.category.indexOf(q.toLowerCase()) >= 0;
      li.hidden = !hit;
      if (hit) shown++;
    });
    d.getElementById('no-match').hidden = shown > 0;
    if (q) candor.track('Products Searched', { query: q });
  });

  d.getElementById('signin').addEventListener('submit', function (e) {
    e.preventDefault();
    var form = e.target;
    var user = d.getElementById('signin-user').value.trim();
    var email = d.getElementById('signin-email').value.trim();
    if (!user) return;
    // The shop's server signs the customer in, records the e-mail, and
    // gives the page the identity token the SDK needs to name the user.
    var body = new URLSearchParams({ csrf: form.dataset.csrf, user: user, email: email, anonymous_id: candor.consent().anonymous_id || '' });
    fetch('/demo/signin', { method: 'POST', body: body, credentials: 'same-origin' }).then(function (r) {
      return r.json().then(function (j) { return { ok: r.ok, j: j }; });
    }).then(function (res) {
      if (!res.ok) { d.getElementById('signed-in-user').textContent = res.j.error || 'error'; d.getElementById('signed-in').hidden = false; return; }
      candor.identify(res.j.user, {}, { token: res.j.token });
      d.getElementById('signed-in-user').textContent = res.j.user;
      d.getElementById('signed-in').hidden = false;
    });
  });

  d.getElementById('open-preferences').addEventListener('click', function (e) {
    e.preventDefault();
    candor.openPreferences();
  });

  log.appendChild(d.createElement('li')).textContent = words.empty;
  log.firstChild.className = 'shop-log-empty';
  w.addEventListener('candor:sent', clearEmpty);
  w.addEventListener('candor:dropped', clearEmpty);
  w.addEventListener('candor:consent', clearEmpty);
  function clearEmpty() {
    var e = log.querySelector('.shop-log-empty');
    if (e) log.removeChild(e);
  }

  candor.page();
})(window, document);
