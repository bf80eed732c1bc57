// gregor's dashboard: read-only views of the JSON API and /metrics of the broker that serves
// it. Plain JavaScript, no build step; Chart.js (Debian's libjs-chart.js) draws the charts.
'use strict';

const refreshMs = 2000;
const chartPoints = 90;
const palette = ['#2f54eb', '#fa8c16', '#13c2c2', '#eb2f96'];

function el(tag, attrs, ...children) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
        if (k === 'class')
            e.className = v;
        else
            e.setAttribute(k, v);
    }
    for (const c of children)
        e.append(c instanceof Node ? c : document.createTextNode(String(c)));
    return e;
}

function fill(id, rows) { document.getElementById(id).replaceChildren(...rows); }

function ids(list) { return (list || []).join(', '); }
function time(ms) { return ms > 0 ? new Date(ms).toLocaleString() : '-'; }

async function getJson(path) {
    const r = await fetch(path, {cache: 'no-store'});
    const body = await r.json().catch(() => ({error: `${path}: HTTP ${r.status}`}));
    return {status: r.status, body};
}

function showCluster(c) {
    document.getElementById('served-by').textContent = `served by broker ${c.broker}`;
    const ctl = c.controller >= 0 ? `broker ${c.controller} (epoch ${c.controller_epoch})` : 'none';
    document.getElementById('controller').textContent = ctl;
    fill(
        'brokers',
        c.brokers.map(
            b =>
                el('tr', {'data-broker': b.id}, el('td', {}, b.id),
                   el('td', {}, `${b.host}:${b.port}`), el('td', {}, b.rack ?? '-'),
                   el('td', {},
                      b.id === c.controller ? el('span', {class: 'badge'}, 'controller') :
                                              'broker'))));
    fill(
        'epochs',
        c.controllers.slice().reverse().map(
            h =>
                el('tr', {}, el('td', {}, h.epoch), el('td', {}, `broker ${h.id}`),
                   el('td', {}, time(h.seen_ms)))));
    const shown = c.partitions.length < c.partitions_total ?
        ` (showing ${c.partitions.length}, problems first)` :
        '';
    document.getElementById('partition-summary').textContent =
        `${c.partitions_total} partitions in ${c.topics_total} ` +
        `topic${c.topics_total === 1 ? '' : 's'}: ` +
        `${c.under_replicated} under-replicated, ${c.offline} offline${shown}`;
    fill(
        'partitions',
        c.partitions.map(
            p =>
                el('tr', {class: p.state, 'data-topic': p.topic, 'data-partition': p.partition},
                   el('td', {}, p.topic), el('td', {}, p.partition), el('td', {}, p.leader),
                   el('td', {}, ids(p.replicas)), el('td', {}, ids(p.isr)),
                   el('td', {}, ids(p.offline_replicas)), el('td', {}, p.state))));
}

function showGroups(g) {
    if (g.status !== 200) {
        fill('groups', [el('tr', {}, el('td', {colspan: 6}, g.body.error || 'unavailable'))]);
        return;
    }
    fill(
        'groups',
        g.body.groups.map(
            x =>
                el('tr', {'data-group': x.group}, el('td', {}, x.group), el('td', {}, x.state),
                   el('td', {}, x.protocol || '-'), el('td', {}, x.members),
                   el('td', {}, x.lag ?? '-'),
                   el('td', {},
                      x.partitions
                          .map(
                              p => `${p.topic}-${p.partition}: ${p.committed}` +
                                  (p.lag === null ? '' : ` (lag ${p.lag})`))
                          .join('; ')))));
}

function showJournal(j) {
    const note = document.getElementById('journal-note');
    if (j.status !== 200) {
        const who = j.body.controller >= 0 ? `broker ${j.body.controller}` : 'no broker yet';
        note.textContent = `The decision journal is kept by the active controller (${who}); ` +
            'open the dashboard on its HTTP listener to read it.';
        fill('journal', []);
        return;
    }
    note.textContent = `${j.body.total} decisions since this controller started, ` +
        `${j.body.kept} kept; the newest first.`;
    fill(
        'journal',
        j.body.decisions.slice().reverse().map(
            d =>
                el('tr', {class: d.unclean ? 'offline' : ''}, el('td', {}, time(d.time_ms)),
                   el('td', {}, `${d.topic}-${d.partition}`),
                   el('td', {}, `${d.old_leader} \u2192 ${d.new_leader}`),
                   el('td', {}, `[${ids(d.old_isr)}] \u2192 [${ids(d.new_isr)}]`),
                   el('td', {}, `controller ${d.controller_epoch}, leader ${d.leader_epoch}`),
                   el('td', {}, d.reason))));
}

