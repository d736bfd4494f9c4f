(function () {
'use strict';
var D = JSON.parse(document.getElementById('pt-data').textContent);
var STR = D.strings;
var SVGNS = 'http://www.w3.org/2000/svg';
var KIND_NAMES = ['pool', 'glibc'];
var LEAK_NAMES = ['definitely lost', 'indirectly lost', 'still reachable'];

/* the stacks (html_data.c's put_stacks): node k > 0 of the call tree is
 * under PARENT[k], its frame FRAME[k] (an index in D.stacks.frames, [name,
 * where] pairs flat); node 0 is the root.  SITE_NODE[i]: the node of the
 * stack i of D.sites (and of D.range.steps). */
var PARENT = [-1], FRAME = [-1], SITE_NODE = [];
(function () {
	var at = 0, node = 0;
	D.stacks.tree.forEach(function (x) {
		if (x < 0) {
			for (; x < 0; x++) at = PARENT[at];
			return;
		}
		PARENT.push(at);
		FRAME.push(x);
		at = PARENT.length - 1;
	});
	D.sites.node.forEach(function (d) { SITE_NODE.push(node += d); });
})();
function frameName(k) { return STR[D.stacks.frames[2 * FRAME[k]]]; }
function frameWhere(k) { return STR[D.stacks.frames[2 * FRAME[k] + 1]]; }

/* ---- helpers ---- */
function $(id) { return document.getElementById(id); }
function add(parent, child) { parent.appendChild(child); return child; }
function el(tag, cls, text) {
	var e = document.createElement(tag);
	if (cls) e.className = cls;
	if (text !== undefined) e.textContent = text;
	return e;
}
function sv(parent, tag, attrs, text) {
	var e = document.createElementNS(SVGNS, tag);
	for (var k in attrs) e.setAttribute(k, attrs[k]);
	if (text !== undefined) e.textContent = text;
	return add(parent, e);
}
function fmtBytes(b) {
	if (b < 1024) return Math.round(b) + ' B';
	var units = ['KiB', 'MiB', 'GiB', 'TiB'], v = b / 1024, u = 0;
	while (v >= 1024 && u < 3) { v /= 1024; u++; }
	return v.toFixed(v < 10 ? 2 : v < 100 ? 1 : 0) + ' ' + units[u];
}
function fmtCount(n) {
	return Math.round(n).toString().replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}
/* as the text reports write times: 1.234 s, 308.949 ms, 412.3 \u00b5s */
function fmtTime(ns) {
	if (ns >= 1e9) return (ns / 1e9).toFixed(3) + ' s';
	if (ns >= 1e6) return (ns / 1e6).toFixed(3) + ' ms';
	if (ns >= 1e3) return (ns / 1e3).toFixed(1) + ' \u00b5s';
	return ns ? ns + ' ns' : '0 s';
}
function pct(a, b) { return b ? (100 * a / b).toFixed(1) + '%' : '-'; }
function sum(a) { return a.reduce(function (s, x) { return s + x; }, 0); }
function basename(p) { return p.slice(p.lastIndexOf('/') + 1); }
function widthOf(box) { return Math.max(320, box.clientWidth || 1000); }

/* a deterministic hue in [lo, lo + span) for a name */
function hue(name, lo, span) {
	var h = 0;
	for (var i = 0; i < name.length; i++) h = (h * 31 + name.charCodeAt(i)) >>> 0;
	return lo + h % span;
}

/* ---- tooltip ---- */
var tip = add(document.body, el('div', 'tip'));
function showTip(ev, lines) {
	tip.textContent = '';
	lines.forEach(function (l) { add(tip, el('div', '', l)); });
	tip.style.display = 'block';
	var x = ev.clientX + 14, y = ev.clientY + 14;
	var w = tip.offsetWidth, h = tip.offsetHeight;
	if (x + w > window.innerWidth - 4) x = ev.clientX - w - 14;
	if (y + h > window.innerHeight - 4) y = ev.clientY - h - 14;
	tip.style.left = Math.max(4, x) + 'px';
	tip.style.top = Math.max(4, y) + 'px';
}
function hideTip() { tip.style.display = 'none'; }

/* ---- axes from 0 to max (rounded up to a tick unless tight): ticks at 1,
 * 2 or 5 times a power of ten of a unit ---- */
function axis(kind, max, tight) {
	var unit = 1, name = '';
	if (kind === 'bytes') {
		var names = ['B', 'KiB', 'MiB', 'GiB', 'TiB'], k = 0;
		while (k < 4 && max >= Math.pow(1024, k + 1)) k++;
		unit = Math.pow(1024, k);
		name = names[k];
	} else if (kind === 'time') {
		var t = max >= 1e9 ? [1e9, 's'] : max >= 1e6 ? [1e6, 'ms'] :
			max >= 1e3 ? [1e3, '\u00b5s'] : [1, 'ns'];
		unit = t[0];
		name = t[1];
	}
	if (!(max > 0)) max = unit;
	var raw = max / unit / 5, p = Math.pow(10, Math.floor(Math.log10(raw))), m = raw / p;
	var step = (m <= 1 ? 1 : m <= 2 ? 2 : m <= 5 ? 5 : 10) * p;
	if (kind === 'count' && step < 1) step = 1;
	var steps = max / unit / step, ticks = [];
	var n = tight ? Math.floor(steps + 1e-9) : Math.ceil(steps - 1e-9);
	for (var i = 0; i <= n; i++) ticks.push(i * step * unit);
	return {
		max: tight ? max : n * step * unit,
		ticks: ticks,
		label: function (v) {
			var x = +(v / unit).toPrecision(6);
			if (!x) return '0';
			if (kind !== 'count') return x + ' ' + name;
			return x >= 1e6 ? +(x / 1e6).toPrecision(4) + 'M' :
				x >= 1e3 ? +(x / 1e3).toPrecision(4) + 'k' : String(x);
		}
	};
}

/* gridlines and labels of a y axis over the plot [ml, ml + pw] x [mt, mt + ph] */
function yAxis(s, ya, ml, mt, pw, ph) {
	ya.ticks.forEach(function (v) {
		var y = mt + ph - ph * v / ya.max;
		sv(s, 'line', { x1: ml, x2: ml + pw, y1: y, y2: y,
			'class': v ? 'gridline' : 'axis' });
		sv(s, 'text', { x: ml - 6, y: y + 4, 'text-anchor': 'end' }, ya.label(v));
	});
}

/* Delegated hover and click over the children of an svg carrying data-i. */
function hover(s, tipOf, click) {
	function idx(ev) {
		var g = ev.target.closest('[data-i]');
		return g ? +g.getAttribute('data-i') : -1;
	}
	s.addEventListener('mousemove', function (ev) {
		var i = idx(ev);
		if (i < 0) hideTip();
		else showTip(ev, tipOf(i));
	});
	s.addEventListener('mouseleave', hideTip);
	if (click) s.addEventListener('click', function (ev) {
		var i = idx(ev);
		if (i >= 0) click(i);
	});
}

function legend(parent, items) {
	var d = add(parent, el('div', 'bar'));
	items.forEach(function (it) {
		var s = add(d, el('span'));
		add(s, el('span', 'swatch')).style.background = it[1];
		add(s, document.createTextNode(it[0]));
	});
}

/*
 * A column chart: o.labels, o.series [{name, color, values}] stacked,
 * o.kind of the y axis ('bytes' or 'count'), o.xname under the x axis,
 * o.tip(i) the tooltip lines of column i.
 */
function columns(parent, o) {
	var n = o.labels.length, W = widthOf(parent), H = 220;
	var ml = 72, mr = 10, mt = 10, mb = 34, pw = W - ml - mr, ph = H - mt - mb;
	var tot = o.labels.map(function (_, i) {
		return sum(o.series.map(function (se) { return se.values[i]; }));
	});
	var ya = axis(o.kind, Math.max.apply(null, tot.concat([0])));
	var s = sv(parent, 'svg', { width: W, height: H, 'class': 'chart' });
	yAxis(s, ya, ml, mt, pw, ph);
	var bw = pw / Math.max(n, 1), every = Math.ceil(n * 46 / pw);
	o.labels.forEach(function (label, i) {
		var g = sv(s, 'g', { 'data-i': i }), y = mt + ph, x = ml + i * bw;
		sv(g, 'rect', { x: x, y: mt, width: bw, height: ph, fill: 'transparent' });
		o.series.forEach(function (se) {
			var h = ph * se.values[i] / ya.max;
			y -= h;
			if (h > 0) sv(g, 'rect', { x: x + bw * 0.12, y: y, width: Math.max(1, bw * 0.76),
			                           height: h, fill: se.color });
		});
		if (i % every === 0)
			sv(s, 'text', { x: x + bw / 2, y: mt + ph + 15, 'text-anchor': 'middle' }, label);
	});
	sv(s, 'text', { x: ml + pw / 2, y: H - 3, 'text-anchor': 'middle' }, o.xname);
	hover(s, o.tip);
	if (o.series.length > 1)
		legend(parent, o.series.map(function (se) { return [se.name, se.color]; }));
}

/* the frames of a table row or pinned block: r.f, [name, where] innermost
 * first, of r.nf */
function frameText(f) {
	var w = STR[f[1]];
	return STR[f[0]] + (w ? '  (' + w + ')' : '');
}
function stackCell(td, r, shown) {
	if (!r.f.length) {
		add(td, el('span', 'fn', '(stack not recorded)'));
		return;
	}
	r.f.slice(0, shown).forEach(function (f, i) {
		var line = add(td, el('div'));
		add(line, el('span', 'fn', (i ? '\u2190 ' : '') + STR[f[0]]));
		if (STR[f[1]]) add(line, el('span', 'loc', '  ' + basename(STR[f[1]])));
	});
	if (r.nf > shown) add(td, el('div', 'more', '+ ' + (r.nf - shown) + ' more frames'));
	td.title = r.f.map(frameText).join('\n') + (r.nf > r.f.length ? '\n...' : '');
}

/* ---- summary ---- */
function notices() {
	var box = $('notices');
	box.textContent = '';
	if (D.stop)
		add(box, el('div', 'notice', 'This trace is cut short: ' + D.stop +
			'. The figures cover what was read.'));
	else if (!D.ended)
		add(box, el('div', 'notice', 'No end record: the program did not exit normally ' +
			'(killed, or still running). The figures cover what was written.'));
	if (D.sample)
		add(box, el('div', 'notice', 'Sampled trace (one allocation per ' +
			fmtBytes(D.sample) + ' on average): sizes and counts are estimates.'));
}

/* how the peak was found and when: the words of the text reports (peak.c) */
function peakHow() {
	var P = D.peak, exact = 'exact (every event recorded)';
	switch (P.when) {
	case 'between': return exact + ', reached between the snapshots at ' + fmtTime(P.after) +
		' and ' + fmtTime(P.time);
	case 'before_first': return exact + ', reached before the first snapshot, which is at ' +
		fmtTime(P.time);
	case 'after_last': return exact + ', reached after the last snapshot, at ' +
		fmtTime(P.time) + ' (the trace ends there)';
	case 'snapshot': return 'estimated (sampled trace): the snapshot with the most live ' +
		'bytes, pool blocks and glibc\u2019s in use';
	}
	return exact + ', at no known time: the trace has no snapshot';
}

function kv(parent, rows) {
	var t = add(parent, el('table', 'kv'));
	rows.forEach(function (r) {
		var tr = add(t, el('tr'));
		add(tr, el('th', '', r[0]));
		add(tr, el('td', r[2] || '', r[1]));
	});
}

/* an argument as a shell would need it */
function shellQuote(a) {
	return /^[\w.\/:=,+-]+$/.test(a) ? a : "'" + a.replace(/'/g, "'\\''") + "'";
}

function renderSummary(box) {
	document.title = 'pooltrace: ' + (basename(D.exe) || 'report');
	$('title').textContent = 'pooltrace \u2014 ' + (basename(D.exe) || D.path);
	$('footer').textContent = 'pooltrace html \u2014 ' + D.path;
	notices();
	var k = D.kinds, nall = k[0].n + k[1].n, bytes = k[0].bytes + k[1].bytes;
	var live = k[0].live + k[1].live, liven = k[0].live_n + k[1].live_n;
	var started = new Date(D.start / 1e6).toLocaleString();
	var calls = fmtCount(D.calls.malloc) + ' malloc, ' + fmtCount(D.calls.free) +
		' free, ' + fmtCount(D.calls.realloc) + ' realloc';
	if (D.calls.free_unknown)
		calls += ' (' + fmtCount(D.calls.free_unknown) +
			' frees of blocks allocated before tracing)';
	var end = !D.ended ? 'no end record' :
		D.end_reason ? 'killed by signal ' + D.end_code : 'exited, status ' + D.end_code;
	var cols = add(box, el('div', 'cols')), left = add(cols, el('div'));
	var right = add(cols, el('div'));
	kv(left, [
		['program', D.exe || '?', 'mono'],
		['command line', D.args.map(shellQuote).join(' '), 'mono'],
		['process', 'pid ' + D.pid + ', started ' + started],
		['duration', fmtTime(D.duration) + ' (' + end + ')'],
		['calls', calls],
		['total allocated', fmtBytes(bytes) + ' in ' + fmtCount(nall) + ' blocks'],
		['temporary allocations', D.temp.n ? fmtCount(D.temp.n) + ' (' +
			pct(D.temp.n, nall) + ' of the allocations), ' + fmtBytes(D.temp.bytes) : 'none'],
	]);
	var P = D.peak, rows = [
		['peak heap', P.bytes ? fmtBytes(P.bytes) + (P.point >= 0 ? ' at ' +
			fmtTime(P.time) : '') : '0 B'],
	];
	if (P.bytes) rows.push(['\u2003found', peakHow()]);
	if (P.bytes && P.point >= 0)
		rows.push(['\u2003RSS at the peak', fmtBytes(P.rss) + (P.when === 'snapshot' ?
			', from that snapshot' : P.when === 'after_last' ? ', from the last snapshot, at ' +
			fmtTime(P.time) + ' (none came after the peak)' : ', from the snapshot at ' +
			fmtTime(P.time) + ', the first after it')]);
	rows = rows.concat([
		['peak RSS', D.rss.bytes ? fmtBytes(D.rss.bytes) + ' at ' + fmtTime(D.rss.time) +
			' (the highest of any snapshot)' : '-'],
		['not freed at exit', liven ? fmtBytes(live) + ' in ' + fmtCount(liven) + ' blocks' :
			'nothing'],
	]);
	if (D.leaks) {
		/* lost is what the exit scan found unreachable; the rest is reachable */
		var lostB = D.leaks.bytes[0] + D.leaks.bytes[1], lostN = D.leaks.n[0] + D.leaks.n[1];
		rows.push(['lost at exit', lostN ? fmtBytes(lostB) + ' in ' + fmtCount(lostN) +
			' blocks' : 'nothing: every block left is still reachable']);
	}
	if (D.leaks) {
		LEAK_NAMES.forEach(function (name, c) {
			rows.push(['\u2003' + name,
				fmtBytes(D.leaks.bytes[c]) + ' in ' + fmtCount(D.leaks.n[c]) + ' blocks']);
		});
		rows.push(['\u2003roots scanned', fmtBytes(D.leaks.roots)]);
	}
	kv(right, rows);

	add(box, el('h3', '', 'Pool allocator and glibc'));
	var t = add(box, el('table', 'grid'));
	var hr = add(add(t, el('thead')), el('tr')), tb = add(t, el('tbody'));
	['', 'allocations', 'bytes allocated', 'live at the peak', 'live at exit',
	 'blocks at exit'].forEach(function (h) { add(hr, el('th', '', h)); });
	var total = { n: nall, bytes: bytes, peak: k[0].peak + k[1].peak, live: live,
	              live_n: liven };
	[k[0], k[1], total].forEach(function (r, i) {
		var tr = add(tb, el('tr'));
		add(tr, el('th', '', ['pool (up to 512 B)', 'glibc (above 512 B)', 'total'][i]));
		[fmtCount(r.n) + (i < 2 ? ' (' + pct(r.n, nall) + ')' : ''), fmtBytes(r.bytes),
		 fmtBytes(r.peak), fmtBytes(r.live), fmtCount(r.live_n)]
			.forEach(function (v) { add(tr, el('td', '', v)); });
	});
}

/* ---- timeline ---- */
var SERIES = [
	{ key: 'rss', name: 'RSS', color: '#3b6fd0' },
	{ key: 'live', name: 'live heap (requested)', color: '#d9432f' },
	{ key: 'glibc', name: 'glibc in use', color: '#2f9e5b', dash: '5 3' },
];

function renderTimeline(box) {
	var T = D.timeline, n = T.t.length;
	if (!n) {
		add(box, el('p', 'empty', 'No snapshots in this trace: no timeline to draw.'));
		return;
	}
	var W = widthOf(box), H = 340, ml = 78, mr = 24, mt = 14, mb = 36;
	var pw = W - ml - mr, ph = H - mt - mb, ymax = D.peak.bytes;
	SERIES.concat([{ key: 'hi' }]).forEach(function (se) {
		ymax = Math.max.apply(null, T[se.key].concat([ymax]));
	});
	var xa = axis('time', Math.max(T.t[n - 1], D.duration), true);
	var ya = axis('bytes', ymax);
	function X(t) { return ml + pw * t / xa.max; }
	function Y(b) { return mt + ph - ph * b / ya.max; }
	var s = sv(box, 'svg', { id: 'timeline-svg', width: W, height: H, 'class': 'chart' });
	yAxis(s, ya, ml, mt, pw, ph);
	xa.ticks.forEach(function (v) {
		sv(s, 'line', { x1: X(v), x2: X(v), y1: mt + ph, y2: mt + ph + 4,
			'class': 'axis' });
		sv(s, 'text', { x: X(v), y: mt + ph + 17, 'text-anchor': 'middle' }, xa.label(v));
	});
	sv(s, 'text', { x: ml + pw / 2, y: H - 3, 'text-anchor': 'middle' },
		'time since start');
	/* where the live heap went between two snapshots beyond the line
	 * joining them (a spike, a dip): a band over that step */
	var band = sv(s, 'g', { 'class': 'band' });
	T.t.forEach(function (t, i) {
		var a = i ? T.live[i - 1] : 0, b = T.live[i];
		if (T.hi[i] <= Math.max(a, b) && T.lo[i] >= Math.min(a, b)) return;
		var x0 = X(i ? T.t[i - 1] : 0), y0 = Y(T.hi[i]);
		sv(band, 'rect', { x: x0, y: y0, width: Math.max(X(t) - x0, 2),
			height: Math.max(Y(T.lo[i]) - y0, 1), fill: '#d9432f', opacity: 0.22 });
	});
	SERIES.forEach(function (se) {
		var pts = T.t.map(function (t, i) {
			return X(t).toFixed(1) + ',' + Y(T[se.key][i]).toFixed(1);
		});
		sv(s, 'polyline', { points: pts.join(' '), fill: 'none', stroke: se.color,
			'stroke-width': 1.8, 'stroke-dasharray': se.dash || 'none',
			'stroke-linejoin': 'round' });
		if (n < 3) T.t.forEach(function (t, i) {
			sv(s, 'circle', { cx: X(t), cy: Y(T[se.key][i]), r: 3, fill: se.color });
		});
	});
	if (D.peak.bytes) {
		/* at the point that dates the peak: its step's band reaches it */
		var px = X(T.peak >= 0 ? T.t[T.peak] : D.peak.time), py = Y(D.peak.bytes);
		var onLeft = px > ml + pw * 0.8;
		sv(s, 'circle', { cx: px, cy: py, r: 4.5, fill: '#fff', stroke: '#d9432f',
			'stroke-width': 2 });
		sv(s, 'text', { x: px + (onLeft ? -8 : 8), y: Math.max(py - 8, mt + 10),
			'text-anchor': onLeft ? 'end' : 'start', 'font-weight': 600 },
			'peak ' + fmtBytes(D.peak.bytes));
	}
	var lg = sv(s, 'g', { transform: 'translate(' + (ml + 10) + ',' + (mt + 6) + ')' });
	sv(lg, 'rect', { x: -4, y: -2, width: 250, height: SERIES.length * 16 + 20,
		fill: '#fff', opacity: 0.85 });
	SERIES.forEach(function (se, i) {
		sv(lg, 'line', { x1: 0, x2: 18, y1: i * 16 + 7, y2: i * 16 + 7, stroke: se.color,
			'stroke-width': 2.5, 'stroke-dasharray': se.dash || 'none' });
		sv(lg, 'text', { x: 24, y: i * 16 + 11 }, se.name);
	});
	sv(lg, 'rect', { x: 0, y: SERIES.length * 16 + 1, width: 18, height: 11,
		fill: '#d9432f', opacity: 0.22 });
	sv(lg, 'text', { x: 24, y: SERIES.length * 16 + 11 }, 'live heap between two snapshots');
	var cursor = sv(s, 'line', { y1: mt, y2: mt + ph, stroke: '#718096',
		'stroke-dasharray': '3 3', visibility: 'hidden' });
	/* the selected range, and the one being dragged */
	var selBox = sv(s, 'rect', { y: mt, height: ph, fill: '#3b6fd0', opacity: 0.15,
		visibility: 'hidden', 'class': 'range-sel' });
	function showSel(t0, t1) {
		selBox.setAttribute('x', X(Math.min(t0, t1)));
		selBox.setAttribute('width', Math.max(Math.abs(X(t1) - X(t0)), 1));
		selBox.setAttribute('visibility', 'visible');
	}
	if (RANGE) showSel(RANGE.t0, RANGE.t1);
	var area = sv(s, 'rect', { x: ml, y: mt, width: pw, height: ph,
		fill: 'transparent', style: 'cursor: crosshair' });
	function timeAt(ev) {
		var r = s.getBoundingClientRect();
		return Math.min(Math.max((ev.clientX - r.left - ml) / pw, 0), 1) * xa.max;
	}
	var drag = null;
	area.addEventListener('mousedown', function (ev) {
		drag = { t: timeAt(ev), x: ev.clientX };
		ev.preventDefault();
	});
	window.addEventListener('mouseup', function (ev) {
		if (!drag) return;
		var d = drag;
		drag = null;
		if (Math.abs(ev.clientX - d.x) < 4) {      /* a click, not a drag */
			if (RANGE) showSel(RANGE.t0, RANGE.t1); else selBox.setAttribute('visibility', 'hidden');
			return;
		}
		selectRange(d.t, timeAt(ev));
	});
	area.addEventListener('mousemove', function (ev) {
		if (drag) showSel(drag.t, timeAt(ev));
		var r = s.getBoundingClientRect(), t = (ev.clientX - r.left - ml) / pw * xa.max;
		var lo = 0, hi = n - 1;
		while (lo < hi) {
			var mid = (lo + hi) >> 1;
			if (T.t[mid] < t) lo = mid + 1; else hi = mid;
		}
		if (lo > 0 && t - T.t[lo - 1] < T.t[lo] - t) lo--;
		cursor.setAttribute('x1', X(T.t[lo]));
		cursor.setAttribute('x2', X(T.t[lo]));
		cursor.setAttribute('visibility', 'visible');
		showTip(ev, ['t = ' + fmtTime(T.t[lo]), 'live heap: ' + fmtBytes(T.live[lo]),
			'since the snapshot before: ' + fmtBytes(T.lo[lo]) + ' to ' + fmtBytes(T.hi[lo]) +
			(lo === T.peak ? ' (the peak)' : ''),
			'RSS: ' + fmtBytes(T.rss[lo]), 'glibc in use: ' + fmtBytes(T.glibc[lo]),
			'allocations so far: ' + fmtCount(T.n[lo])]);
	});
	area.addEventListener('mouseleave', function () {
		cursor.setAttribute('visibility', 'hidden');
		hideTip();
	});
}

/* ---- a time range of the timeline: what it allocated, what was live at its
 * end, by call stack (D.range: html_data.c's put_steps) ---- */
var RANGE = null;                 /* { i0, i1: the timeline's steps, t0, t1: their span } */

/* The steps a range of times covers: from the step that ends at or after
 * t0 to the one that holds t1; step i runs from point i - 1 (the start,
 * for 0) to point i. */
function rangeSteps(t0, t1) {
	var T = D.timeline, n = T.t.length, a = Math.min(t0, t1), b = Math.max(t0, t1);
	if (!n) return null;
	var i0 = 0, i1;
	while (i0 < n - 1 && T.t[i0] < a) i0++;
	for (i1 = i0; i1 < n - 1 && T.t[i1] < b; i1++);
	return { i0: i0, i1: i1, t0: i0 ? T.t[i0 - 1] : 0, t1: T.t[i1] };
}

/* By stack: [allocated blocks, bytes in the steps i0..i1, live blocks,
 * bytes at the end of i1, live bytes at the start (end of i0 - 1)].  A
 * stack's records: [point less the one before, blocks and bytes allocated,
 * blocks and bytes freed] (live: allocated less freed, so far). */
function rangeTotals(i0, i1) {
	return D.range.steps.map(function (st) {
		var r = [0, 0, 0, 0, 0], at = 0, n = 0, b = 0;
		for (var k = 0; k < st.length; k += 5) {
			at += st[k];
			if (at > i1) break;
			n += st[k + 1] - st[k + 3];
			b += st[k + 2] - st[k + 4];
			if (at >= i0) { r[0] += st[k + 1]; r[1] += st[k + 2]; }
			else r[4] = b;
			r[2] = n;
			r[3] = b;
		}
		return r;
	});
}

function selectRange(t0, t1) {
	RANGE = rangeSteps(t0, t1);
	delete flames['range-flame'];
	renderRange($('range'));
	var tb = $('timeline-body');
	tb.textContent = '';
	renderTimeline(tb);
}
/* for tests and the console: select [t0, t1] (ns since the start), or
 * clear the selection (no argument); the same as #range=T0-T1 */
window.ptSelectRange = function (t0, t1) {
	if (t0 === undefined) clearRange(); else selectRange(t0, t1);
};
function clearRange() {
	RANGE = null;
	delete flames['range-flame'];
	renderRange($('range'));
	var tb = $('timeline-body');
	tb.textContent = '';
	renderTimeline(tb);
}

function renderRange(box) {
	box.textContent = '';
	delete box.dataset.ptRangeAlloc;
	if (!RANGE || !D.range) return;
	var st = flames['range-flame'] && flames['range-flame'].what || 'alloc';
	var tot = rangeTotals(RANGE.i0, RANGE.i1);
	var an = 0, ab = 0, ln = 0, lb = 0;
	tot.forEach(function (r) { an += r[0]; ab += r[1]; ln += r[2]; lb += r[3]; });
	box.dataset.ptRangeAlloc = ab;
	box.dataset.ptRangeAllocN = an;
	box.dataset.ptRangeLive = lb;
	var head = add(box, el('div', 'bar range-head'));
	add(head, el('strong', '', 'Selected: ' + fmtTime(RANGE.t0) + ' \u2013 ' + fmtTime(RANGE.t1)));
	add(head, el('span', '', ' (' + (RANGE.i1 - RANGE.i0 + 1) + ' step' +
		(RANGE.i1 > RANGE.i0 ? 's' : '') + ' between snapshots): allocated ' + fmtBytes(ab) +
		' in ' + fmtCount(an) + (an === 1 ? ' block' : ' blocks') + '; live at its end ' +
		fmtBytes(lb) + ' in ' + fmtCount(ln) + (ln === 1 ? ' block. ' : ' blocks. ')));
	var clr = add(head, el('button', 'clear', 'Clear the selection'));
	clr.onclick = clearRange;
	var modes = add(box, el('div', 'tabs'));
	[['alloc', 'Allocated in the range'], ['live', 'Live at its end']].forEach(function (m) {
		var b = add(modes, el('button', m[0] === st ? 'on' : '', m[1]));
		b.dataset.mode = m[0];
		b.onclick = function () {
			delete flames['range-flame'];
			flames['range-flame'] = { what: m[0] };
			renderRange(box);
		};
	});
	var col = st === 'alloc' ? 1 : 3, vals = tot.map(function (r) { return r[col]; });
	var fbox = add(box, el('div'));
	fbox.id = 'range-flame';
	var keep = flames['range-flame'];
	if (keep && !keep.trees) delete flames['range-flame'];
	flame(fbox, { values: vals,
		rootName: st === 'alloc' ? 'all: allocated in the range' : 'all: live at the range\u2019s end',
		what: st === 'alloc' ? 'the range\u2019s allocations' : 'the range\u2019s end', hue: 30,
		span: 50, empty: st === 'alloc' ? 'Nothing was allocated in this range.' :
			'Nothing was live at the end of this range.' });
	if (flames['range-flame']) flames['range-flame'].what = st;
	/* the table: the stacks of the range, biggest first */
	var rows = tot.map(function (r, i) { return [i, r]; }).filter(function (x) {
		return x[1][1] || x[1][3];
	}).sort(function (x, y) { return y[1][col] - x[1][col]; }).slice(0, 50);
	if (!rows.length) return;
	var t = add(box, el('table', 'grid'));
	t.id = 'table-range';
	var hr = add(add(t, el('thead')), el('tr')), body = add(t, el('tbody'));
	['call stack (innermost first)', 'allocated in the range', 'blocks',
	 'live at its end', 'blocks', 'growth over the range'].forEach(function (h, i) {
		add(hr, el('th', i ? '' : 'stack', h));
	});
	rows.forEach(function (x) {
		var r = x[1], tr = add(body, el('tr')), names = [], depth = 0;
		for (var k = SITE_NODE[x[0]]; k > 0; k = PARENT[k], depth++)
			if (names.length < 4) names.push(frameName(k));
		add(tr, el('td', 'stack', names.join(' \u2190 ') + (depth > 4 ? ' \u2190 \u2026' : '')));
		var g = r[3] - r[4];
		[fmtBytes(r[1]), fmtCount(r[0]), fmtBytes(r[3]), fmtCount(r[2]),
		 (g < 0 ? '\u2212' : '+') + fmtBytes(Math.abs(g))].forEach(function (v) {
			add(tr, el('td', 'num', v));
		});
	});
}

/* ---- flame graphs (icicle: the outermost call at the top, or bottom-up:
 * the allocating function at the top and its callers below) ---- */
var flames = {};                  /* by container: mode, zoom, query, selection */
var MINW = 3;                     /* rows of boxes narrower than this (px) add no height */

/* the page's address may preselect: #fn=NAME (callers and callees of NAME),
 * #up (bottom-up) */
var HASH = {};
location.hash.replace(/^#/, '').split('&').forEach(function (kv) {
	var i = kv.indexOf('=');
	if (kv) HASH[i < 0 ? kv : kv.slice(0, i)] = i < 0 ? '' : decodeURIComponent(kv.slice(i + 1));
});

/* The flame graph's tree of vals, a value for each stack of D.sites: the
 * outermost call under the root, or (up) the allocating function; a node is
 * a function (and its file) under its parent, its value that of the stacks
 * through it; the biggest child first. */
function stackTree(vals, up) {
	var root = { name: '', where: '', v: 0, parent: null, kids: [], by: {} }, path = [];
	vals.forEach(function (v, i) {
		if (!v) return;
		path.length = 0;
		for (var k = SITE_NODE[i]; k > 0; k = PARENT[k]) path.push(k);
		if (!up) path.reverse();
		var nd = root;
		root.v += v;
		path.forEach(function (k) {
			var c = nd.by[FRAME[k]];
			if (!c) {
				c = nd.by[FRAME[k]] = { name: frameName(k), where: frameWhere(k),
					v: 0, parent: nd, kids: [], by: {} };
				nd.kids.push(c);
			}
			c.v += v;
			nd = c;
		});
	});
	(function done(nd) {
		nd.by = null;
		nd.kids.sort(function (x, y) { return y.v - x.v; });
		nd.kids.forEach(done);
	})(root);
	return root;
}

/* callers and callees of the function named fn in the top-down tree root:
 * bytes through each (a recursive call counted once, at its outermost) */
function callersOf(root, fn) {
	var callers = {}, callees = {}, total = 0;
	(function walk(nd, inside) {
		var here = nd.parent && nd.name === fn;
		if (here && !inside) {
			total += nd.v;
			var up = nd.parent.parent ? nd.parent.name : '(the program\u2019s start)';
			callers[up] = (callers[up] || 0) + nd.v;
		}
		if (here) nd.kids.forEach(function (c) {
			if (c.name !== fn) callees[c.name] = (callees[c.name] || 0) + c.v;
		});
		nd.kids.forEach(function (c) { walk(c, inside || here); });
	})(root, false);
	function list(m) {
		return Object.keys(m).map(function (k) { return [k, m[k]]; })
			.sort(function (x, y) { return y[1] - x[1] || (x[0] < y[0] ? -1 : 1); });
	}
	return { total: total, callers: list(callers), callees: list(callees) };
}

function flame(box, o) {
	var st = flames[box.id];
	if (!st) st = flames[box.id] = { trees: {}, mode: 'up' in HASH ? 'up' : 'down', query: '',
		sel: HASH.fn || null };
	function tree(mode) {
		if (!st.trees[mode]) {
			var r = stackTree(o.values, mode === 'up');
			r.name = o.rootName;
			st.trees[mode] = { root: r, focus: r };
		}
		return st.trees[mode];
	}
	var tr = tree(st.mode), root = tr.root;
	if (!root.v) {
		add(box, el('p', 'empty', o.empty));
		return;
	}
	var bar = add(box, el('div', 'bar'));
	[['down', 'Top-down'], ['up', 'Bottom-up']].forEach(function (m) {
		var b = add(bar, el('button', st.mode === m[0] ? 'on' : '', m[1]));
		b.dataset.mode = m[0];
		b.onclick = function () {
			st.mode = m[0];
			box.textContent = '';
			flame(box, o);
		};
	});
	add(bar, el('button', '', 'Reset zoom')).onclick = function () {
		tr.focus = root;
		redraw();
	};
	var q = add(bar, el('input'));
	q.placeholder = 'highlight functions matching...';
	q.value = st.query;
	q.oninput = function () { st.query = q.value; redraw(); };
	var info = add(bar, el('span')), holder = add(box, el('div'));
	var panel = add(box, el('div', 'callers'));
	panel.id = box.id + '-callers';
	var W = widthOf(box), RH = 18, nodes = [];

	function color(nd) {
		if (!nd.parent) return '#cbd2dc';
		if (nd.name === '[truncated]') return '#d5d9e0';
		var h = hue(nd.name, o.hue, o.span);
		return 'hsl(' + h + ',' + (62 + h % 17) + '%,' + (58 + h % 13) + '%)';
	}
	function drawNode(s, nd, x, w, row, cls) {
		var g = sv(s, 'g', { 'data-i': nodes.length, 'class': cls });
		nodes.push(nd);
		sv(g, 'rect', { x: x, y: row * RH, width: Math.max(w, 0.5), height: RH - 1,
			fill: color(nd) });
		var chars = Math.floor((w - 8) / 6.6);
		if (chars >= 3) {
			var label = nd.name.length <= chars ? nd.name :
				nd.name.slice(0, chars - 1) + '\u2026';
			sv(g, 'text', { x: x + 4, y: row * RH + 13 }, label);
		}
		return g;
	}
	function showCallers() {
		panel.textContent = '';
		if (!st.sel) return;
		var c = callersOf(tree('down').root, st.sel);
		add(panel, el('h3', '', 'Callers and callees of ' + st.sel));
		if (!c.total) {
			add(panel, el('p', 'empty', 'Not in this flame graph.'));
			return;
		}
		add(panel, el('p', 'note', fmtBytes(c.total) + ' (' + pct(c.total, root.v) + ' of ' +
			o.what + ') allocated through it. Click a name to select it.'));
		var cols = add(panel, el('div', 'cols'));
		[['callers', 'Called from', c.callers], ['callees', 'Calls', c.callees]]
			.forEach(function (part) {
				var d = add(cols, el('div')), t = add(d, el('table', 'grid'));
				t.className = 'grid ' + part[0];
				var hr = add(add(t, el('thead')), el('tr')), tb = add(t, el('tbody'));
				add(hr, el('th', 'stack', part[1]));
				add(hr, el('th', '', 'bytes'));
				add(hr, el('th', '', '%'));
				if (!part[2].length) {
					var tr0 = add(tb, el('tr'));
					add(tr0, el('td', 'stack loc', part[0] === 'callees' ?
						'nothing: it allocates itself' : '-'));
				}
				part[2].slice(0, 15).forEach(function (r) {
					var row = add(tb, el('tr'));
					var a = add(add(row, el('td', 'stack')), el('span', 'fn', r[0]));
					a.style.cursor = 'pointer';
					a.onclick = function () { st.sel = r[0]; showCallers(); redraw(); };
					add(row, el('td', '', fmtBytes(r[1])));
					add(row, el('td', '', pct(r[1], c.total)));
				});
			});
	}
	function redraw() {
		holder.textContent = '';
		nodes = [];
		var f = tr.focus, chain = [], matched = 0, query = st.query.toLowerCase();
		var hidden = false;
		for (var a = f.parent; a; a = a.parent) chain.unshift(a);
		var s = sv(holder, 'svg', { width: W, height: RH, 'class': 'flame',
			id: box.id + '-svg' });
		chain.forEach(function (nd, row) { drawNode(s, nd, 0, W, row, 'anc'); });
		var rows = chain.length;
		(function lay(nd, x, w, row) {
			if (w < 1) return;
			var cls = st.sel && nd.name === st.sel && nd.parent ? 'sel' : '';
			var g = drawNode(s, nd, x, w, row, cls);
			if (query && nd.name.toLowerCase().indexOf(query) >= 0) {
				g.setAttribute('class', 'hit');
				matched += nd.v;
			}
			/* slivers deep under the wide boxes add no height: they are
			 * clipped, zoom in to see them */
			if (w >= MINW) rows = Math.max(rows, row + 1);
			else if (row + 1 > rows) hidden = true;
			nd.kids.forEach(function (c) {
				var cw = w * c.v / nd.v;
				lay(c, x, cw, row + 1);
				x += cw;
			});
		})(f, 0, W, chain.length);
		s.setAttribute('height', rows * RH);
		info.textContent = '';
		if (f !== root)
			info.textContent = 'zoomed on ' + f.name + ' (' + pct(f.v, root.v) + '). ';
		if (query)
			info.textContent += 'Matching: ' + fmtBytes(matched) + ' (' +
				pct(matched, root.v) + '). ';
		if (hidden)
			info.textContent += 'Deeper frames of stacks narrower than ' + MINW +
				' px are cut off: click a box to zoom in.';
		hover(s, function (i) {
			var nd = nodes[i], lines = [nd.name];
			if (nd.where) lines.push(nd.where);
			lines.push(fmtBytes(nd.v) + ' \u2014 ' + pct(nd.v, root.v) + ' of ' + o.what +
				(f !== root ? ', ' + pct(nd.v, f.v) + ' of the zoomed frame' : ''));
			lines.push(nd === f && f !== root ? 'click to zoom out' :
				'click to zoom and see its callers and callees');
			return lines;
		}, function (i) {
			var nd = nodes[i];
			tr.focus = nd === tr.focus && nd.parent ? nd.parent : nd;
			if (nd.parent) st.sel = nd.name;
			hideTip();
			showCallers();
			redraw();
		});
	}
	showCallers();
	redraw();
}

/* ---- tables ---- */
function renderSites(box) {
	var lost = D.leaks ? [0, 1, 2] : [];
	function kind(r) { return r.kinds === 3 ? 'both' : KIND_NAMES[r.kinds - 1] || '-'; }
	function sizes(r) {
		return fmtBytes(r.min) + (r.min === r.max ? '' : ' \u2013 ' + fmtBytes(r.max));
	}
	/* a column: [heading, the row's value to sort on, the row's text] */
	function col(title, get, fmt) {
		return [title, get, function (r) { return fmt(get(r)); }];
	}
	function field(name) { return function (r) { return r[name]; }; }
	var C = {
		peak: col('at the peak', field('peak'), fmtBytes),
		peak_pct: col('% of peak', field('peak'),
			function (v) { return pct(v, D.peak.bytes); }),
		peak_n: col('blocks at the peak', field('peak_n'), fmtCount),
		n: col('allocations', field('n'), fmtCount),
		bytes: col('bytes allocated', field('bytes'), fmtBytes),
		temp_n: col('temporary', field('temp_n'), fmtCount),
		temp_pct: col('% temporary', function (r) { return r.n ? r.temp_n / r.n : 0; },
			function (v) { return (100 * v).toFixed(1) + '%'; }),
		temp: col('temporary bytes', field('temp'), fmtBytes),
		live: col('leaked', field('live'), fmtBytes),
		live_n: col('blocks', field('live_n'), fmtCount),
		sizes: ['sizes', field('max'), sizes],
		kind: ['allocator', kind, kind],
	};
	var lostKeys = lost.map(function (c) {
		C['lost' + c] = col(LEAK_NAMES[c], function (r) { return r.lost[c]; }, fmtBytes);
		return 'lost' + c;
	});
	/* [table, tab, columns, text when empty] */
	var tabs = [
		['peak', 'Peak memory', ['peak', 'peak_pct', 'peak_n', 'n', 'sizes', 'kind'],
			'No block was live at the peak.'],
		['calls', 'Allocation calls', ['n', 'bytes', 'temp_n', 'peak', 'sizes', 'kind'],
			'No allocation in this trace.'],
		['temp', 'Temporary allocations', ['temp_n', 'temp_pct', 'temp', 'n', 'sizes'],
			'No temporary allocation (a block freed before its thread allocated another).'],
		['leaks', 'Leaks', ['live', 'live_n'].concat(lostKeys, ['sizes', 'kind']),
			'Nothing left allocated at exit.'],
	];
	var bar = add(box, el('div', 'tabs')), panes = [];
	tabs.forEach(function (tb, ti) {
		var b = add(bar, el('button', ti ? '' : 'on', tb[1])), pane = add(box, el('div'));
		pane.hidden = ti > 0;
		panes.push([b, pane]);
		b.onclick = function () {
			panes.forEach(function (p) {
				p[0].className = p[0] === b ? 'on' : '';
				p[1].hidden = p[0] !== b;
			});
		};
		var rows = D.tables[tb[0]];
		if (!rows.length) {
			add(pane, el('p', 'empty', tb[3]));
			return;
		}
		var t = add(pane, el('table', 'grid sortable'));
		t.id = 'table-' + tb[0];
		var hr = add(add(t, el('thead')), el('tr')), body = add(t, el('tbody'));
		add(hr, el('th', 'stack', 'call stack (innermost first)'));
		var ths = tb[2].map(function (key) {
			var th = add(hr, el('th', '', C[key][0]));
			th.dataset.key = key;
			return th;
		});
		var sortKey = tb[2][0], desc = true;
		function fill() {
			var get = C[sortKey][1];
			var sorted = rows.slice().sort(function (a, b) {
				var x = get(a), y = get(b);
				return (x < y ? -1 : x > y ? 1 : 0) * (desc ? -1 : 1);
			});
			body.textContent = '';
			sorted.forEach(function (r) {
				var tr = add(body, el('tr'));
				stackCell(add(tr, el('td', 'stack')), r, 3);
				tb[2].forEach(function (key) { add(tr, el('td', '', C[key][2](r))); });
			});
			ths.forEach(function (th) {
				th.className = th.dataset.key === sortKey ? (desc ? 'down' : 'up') : '';
			});
		}
		ths.forEach(function (th) {
			th.onclick = function () {
				if (sortKey === th.dataset.key) {
					desc = !desc;
				} else {
					sortKey = th.dataset.key;
					desc = true;
				}
				fill();
			};
		});
		fill();
	});
}

/* ---- fragmentation ---- */
/* the parts of RSS: [field, name, colour, what it is] */
var PARTS = [
	['pool_live', 'requested, in pool blocks', '#d9432f',
		'bytes the program asked for, in live pool blocks'],
	['pool_rounding', 'size-class rounding', '#f08a4b',
		'live pool blocks less the bytes requested'],
	['pool_free', 'free blocks', '#f6c343', 'free blocks in pools in use'],
	['pool_tails', 'pool tails', '#b9a36b',
		'the end of each pool, too small for one more block'],
	['pool_empty', 'empty pools', '#9c7fd1', 'empty pools kept, still resident'],
	['headers', 'arena headers', '#6b7a8f', 'the first page of each arena'],
	['glibc', 'glibc in use', '#2f9e5b',
		'blocks above 512 B, and those allocated before the library'],
	['other', 'other RSS', '#a9b6c6',
		'code, stacks, libraries, glibc free lists, the profiler'],
];

function breakdown(box, P) {
	var total = sum(PARTS.map(function (p) { return P[p[0]]; }));
	var W = widthOf(box), x = 0;
	var s = sv(box, 'svg', { width: W, height: 34, 'class': 'frag-bar' });
	PARTS.forEach(function (p, i) {
		var w = total ? W * P[p[0]] / total : 0;
		if (w > 0)
			sv(sv(s, 'g', { 'data-i': i }), 'rect',
			   { x: x, y: 2, width: w, height: 30, fill: p[2] });
		x += w;
	});
	hover(s, function (i) {
		var p = PARTS[i];
		return [p[1], fmtBytes(P[p[0]]) + ' (' + pct(P[p[0]], P.rss) + ' of RSS)', p[3]];
	});
	var t = add(box, el('table', 'grid'));
	t.style.width = 'auto';
	PARTS.forEach(function (p) {
		var tr = add(t, el('tr')), name = add(tr, el('td', 'stack'));
		add(name, el('span', 'swatch')).style.background = p[2];
		add(name, document.createTextNode(p[1]));
		add(tr, el('td', '', fmtBytes(P[p[0]])));
		add(tr, el('td', '', pct(P[p[0]], P.rss)));
		add(tr, el('td', 'loc stack', p[3]));
	});
	add(box, el('p', 'note', fmtCount(P.arenas) + ' arenas mapped; pool memory ' +
		'resident: ' + fmtBytes(P.pool_resident) + '; arena space never carved or ' +
		'purged (not resident): ' + fmtBytes(P.untouched) + '.'));
}

/* sn.classes: [size, blocks used, free, cached, pools used, full, empty, requested] */
function classChart(box, sn) {
	var cls = sn.classes.filter(function (c) {
		return c[1] || c[2] || c[3] || c[4] || c[6];
	});
	if (!cls.length) {
		add(box, el('p', 'empty', 'No pool in use.'));
		return;
	}
	function bytes(k) { return cls.map(function (c) { return c[k] * c[0]; }); }
	columns(box, {
		labels: cls.map(function (c) { return String(c[0]); }), kind: 'bytes',
		xname: 'block size (bytes)',
		series: [
			{ name: 'blocks in use', color: '#d9432f', values: bytes(1) },
			{ name: 'free blocks', color: '#f6c343', values: bytes(2) },
		],
		tip: function (i) {
			var c = cls[i];
			return ['size class ' + c[0] + ' B',
				fmtCount(c[1]) + ' blocks in use (' + fmtBytes(c[1] * c[0]) + '), ' +
				fmtCount(c[3]) + ' of them cached by threads',
				fmtCount(c[2]) + ' free blocks (' + fmtBytes(c[2] * c[0]) + ')',
				'pools: ' + fmtCount(c[4]) + ' in use, ' + fmtCount(c[5]) + ' full, ' +
				fmtCount(c[6]) + ' empty',
				'requested (estimate): ' + fmtBytes(c[7])];
		},
	});
}

function occupancyChart(box, occ) {
	if (!sum(occ)) {
		add(box, el('p', 'empty', 'No arena mapped.'));
		return;
	}
	columns(box, {
		labels: occ.map(function (_, i) { return i * 10 + '%'; }), kind: 'count',
		xname: 'bytes in live blocks / arena pool bytes',
		series: [{ name: 'arenas', color: '#3b6fd0', values: occ }],
		tip: function (i) {
			return [i * 10 + '% to ' + (i + 1) * 10 + '% full', fmtCount(occ[i]) + ' arenas'];
		},
	});
}

function pinnedTable(box) {
	add(box, el('h3', '', 'Pinned arenas'));
	if (!D.pinned.length) {
		add(box, el('p', 'empty', 'No arena held by only a few live blocks.'));
		return;
	}
	add(box, el('p', 'note', 'Arenas kept mapped by at most a handful of live blocks, ' +
		'and whose blocks they are.'));
	var t = add(box, el('table', 'grid'));
	var hr = add(add(t, el('thead')), el('tr')), tb = add(t, el('tbody'));
	['snapshot', 'arena', 'live blocks', 'bytes', 'held by'].forEach(function (h, i) {
		add(hr, el('th', i === 4 ? 'stack' : '', h));
	});
	D.pinned.forEach(function (a) {
		var tr = add(tb, el('tr'));
		add(tr, el('td', '', a.kind + ' (' + fmtTime(a.time) + ')'));
		add(tr, el('td', 'mono', a.base));
		add(tr, el('td', '', fmtCount(a.blocks)));
		add(tr, el('td', '', fmtBytes(a.bytes)));
		var td = add(tr, el('td', 'stack'));
		a.infos.forEach(function (inf) {
			var d = add(td, el('div'));
			add(d, el('div', '', fmtCount(inf.count) + ' \u00d7 ' + fmtBytes(inf.size) +
				' from'));
			stackCell(add(d, el('div')), inf, 2);
		});
	});
}

function renderFrag(box) {
	if (!D.frag.length)
		add(box, el('p', 'empty', 'No full snapshot of the allocator in this trace ' +
			'(the program ended before one was taken).'));
	D.frag.forEach(function (sn) {
		if (sn.kind === 'peak') {
			add(box, el('h3', '', 'At the peak: ' + fmtBytes(D.peak.bytes) + ' live at ' +
				fmtTime(D.peak.time)));
			add(box, el('p', 'note', peakHow() + '. The allocator then: ' +
				(sn.rel === 'at' ? 'that snapshot' : sn.rel === 'after' ?
				'the full snapshot first after the peak' :
				'the last full snapshot before the peak') + ' (t = ' + fmtTime(sn.time) +
				'): RSS ' + fmtBytes(sn.parts.rss) + '.'));
		} else {
			add(box, el('h3', '', 'At exit (t = ' + fmtTime(sn.time) + '): RSS ' +
				fmtBytes(sn.parts.rss)));
		}
		breakdown(box, sn.parts);
		var cols = add(box, el('div', 'cols')), left = add(cols, el('div'));
		var right = add(cols, el('div'));
		add(left, el('h3', '', 'Size classes'));
		add(right, el('h3', '', 'Arena occupancy'));
		classChart(left, sn);
		occupancyChart(right, sn.occupancy);
	});
	pinnedTable(box);
}

/* ---- size histogram ---- */
function renderSizes(box) {
	var H = D.hist, idx = [];
	H.n.forEach(function (v, i) { if (v || idx.length) idx.push(i); });
	while (idx.length && !H.n[idx[idx.length - 1]]) idx.pop();
	if (!idx.length) {
		add(box, el('p', 'empty', 'No allocation in this trace.'));
		return;
	}
	function range(i) {
		var l = H.low[i];
		return l <= 1 ? l + ' B' : fmtBytes(l) + ' \u2013 ' + fmtBytes(2 * l - 1);
	}
	function short(l) {
		return l >= 1 << 30 ? l / (1 << 30) + 'G' : l >= 1 << 20 ? l / (1 << 20) + 'M' :
			l >= 1024 ? l / 1024 + 'K' : String(l);
	}
	var labels = idx.map(function (i) { return short(H.low[i]); });
	function tipOf(j) {
		var i = idx[j];
		return ['requested ' + range(i),
			fmtCount(H.n[i]) + ' allocations (' + pct(H.n[i], sum(H.n)) + ')',
			fmtBytes(H.bytes[i]) + ' (' + pct(H.bytes[i], sum(H.bytes)) + ' of the bytes)'];
	}
	/* [title, y axis, colour, values]; both columns made before either chart */
	var charts = [['Allocations', 'count', '#3b6fd0', H.n],
	              ['Bytes', 'bytes', '#d9432f', H.bytes]];
	var cols = add(box, el('div', 'cols'));
	var boxes = charts.map(function (c) {
		var d = add(cols, el('div'));
		add(d, el('h3', '', c[0]));
		return d;
	});
	charts.forEach(function (c, k) {
		columns(boxes[k], { labels: labels, kind: c[1], tip: tipOf,
			xname: 'requested size from (bytes)', series: [{ name: c[0], color: c[2],
			values: idx.map(function (i) { return c[3][i]; }) }] });
	});
}

/* ---- all of it: [container, renderer, redrawn to the new width on a resize] ---- */
var parts = [
	['summary-body', renderSummary, false],
	['timeline-body', renderTimeline, true],
	['range', renderRange, true],
	['flame-peak', function (box) {
		flame(box, { values: D.sites.peak,
			rootName: 'all: the heap at its peak', what: 'the peak', hue: 0, span: 55,
			empty: 'No block was live at the peak: the trace has no allocation.' });
	}, true],
	['flame-leaks', function (box) {
		flame(box, { values: D.sites.live,
			rootName: 'all: not freed at exit', what: 'the blocks not freed', hue: 195,
			span: 70, empty: 'Nothing was left allocated at exit.' });
	}, true],
	['sites-body', renderSites, false],
	['frag-body', renderFrag, true],
	['sizes-body', renderSizes, true],
];
function render(resizing) {
	parts.forEach(function (p) {
		if (resizing && !p[2]) return;
		var box = $(p[0]);
		box.textContent = '';
		p[1](box);
	});
}
/* #range=T0-T1 (ns since the start) selects that range */
if (HASH.range && /^\d+-\d+$/.test(HASH.range)) {
	var rs = HASH.range.split('-');
	RANGE = rangeSteps(+rs[0], +rs[1]);
}
render(false);
var lastWidth = window.innerWidth, timer = 0;
window.addEventListener('resize', function () {
	clearTimeout(timer);
	timer = setTimeout(function () {
		if (window.innerWidth !== lastWidth) {
			lastWidth = window.innerWidth;
			render(true);
		}
	}, 150);
});
/* #layout: the boxes of the page's parts, for the layout test
 * (tests/html_check.py layout): where each section and chart is drawn */
if ('layout' in HASH) {
	var boxes = { page: [0, 0, document.documentElement.scrollWidth, window.innerWidth] };
	document.querySelectorAll('header, section, footer, section svg[id]').forEach(function (e) {
		var r = e.getBoundingClientRect();
		boxes[e.id || e.tagName.toLowerCase()] = [Math.round(r.left), Math.round(r.top + scrollY),
			Math.round(r.width), Math.round(r.height)];
	});
	document.body.dataset.ptLayout = JSON.stringify(boxes);
}
document.body.dataset.ptStatus = 'ok';
})();
