/* summary.js - the summary at the top of the page.
 * One of the page's scripts (cmd_html.c puts them, in order, in one
 * function with 'use strict'), so they share its names. */
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