// The value of an unlabelled series, or of one with exactly `labels` (a "k=\"v\",..." text).
function sample(text, name, labels) {
    const head = labels ? `${name}{${labels}} ` : `${name} `;
    const at = text.indexOf('\n' + head);
    if (at < 0)
        return null;
    const line = text.slice(at + 1 + head.length, text.indexOf('\n', at + 1));
    return Number(line.trim().split(' ')[0]);
}

const charts = {};
let previous = null;

function makeChart(id, series, unit) {
    if (typeof Chart === 'undefined')
        return null;
    return new Chart(document.getElementById(id), {
        type: 'line',
        data: {
            labels: [],
            datasets: series.map((s, i) => ({
                                     label: s,
                                     data: [],
                                     borderColor: palette[i % palette.length],
                                     backgroundColor: palette[i % palette.length],
                                     pointRadius: 0,
                                     borderWidth: 1.5,
                                     yAxisID: s.startsWith('bytes') ? 'bytes' : 'y'
                                 }))
        },
        options: {
            animation: false,
            responsive: true,
            scales: {
                y: {beginAtZero: true, title: {display: true, text: unit}},
                ...(series.some(s => s.startsWith('bytes')) ? {
                    bytes: {
                        position: 'right',
                        beginAtZero: true,
                        title: {display: true, text: 'bytes/s'}
                    }
                } :
                                                              {})
            }
        },
    });
}

function push(chart, label, values) {
    if (!chart)
        return;
    chart.data.labels.push(label);
    chart.data.datasets.forEach((d, i) => d.data.push(values[i]));
    if (chart.data.labels.length > chartPoints) {
        chart.data.labels.shift();
        chart.data.datasets.forEach(d => d.data.shift());
    }
    chart.update();
}

function showMetrics(text, now) {
    const counters = {
        records: sample(text, 'kafka_server_brokertopicmetrics_messagesin_total'),
        bytesIn: sample(text, 'kafka_server_brokertopicmetrics_bytesin_total'),
        bytesOut: sample(text, 'kafka_server_brokertopicmetrics_bytesout_total'),
    };
    const p99 = api => sample(
        text, 'kafka_network_requestmetrics_totaltimems', `quantile="0.99",request="${api}"`);
    const label = new Date(now).toLocaleTimeString();
    if (previous) {
        const s = (now - previous.now) / 1000;
        const rate = k => (counters[k] === null || previous.c[k] === null) ?
            null :
            Math.max(0, (counters[k] - previous.c[k]) / s);
        push(charts.throughput, label, [rate('records'), rate('bytesIn'), rate('bytesOut')]);
    }
    push(charts.latency, label, [p99('Produce'), p99('FetchConsumer'), p99('FetchFollower')]);
    previous = {now, c: counters};
}

async function refresh() {
    try {
        const [cluster, groups, journal] = await Promise.all([
            getJson('/api/cluster?limit=500'), getJson('/api/groups'),
            getJson('/api/journal?limit=200')
        ]);
        if (cluster.status === 200)
            showCluster(cluster.body);
        showGroups(groups);
        showJournal(journal);
        const m = await fetch('/metrics', {cache: 'no-store'});
        if (m.ok)
            showMetrics('\n' + await m.text(), Date.now());
        document.getElementById('updated').textContent =
            `updated ${new Date().toLocaleTimeString()}`;
    } catch (e) {
        document.getElementById('updated').textContent = `broker unreachable (${e.message})`;
    }
}

charts.throughput =
    makeChart('chart-throughput', ['records in/s', 'bytes in/s', 'bytes out/s'], 'records/s');
charts.latency =
    makeChart('chart-latency', ['Produce p99', 'FetchConsumer p99', 'FetchFollower p99'], 'ms');
if (!charts.throughput) {
    document.getElementById('charts-note').textContent =
        'Charts need chart.min.js, which is missing.';
}
refresh();
setInterval(refresh, refreshMs);
