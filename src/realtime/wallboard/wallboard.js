// The Pulse wallboard: the waiting line and the window's numbers of one team,
// live from the /analytics socket (API.md §5) and the public REST API. Set up
// entirely by its URL (README.md, "Wallboard"). Plain browser JavaScript, no build step.
(() => {
  const $ = (id) => document.getElementById(id);
  const params = new URLSearchParams(location.search);
  const WINDOW_HOURS = { '1h': 1, '24h': 24, '7d': 168, '30d': 720 };
  const WINDOW_LABEL = { '1h': 'last hour', '24h': 'last 24 h', '7d': 'last 7 days', '30d': 'last 30 days' };
  const PRIORITIES = ['urgent', 'high', 'medium', 'low'];
  const HOUR = 3_600_000;

  const settings = {
    window: params.get('window') || '24h',
    zone: params.get('timezone') || Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC',
    interval: Number(params.get('interval') || 10),
    slaTarget: params.has('sla_target') ? Number(params.get('sla_target')) : null,
    backlogMax: params.has('backlog_max') ? Number(params.get('backlog_max')) : null,
    filters: Object.fromEntries(
      ['priority', 'channel', 'category'].filter((d) => params.has(d)).map((d) => [d, params.getAll(d)]),
    ),
  };
  const filtered = Object.keys(settings.filters).length > 0;
  const priorities = settings.filters.priority ?? PRIORITIES;
  // 30 days of hours would be 720 bars: days read better from across the room.
  const granularity = settings.window === '30d' ? 'daily' : 'hourly';

  let token = params.get('token') || sessionStorage.getItem('pulse-token');
  let buckets = [];
  let lastUpdate = null;
  let connected = false;
  let refreshTimer;
  let refreshing = null;
  let trendsAt = 0;
  let refreshedAt = 0;
  const trends = { day: null, week: null };
  const current = { created: null, open: null, resolved: null };
  /** Why the numbers cannot be trusted right now, by source; none: live. */
  const problems = new Map();

  // ---- formatting -------------------------------------------------------
  const clockTime = (date) =>
    date.toLocaleTimeString('en-GB', {
      timeZone: settings.zone,
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    });
  const count = (n) => (n === null || n === undefined ? '–' : n.toLocaleString('en-US'));
  const duration = (hours) => {
    if (hours === null || hours === undefined) return '–';
    const minutes = Math.round(hours * 60);
    if (minutes < 60) return `${minutes} min`;
    if (minutes < 48 * 60) return `${Math.floor(minutes / 60)} h ${String(minutes % 60).padStart(2, '0')}`;
    return `${Math.floor(minutes / 1440)} d ${Math.floor((minutes % 1440) / 60)} h`;
  };
  const percent = (rate) =>
    rate === null || rate === undefined ? '–' : `${(Math.round(rate * 1000) / 10).toFixed(1)}%`;
  const delta = (now, before, label) => {
    if (now === null || before === null || before === undefined) return '';
    const d = now - before;
    const arrow = d > 0 ? '▲' : d < 0 ? '▼' : '=';
    return `<span title="${count(before)} ${label}">${arrow} ${count(Math.abs(d))} vs ${label}</span>`;
  };

  // ---- set-up from the URL ----------------------------------------------
  document.documentElement.dataset.theme = params.get('theme') === 'light' ? 'light' : 'dark';
  if (params.get('title')) {
    $('title').textContent = params.get('title');
    document.title = `${params.get('title')} · Pulse`;
  }
  const scope = Object.entries(settings.filters).map(([dimension, values]) => `${dimension}: ${values.join(', ')}`);
  $('scope').textContent = [...scope, settings.zone].join(' · ');
  for (const element of document.querySelectorAll('.counts .window'))
    element.textContent = WINDOW_LABEL[settings.window];
  $('chart-title').textContent =
    `Tickets created per ${granularity === 'daily' ? 'day' : 'hour'}, ${WINDOW_LABEL[settings.window]}`;
  if (filtered) $('sla-note').textContent = 'all tickets: SLA is not filtered';

  // ---- freshness --------------------------------------------------------
  function setProblem(source, reason) {
    if (reason) problems.set(source, reason);
    else problems.delete(source);
    const reasons = [...problems.values()];
    document.body.classList.toggle('stale', reasons.length > 0);
    $('problem').hidden = reasons.length === 0;
    $('problem').textContent = reasons.length ? `Numbers may be out of date: ${reasons.join('; ')}` : '';
    if ($('status').dataset.state !== 'unauthorized')
      setStatus(!connected ? 'reconnecting' : reasons.length ? 'stale' : 'connected');
  }
  function setStatus(state) {
    $('status').dataset.state = state;
    $('status').textContent = state;
  }
  function updated() {
    lastUpdate = Date.now();
    $('updated').textContent = `updated ${clockTime(new Date(lastUpdate))}`;
    setProblem('silence', null);
  }
  // A server that stops talking without closing the socket looks live; two missed intervals say otherwise.
  setInterval(() => {
    $('clock').textContent = clockTime(new Date());
    const silentFor = lastUpdate === null ? 0 : Date.now() - lastUpdate;
    if (connected && silentFor > 2 * settings.interval * 1000 + 1000)
      setProblem('silence', `no update for ${Math.round(silentFor / 1000)} s (expected every ${settings.interval} s)`);
  }, 1000);
  $('clock').textContent = clockTime(new Date());

  /** Why a token is refused, as far as the page can tell without the secret. */
  function tokenTrouble() {
    try {
      const claims = JSON.parse(atob(token.split('.')[1].replace(/-/g, '+').replace(/_/g, '/')));
      if (typeof claims.exp === 'number' && claims.exp * 1000 <= Date.now())
        return `The token expired at ${new Date(claims.exp * 1000).toLocaleString('en-GB', { timeZone: settings.zone })}.`;
      return 'The server does not accept this token (signed with another secret, or for no organization).';
    } catch {
      return 'This is not a token: a token is three dot-separated parts, eyJ….';
    }
  }
  function askForToken() {
    setStatus('unauthorized');
    sessionStorage.removeItem('pulse-token');
    $('login-reason').textContent = token ? tokenTrouble() : 'No token given.';
    $('login').hidden = false;
  }

  // ---- REST -------------------------------------------------------------
  /** The window ending at now rounded up to the minute (as `period` does, so boards share cache entries), moved back. */
  function range(shiftHours = 0) {
    const end = Math.ceil(Date.now() / 60_000) * 60_000 - shiftHours * HOUR;
    const start = end - WINDOW_HOURS[settings.window] * HOUR;
    return { start_date: new Date(start).toISOString(), end_date: new Date(end).toISOString() };
  }
  async function api(path, body) {
    const response = await fetch(`/api/v1/analytics/${path}`, {
      method: body ? 'POST' : 'GET',
      headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
    if (response.ok) return response.json();
    if (response.status === 401) {
      askForToken();
      throw new Error('the token was refused (401)');
    }
    if (response.status === 429) {
      const wait = response.headers.get('retry-after');
      throw new Error(`the server is rate limiting this board (429${wait ? `, retry in ${wait} s` : ''})`);
    }
    throw new Error(`the server answered ${response.status} to ${path.split('?')[0]}`);
  }
  /** Counts of the tickets created in a range that match the board's filters, by state, and their mean response. */
  async function counts(shiftHours) {
    const result = await api('aggregations', {
      metric_types: ['ticket_count', 'response_time'],
      ...range(shiftHours),
      timezone: settings.zone,
      granularity: 'daily',
      filters: settings.filters,
      group_by: ['status'],
    });
    const [tickets, response] = result.results;
    const byStatus = tickets.breakdown.status ?? {};
    const sum = (statuses) => statuses.reduce((n, s) => n + (byStatus[s] ?? 0), 0);
    return {
      created: tickets.total_count,
      open: sum(['open', 'in_progress', 'pending']),
      resolved: sum(['resolved', 'closed']),
      response: response.avg_value,
    };
  }
  async function refresh() {
    refreshedAt = Date.now();
    const query = new URLSearchParams({ ...range(), timezone: settings.zone });
    const [now, dashboard, performance] = await Promise.all([
      counts(0),
      api(`dashboard?${query}`),
      // Only the SLA rate is shown, exact either way; the sketches answer it without scanning the tickets.
      api(`performance?${query}&accuracy=approximate`),
    ]);
    // The previous windows change only when their minute moves on.
    if (Date.now() - trendsAt > 60_000) {
      [trends.day, trends.week] = await Promise.all([counts(24), counts(168)]);
      trendsAt = Date.now();
    }
    current.open = now.open;
    current.resolved = now.resolved;
    if (buckets.length === 0) current.created = now.created;
    $('avg-response').textContent = duration(now.response);
    renderSla(performance.sla_compliance_rate);
    renderQueue(dashboard.queue);
    renderCounts();
  }
  /** One refresh at a time; a request for one while it runs gets one more after it. */
  function scheduleRefresh(delay = 500) {
    clearTimeout(refreshTimer);
    refreshTimer = setTimeout(() => {
      if (refreshing) return scheduleRefresh(delay);
      refreshing = refresh()
        .then(
          () => setProblem('rest', null),
          (error) => setProblem('rest', error instanceof TypeError ? 'the server cannot be reached' : error.message),
        )
        .finally(() => (refreshing = null));
    }, delay);
  }

  // ---- rendering --------------------------------------------------------
  function renderCounts() {
    for (const key of ['created', 'open', 'resolved']) {
      $(key).textContent = count(current[key]);
      $(`${key}-trend`).innerHTML =
        delta(current[key], trends.day?.[key], 'yesterday') + delta(current[key], trends.week?.[key], 'last week');
    }
  }
  function renderSla(rate) {
    $('sla').textContent = percent(rate);
    const below = settings.slaTarget !== null && rate !== null && rate * 100 < settings.slaTarget;
    $('tile-sla').dataset.level = below ? 'red' : '';
  }
  /** The act-now row from the dashboard's `queue` (API.md §4.3), narrowed to the board's priorities. */
  function renderQueue(queue) {
    const tiles = ['breaching', 'at-risk', 'unanswered', 'oldest'];
    if (!queue) {
      for (const id of tiles) {
        $(id).textContent = 'n/a';
        $(`${id}-by`).innerHTML = '<li>not reported by this server</li>';
        $(`tile-${id}`).dataset.level = 'unavailable';
      }
      return;
    }
    const rows = priorities.map((p) => [p, queue.by_priority[p]]);
    const total = (field) => rows.reduce((n, [, q]) => n + q[field], 0);
    const oldest = (list) => {
      const known = list.map((q) => q.oldest_unanswered_hours).filter((h) => h !== null);
      return known.length ? Math.max(...known) : null;
    };
    const values = {
      breaching: total('breaching'),
      'at-risk': total('at_risk'),
      unanswered: total('unanswered'),
      oldest: oldest(rows.map(([, q]) => q)),
    };
    const fields = { breaching: 'breaching', 'at-risk': 'at_risk', unanswered: 'unanswered' };
    for (const id of tiles) {
      $(id).textContent = id === 'oldest' ? duration(values.oldest) : count(values[id]);
      $(`${id}-by`).innerHTML = rows
        .map(
          ([p, q]) => `<li>${p} ${id === 'oldest' ? duration(q.oldest_unanswered_hours) : count(q[fields[id]])}</li>`,
        )
        .join('');
    }
    $('tile-breaching').dataset.level = values.breaching > 0 ? 'red' : '';
    $('tile-at-risk').dataset.level = values['at-risk'] > 0 ? 'amber' : '';
    const overMax = settings.backlogMax !== null && values.unanswered > settings.backlogMax;
    $('tile-unanswered').dataset.level = overMax ? 'amber' : '';
    $('tile-oldest').dataset.level = values.breaching > 0 ? 'red' : '';
  }

  /** A y-axis step of 1, 2 or 5 times a power of ten giving about four lines. */
  function niceStep(max) {
    const rough = Math.max(1, max / 4);
    const power = 10 ** Math.floor(Math.log10(rough));
    return [1, 2, 5, 10].map((m) => m * power).find((step) => step >= rough);
  }
  /** Drawn in the SVG's own pixels (viewBox = its size), so text keeps its shape at any screen size. */
  function renderChart() {
    const svg = $('chart');
    const width = svg.clientWidth;
    const height = svg.clientHeight;
    if (!width || !height) return;
    const em = parseFloat(getComputedStyle(svg.querySelector('text') ?? svg).fontSize) || 16;
    const left = em * 3.2;
    const bottom = em * 1.8;
    const top = em * 0.8;
    const plotW = width - left - em * 0.5;
    const plotH = height - top - bottom;
    const max = Math.max(1, ...buckets.map((b) => b.count));
    const step = niceStep(max);
    const ceiling = Math.ceil(max / step) * step;
    const y = (v) => top + plotH - (v / ceiling) * plotH;
    const slot = plotW / Math.max(1, buckets.length);
    const labelEvery = Math.max(1, Math.ceil((em * 4.2) / slot));
    const parts = [];
    for (let v = 0; v <= ceiling; v += step) {
      parts.push(`<line x1="${left}" x2="${left + plotW}" y1="${y(v)}" y2="${y(v)}"/>`);
      parts.push(`<text class="y" x="${left - em * 0.4}" y="${y(v) + em * 0.35}" text-anchor="end">${count(v)}</text>`);
    }
    const label = (iso) =>
      granularity === 'daily'
        ? new Date(iso).toLocaleDateString('en-GB', { timeZone: settings.zone, day: 'numeric', month: 'short' })
        : new Date(iso).toLocaleTimeString('en-GB', { timeZone: settings.zone, hour: '2-digit', minute: '2-digit' });
    buckets.forEach((b, i) => {
      const now = i === buckets.length - 1;
      const x = left + i * slot;
      const h = plotH - (y(b.count) - top);
      parts.push(
        `<rect class="bar${now ? ' now' : ''}" x="${x + slot * 0.12}" y="${y(b.count)}" width="${Math.max(1, slot * 0.76)}" height="${h}"><title>${label(b.timestamp)}: ${b.count}</title></rect>`,
      );
      // Labels count back from the current bucket, so "now" always has one.
      if ((buckets.length - 1 - i) % labelEvery === 0) {
        const text = now ? 'now' : label(b.timestamp);
        const anchor = now ? 'end' : 'middle';
        const tx = now ? left + plotW : x + slot / 2;
        parts.push(
          `<text class="x${now ? ' now' : ''}" x="${tx}" y="${height - em * 0.4}" text-anchor="${anchor}">${text}</text>`,
        );
      }
    });
    svg.setAttribute('viewBox', `0 0 ${width} ${height}`);
    svg.innerHTML = parts.join('');
  }
  new ResizeObserver(renderChart).observe($('chart'));
  const createdInWindow = () => buckets.reduce((n, b) => n + b.count, 0);

  // ---- socket -----------------------------------------------------------
  function connect() {
    sessionStorage.setItem('pulse-token', token);
    const socket = io('/analytics', { auth: { token }, transports: ['websocket'] });
    socket.on('connect', () => {
      connected = true;
      setProblem('socket', null);
      socket.emit(
        'subscribe',
        {
          // Response and resolution times too: their updates say a ticket was answered or resolved.
          metrics: ['ticket_count', 'response_time', 'resolution_time'],
          interval: settings.interval,
          window: settings.window,
          granularity,
          timezone: settings.zone,
          filters: settings.filters,
        },
        (reply) => {
          if (!reply.ok) setProblem('subscribe', `the server refused this board's settings: ${reply.error}`);
        },
      );
      scheduleRefresh(0);
    });
    socket.on('connect_error', (error) => {
      connected = false;
      if (error.message === 'unauthorized') {
        askForToken();
        socket.disconnect();
      } else setProblem('socket', 'disconnected from the server; reconnecting');
    });
    socket.on('disconnect', (reason) => {
      connected = false;
      setProblem('socket', `disconnected from the server (${reason}); reconnecting`);
      // An instance shutting down sends its sockets away; socket.io does not retry that by itself.
      if (reason === 'io server disconnect') setTimeout(() => socket.connect(), 500 + Math.random() * 1500);
    });
    socket.on('exception', ({ message }) => {
      if (message === 'token expired') askForToken();
    });
    socket.on('subscription_data', ({ metrics }) => {
      setProblem('subscribe', null);
      buckets = metrics.ticket_count.data_points.map((p) => ({ timestamp: p.timestamp, count: p.count }));
      current.created = createdInWindow();
      updated();
      renderChart();
      renderCounts();
    });
    socket.on('periodic_update', ({ metrics, dashboard_snapshot: snapshot }) => {
      const latest = metrics.ticket_count;
      if (latest && buckets.length > 0) {
        const last = buckets[buckets.length - 1];
        if (last.timestamp === latest.timestamp) last.count = latest.count;
        else buckets = [...buckets.slice(1), { timestamp: latest.timestamp, count: latest.count }];
        current.created = createdInWindow();
      }
      renderQueue(snapshot.queue);
      updated();
      renderChart();
      renderCounts();
      // The window's counts move as it slides; a board that missed nothing refreshes them once a minute.
      if (Date.now() - refreshedAt > 60_000) scheduleRefresh();
    });
    socket.on('metric_update', (update) => {
      if (update.metric_type === 'ticket_count' && buckets.length > 0) {
        // Shown at once in the current bucket; the next periodic update puts it in its exact one.
        buckets[buckets.length - 1].count += update.value;
        current.created = createdInWindow();
        renderChart();
        renderCounts();
      }
      scheduleRefresh();
    });
  }

  $('login').addEventListener('submit', (event) => {
    event.preventDefault();
    token = $('token').value.trim();
    if (!token) return;
    $('login').hidden = true;
    setStatus('connecting');
    connect();
  });

  if (token) connect();
  else askForToken();
})();
