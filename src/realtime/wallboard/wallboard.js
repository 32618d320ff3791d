// The Pulse wallboard: live numbers from the /analytics socket, plus the
// backlog and SLA figures from the REST API, refreshed when the socket says
// something changed. Plain browser JavaScript, no build step.
(() => {
  const zone = Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
  const $ = (id) => document.getElementById(id);
  const params = new URLSearchParams(location.search);
  let token = params.get('token') || sessionStorage.getItem('pulse-token');
  let hourly = [];
  let refreshTimer;

  $('zone').textContent = zone;
  const setStatus = (state) => {
    $('status').dataset.state = state;
    $('status').textContent = state;
  };
  const hours = (h) => (h === null || h === undefined ? '–' : `${h.toFixed(1)} h`);
  const percent = (r) => (r === null || r === undefined ? '–' : `${Math.round(r * 1000) / 10}%`);
  const localDay = (iso) => new Date(iso).toLocaleDateString('en-CA', { timeZone: zone });

  function render() {
    const today = localDay(new Date().toISOString());
    $('created-today').textContent = String(
      hourly.filter((p) => localDay(p.timestamp) === today).reduce((n, p) => n + p.count, 0),
    );
    const max = Math.max(1, ...hourly.map((p) => p.count));
    const width = 960 / Math.max(1, hourly.length);
    $('chart').innerHTML = hourly
      .map((p, i) => {
        const h = (p.count / max) * 210;
        const label =
          i % 3 === 0
            ? `<text x="${i * width + 2}" y="238">${new Date(p.timestamp).toLocaleTimeString([], { hour: '2-digit', timeZone: zone })}</text>`
            : '';
        return `<rect x="${i * width + 2}" y="${220 - h}" width="${width - 4}" height="${h}"><title>${p.count}</title></rect>${label}`;
      })
      .join('');
  }

  async function refreshRest() {
    const headers = { authorization: `Bearer ${token}` };
    const query = `period=24h&timezone=${encodeURIComponent(zone)}`;
    try {
      const [dashboard, performance] = await Promise.all([
        fetch(`/api/v1/analytics/dashboard?${query}`, { headers }).then((r) => (r.ok ? r.json() : null)),
        fetch(`/api/v1/analytics/performance?${query}&accuracy=approximate`, { headers }).then((r) =>
          r.ok ? r.json() : null,
        ),
      ]);
      if (dashboard) {
        $('backlog').textContent = String(dashboard.current_backlog);
        $('open').textContent = String(dashboard.open_tickets);
        $('avg-response').textContent = hours(dashboard.avg_response_time_hours);
      }
      if (performance) {
        $('sla').textContent = percent(performance.sla_compliance_rate);
        $('p95').textContent = hours(performance.response_time_p95);
      }
    } catch {
      // The next update tries again.
    }
  }
  const scheduleRefresh = () => {
    clearTimeout(refreshTimer);
    refreshTimer = setTimeout(refreshRest, 500);
  };

  function connect() {
    sessionStorage.setItem('pulse-token', token);
    const socket = io('/analytics', { auth: { token }, transports: ['websocket'] });
    socket.on('connect', () => {
      setStatus('connected');
      socket.emit(
        'subscribe',
        {
          metrics: ['ticket_count', 'response_time'],
          interval: 5,
          window: '24h',
          granularity: 'hourly',
          timezone: zone,
        },
        () => undefined,
      );
      void refreshRest();
    });
    socket.on('connect_error', (error) => {
      if (error.message === 'unauthorized') {
        setStatus('unauthorized');
        sessionStorage.removeItem('pulse-token');
        $('login').hidden = false;
      } else setStatus('reconnecting');
    });
    socket.on('disconnect', (reason) => {
      setStatus('reconnecting');
      // An instance shutting down sends its sockets away; socket.io does not retry that by itself.
      if (reason === 'io server disconnect') setTimeout(() => socket.connect(), 500 + Math.random() * 1500);
    });
    socket.io.on('reconnect_attempt', () => setStatus('reconnecting'));
    socket.on('subscription_data', ({ metrics }) => {
      hourly = metrics.ticket_count.data_points;
      render();
    });
    socket.on('periodic_update', ({ metrics, dashboard_snapshot: snapshot }) => {
      const latest = metrics.ticket_count;
      if (latest) {
        const last = hourly[hourly.length - 1];
        if (last && last.timestamp === latest.timestamp) Object.assign(last, latest);
        else hourly = [...hourly.slice(1), latest];
      }
      $('open').textContent = String(snapshot.open_tickets);
      $('avg-response').textContent = hours(snapshot.avg_response_time_hours);
      render();
      scheduleRefresh();
    });
    socket.on('metric_update', (update) => {
      if (update.metric_type === 'ticket_count' && hourly.length > 0) {
        // Shown at once in the current hour; the next periodic update puts it in its exact bucket.
        hourly[hourly.length - 1].count += update.count;
        render();
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
  else {
    setStatus('unauthorized');
    $('login').hidden = false;
  }
})();
