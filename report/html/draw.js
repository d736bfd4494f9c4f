/* draw.js - drawing helpers: elements, numbers, the tooltip, axes, legends, table columns, stack cells.
 * One of the page's scripts (cmd_html.c puts them, in order, in one
 * function with 'use strict'), so they share its names. */
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
