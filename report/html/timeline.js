/* timeline.js - the timeline, and a time range selected on it.
 * One of the page's scripts (cmd_html.c puts them, in order, in one
 * function with 'use strict'), so they share its names. */
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
