/* app.js - the page's parts drawn in order, redrawn on a resize; the test hooks.
 * One of the page's scripts (cmd_html.c puts them, in order, in one
 * function with 'use strict'), so they share its names. */
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
