// Strait live view. Every value from the API is user input (object names,
// annotation values): it is only ever set with textContent, never parsed
// as markup.
'use strict';

(function () {
  const POLL_MS = 2000;
  let last = null;      // the last document received
  let lastOK = null;    // when it was received

  const byId = (id) => document.getElementById(id);

  function el(tag, cls, text) {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = String(text);
    return e;
  }

  // cell makes a table cell; col names it for tests and styling.
  function cell(col, content, cls) {
    const td = el('td', cls);
    td.dataset.col = col;
    if (content instanceof Node) td.appendChild(content);
    else if (Array.isArray(content)) content.forEach((c) => td.appendChild(c));
    else if (content !== undefined && content !== null) td.textContent = String(content);
    return td;
  }

  function row(cells, cls) {
    const tr = el('tr', cls);
    cells.forEach((c) => tr.appendChild(c));
    return tr;
  }

  function objectText(o) {
    return o.kind + ' ' + (o.namespace ? o.namespace + '/' : '') + o.name;
  }

  function lines(items, cls) {
    return items.map((t) => el('div', cls, t));
  }

  function badge(text, kind) {
    return el('span', 'badge ' + kind, text);
  }

  function fill(id, rows, emptyId) {
    const tbody = byId(id).tBodies[0];
    tbody.replaceChildren(...rows);
    byId(id).hidden = rows.length === 0 && !!emptyId;
    if (emptyId) byId(emptyId).hidden = rows.length !== 0;
  }

  function count(id, text) {
    byId(id).textContent = text;
  }

  function targetText(b) {
    if (b.backend) return b.backend;
    return 'answer ' + b.status;
  }

  function rate(v, r, field) {
    if (!v.traffic.available) return 'n/a';
    if (!r) return '…';
    return r[field].toFixed(2);
  }

  function renderGeneration(v) {
    const g = v.generation;
    let text = 'generation ' + g.number + (g.kind ? ' (' + g.kind + ')' : '');
    if (g.time && g.number > 0) text += ' at ' + new Date(g.time).toLocaleString();
    if (g.leader !== undefined) text += g.leader ? ' · leader' : ' · follower';
    byId('generation').textContent = text;
  }

  function renderSummary(v) {
    let routes = 0;
    v.hosts.forEach((h) => { routes += h.routes.length; });
    let endpoints = 0, ejected = 0;
    v.backends.forEach((b) => b.endpoints.forEach((e) => {
      endpoints++;
      if (e.state === 'ejected') ejected++;
    }));
    let expiring = 0;
    v.certificates.forEach((c) => { if (c.expiringSoon || c.expired || c.error) expiring++; });
    const items = [
      ['hosts', v.hosts.length, ''],
      ['routes', routes, ''],
      ['backends', v.backends.length, ''],
      ['endpoints', endpoints + (ejected ? ' (' + ejected + ' ejected)' : ''), ejected ? 'warn' : ''],
      ['certificates', v.certificates.length + (expiring ? ' (' + expiring + ' need attention)' : ''), expiring ? 'warn' : ''],
      ['problems', v.problems.length, v.problems.length ? 'bad' : 'ok'],
    ];
    byId('summary').replaceChildren(...items.map(([label, value, kind]) => {
      const li = el('li', kind);
      li.appendChild(el('span', 'value', value));
      li.appendChild(el('span', 'label', label));
      return li;
    }));
  }

  function renderProblems(v) {
    fill('problems', v.problems.map((p) => row([
      cell('object', objectText(p.object)),
      cell('field', p.field || ''),
      cell('reason', p.reason),
      cell('message', p.message),
    ])), 'problems-empty');
    count('problems-count', v.problems.length);
  }

  function canaryText(c) {
    if (!c) return [];
    const out = [];
    if (c.header) {
      let t = 'header ' + c.header;
      if (c.headerValue) t += ' = ' + c.headerValue;
      else if (c.headerPattern) t += ' ~ ' + c.headerPattern;
      out.push(t);
    }
    if (c.cookie) out.push('cookie ' + c.cookie);
    out.push('weight ' + c.weight + '/' + c.weightTotal);
    out.push('from ' + objectText(c.source));
    return out;
  }

  function routeBackends(bs, canary) {
    return bs.map((b) => {
      let t = targetText(b);
      if (b.canary) t = 'canary ' + t;
      if (canary || bs.length > 1) t += ' (' + b.weight + ')';
      return el('div', b.canary ? 'canary' : '', t);
    });
  }

  function renderRoutes(v) {
    const rows = [];
    let n = 0;
    v.hosts.forEach((h) => {
      let first = true;
      const hostCell = () => {
        const parts = [el('div', first ? 'host-name' : 'host-name repeat', h.name === '*' ? '* (any other host)' : h.name)];
        if (!first) return cell('host', parts);
        first = false;
        if (h.certificate) parts.push(el('div', 'muted small', 'TLS ' + h.certificate));
        h.aliases.forEach((a) => parts.push(el('div', 'muted small', 'alias ' + a)));
        h.policies.forEach((p) => parts.push(el('div', 'muted small', p)));
        return cell('host', parts);
      };
      h.routes.forEach((r) => {
        n++;
        const backends = r.status ? [el('div', '', 'answer ' + r.status)] : routeBackends(r.backends, r.canary);
        rows.push(row([
          hostCell(),
          cell('path', r.path, 'mono'),
          cell('match', r.match),
          cell('source', objectText(r.source)),
          cell('backend', backends),
          cell('canary', lines(canaryText(r.canary))),
          cell('policies', lines(r.policies, 'policy')),
          cell('rps', rate(v, r.traffic, 'requestsPerSecond'), 'num'),
          cell('errors', rate(v, r.traffic, 'errors5xxPerSecond'), 'num'),
        ]));
      });
      if (h.routes.length === 0 || h.name === '*') {
        rows.push(row([
          hostCell(),
          cell('path', h.routes.length ? '(no route matched)' : '(any path)', 'muted'),
          cell('match', 'default'),
          cell('source', ''),
          cell('backend', targetText(h.default)),
          cell('canary', ''),
          cell('policies', ''),
          cell('rps', ''),
          cell('errors', ''),
        ], 'default-row'));
      }
    });
    fill('routes', rows);
    count('routes-count', v.hosts.length + ' hosts, ' + n + ' routes');
    let note = 'request rates: not available (no per-route counters)';
    if (v.traffic.available) {
      note = v.traffic.windowSeconds > 0
        ? 'request rates over the last ' + v.traffic.windowSeconds.toFixed(1) + ' s'
        : 'request rates: measuring…';
    }
    byId('traffic-note').textContent = note;
  }

  function renderBackends(v) {
    const rows = [];
    v.backends.forEach((b) => {
      const head = () => [
        cell('backend', [el('div', 'mono', b.name)].concat(b.saturated ? [badge('breaker saturated', 'bad')] : [])),
        cell('protocol', b.protocol),
        cell('balance', b.balance),
        cell('inflight', b.inFlight + (b.pending ? ' +' + b.pending + ' waiting' : ''), 'num'),
      ];
      if (b.endpoints.length === 0) {
        rows.push(row(head().concat([
          cell('endpoint', 'none', 'muted'),
          cell('state', badge('no endpoints: 503', 'bad')),
          cell('failures', ''),
          cell('ejected', ''),
        ])));
        return;
      }
      b.endpoints.forEach((e) => {
        const kind = { healthy: 'ok', failing: 'warn', ejected: 'bad' }[e.state] || 'muted';
        rows.push(row(head().concat([
          cell('endpoint', e.address, 'mono'),
          cell('state', badge(e.state, kind)),
          cell('failures', e.consecutiveFailures, 'num'),
          cell('ejected', e.ejectedUntil ? new Date(e.ejectedUntil).toLocaleTimeString() : ''),
        ])));
      });
    });
    fill('backends', rows, 'backends-empty');
    count('backends-count', v.backends.length);
  }

  function renderCertificates(v) {
    fill('certificates', v.certificates.map((c) => {
      let status = badge('valid', 'ok');
      if (c.error) status = badge('unreadable: ' + c.error, 'bad');
      else if (c.expired) status = badge('expired', 'bad');
      else if (c.expiringSoon) status = badge('expires soon', 'warn');
      const names = (c.subject ? ['CN ' + c.subject] : []).concat(c.dnsNames);
      const secret = [el('div', 'mono', c.name)];
      if (c.default) secret.push(el('div', 'muted small', 'default certificate'));
      return row([
        cell('secret', secret),
        cell('names', lines(names)),
        cell('hosts', lines(c.hosts)),
        cell('expiry', c.error ? '' : c.notAfter.slice(0, 10) + ' ' + c.notAfter.slice(11, 16) + ' UTC', 'mono'),
        cell('days', c.error ? '' : c.daysLeft, 'num'),
        cell('status', status),
      ], c.expired || c.error ? 'row-bad' : c.expiringSoon ? 'row-warn' : '');
    }), 'certificates-empty');
    count('certificates-count', v.certificates.length);
  }

  function renderGateways(v) {
    const rows = [];
    v.gateways.forEach((g) => g.listeners.forEach((l) => {
      const listener = l.name + ' ' + l.protocol + ' :' + l.port;
      const base = () => [
        cell('gateway', g.name + (g.addresses.length ? ' ' + g.addresses.join(', ') : '')),
        cell('listener', [el('div', '', listener)].concat(l.certificates.map((c) => el('div', 'muted small', 'TLS ' + c)))),
        cell('hostname', l.hostname || '(any)'),
      ];
      if (l.rules.length === 0) {
        rows.push(row(base().concat([cell('route', 'no routes attached', 'muted'), cell('path', ''), cell('conditions', ''), cell('backend', ''), cell('policies', '')])));
      }
      l.rules.forEach((r) => {
        rows.push(row(base().concat([
          cell('route', [el('div', '', objectText(r.source))].concat(r.hostnames.map((h) => el('div', 'muted small', h)))),
          cell('path', r.match + ' ' + r.path, 'mono'),
          cell('conditions', lines(r.conditions)),
          cell('backend', r.backends.map((b) => el('div', '', targetText(b) + ' (' + b.weight + ')'))),
          cell('policies', lines(r.policies, 'policy')),
        ])));
      });
    }));
    fill('gateways', rows);
    byId('gateways-section').hidden = v.gateways.length === 0;
    count('gateways-count', v.gateways.length);
  }

  function applyFilter() {
    const q = byId('filter').value.trim().toLowerCase();
    document.querySelectorAll('tbody tr').forEach((tr) => {
      tr.hidden = q !== '' && !tr.textContent.toLowerCase().includes(q);
    });
  }

  function render(v) {
    renderGeneration(v);
    renderSummary(v);
    renderProblems(v);
    renderRoutes(v);
    renderBackends(v);
    renderCertificates(v);
    renderGateways(v);
    applyFilter();
  }

  function setBanner(message) {
    const b = byId('banner');
    b.textContent = message || '';
    b.hidden = !message;
    document.body.classList.toggle('stale', !!message);
  }

  async function poll() {
    try {
      const resp = await fetch('api', { cache: 'no-store', headers: { Accept: 'application/json' } });
      if (!resp.ok) throw new Error('HTTP ' + resp.status);
      const v = await resp.json();
      last = v;
      lastOK = new Date();
      render(v);
      byId('updated').textContent = 'last updated ' + lastOK.toLocaleTimeString();
      setBanner('');
    } catch (e) {
      let msg = 'Connection to Strait lost (' + e.message + '); retrying every ' + POLL_MS / 1000 + ' s.';
      if (lastOK) msg += ' The tables show the state of ' + lastOK.toLocaleTimeString() + '.';
      setBanner(msg);
    } finally {
      setTimeout(poll, POLL_MS);
    }
  }

  byId('filter').addEventListener('input', () => { if (last) applyFilter(); });
  poll();
})();
