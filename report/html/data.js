/* data.js - the document of figures (html_data.c) and the call tree of its stacks.
 * One of the page's scripts (cmd_html.c puts them, in order, in one
 * function with 'use strict'), so they share its names. */
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
