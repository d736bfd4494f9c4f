/* tables.js - the tables of sites, fragmentation and sizes.
 * One of the page's scripts (cmd_html.c puts them, in order, in one
 * function with 'use strict'), so they share its names. */
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
