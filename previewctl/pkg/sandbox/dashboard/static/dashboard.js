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

  function apply(html) {
    var tpl = document.createElement('template');
    tpl.innerHTML = html;
    var open = {};
    main.querySelectorAll('details[open][id]').forEach(function (d) { open[d.id] = true; });
    tpl.content.querySelectorAll('details[id]').forEach(function (d) {
      if (open[d.id]) { d.open = true; }
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
