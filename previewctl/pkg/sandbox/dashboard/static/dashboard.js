// Live updates for the dashboard. The server renders every fragment; this
// script only swaps in the sections that changed, keeping open logs open.
(function () {
  'use strict';
  var main = document.getElementById('main');
  var status = document.getElementById('live-status');
  if (!main || !status) { return; }

  function say(state, text) {
    status.dataset.state = state;
    status.textContent = text;
  }

  // Logs are fetched when opened (server-rendered too), and fetched again
  // while open whenever the page changes, so a running log grows.
  function loadLog(d) {
    var body = d.querySelector('.logbody');
    if (!body || !d.dataset.logUrl) { return; }
    fetch(d.dataset.logUrl, { cache: 'no-store' })
      .then(function (r) { if (!r.ok) { throw new Error('HTTP ' + r.status); } return r.text(); })
      .then(function (html) { body.innerHTML = html; d.dataset.loaded = '1'; })
      .catch(function (e) { body.textContent = 'Could not load the log: ' + e.message; });
  }
  // toggle does not bubble; a capturing listener still sees it.
  document.addEventListener('toggle', function (ev) {
    if (ev.target.matches && ev.target.matches('details[data-log-url]') && ev.target.open) { loadLog(ev.target); }
  }, true);

  function apply(html) {
    var tpl = document.createElement('template');
    tpl.innerHTML = html;
    var open = {};
    main.querySelectorAll('details[open][id]').forEach(function (d) { open[d.id] = d; });
    var reload = [];
    tpl.content.querySelectorAll('details[id]').forEach(function (d) {
      var was = open[d.id];
      if (!was) { return; }
      d.open = true;
      // Keep what was shown until the fresh copy arrives: no flicker.
      var oldBody = was.querySelector('.logbody'), newBody = d.querySelector('.logbody');
      if (oldBody && newBody) { newBody.innerHTML = oldBody.innerHTML; }
      reload.push(d.id);
    });
    var sections = tpl.content.querySelectorAll('section[id]');
    sections.forEach(function (next) {
      var cur = document.getElementById(next.id);
      if (!cur) { main.appendChild(next); return; }
      cur.hidden = next.hidden;
      // Replace the children, not the section: a live region must stay the
      // same element for screen readers to announce what changed in it.
      if (cur.innerHTML !== next.innerHTML) {
        cur.replaceChildren.apply(cur, Array.prototype.slice.call(next.childNodes));
      }
    });
    reload.forEach(function (id) { var d = document.getElementById(id); if (d) { loadLog(d); } });
    document.body.dataset.updates = String(Number(document.body.dataset.updates || 0) + 1);
    say('live', 'Live: updated ' + new Date().toLocaleTimeString() + '.');
  }

  // Without EventSource, poll the same fragment.
  if (!window.EventSource) {
    var poll = function () {
      fetch(main.dataset.fragmentUrl, { cache: 'no-store' })
        .then(function (r) { if (!r.ok) { throw new Error(r.status); } return r.text(); })
        .then(apply)
        .catch(function () { say('lost', 'Updates paused: the sandbox does not answer.'); })
        .finally(function () { setTimeout(poll, 2000); });
    };
    say('connecting', 'Updates: polling…');
    poll();
    return;
  }

  say('connecting', 'Updates: connecting…');
  var es = new EventSource(main.dataset.eventsUrl);
  es.addEventListener('open', function () { say('live', 'Live: connected.'); });
  es.addEventListener('fragment', function (ev) { apply(ev.data); });
  es.addEventListener('error', function () {
    // EventSource reconnects by itself; say so rather than go quiet.
    say('lost', 'Updates paused: reconnecting to the sandbox…');
  });
})();
