/* flame.js - flame graphs, top-down and bottom-up, and a function's callers and callees.
 * One of the page's scripts (cmd_html.c puts them, in order, in one
 * function with 'use strict'), so they share its names. */
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
