#!/usr/bin/env python3
"""html_check.py - the checks tests/test_html.sh runs on a `pooltrace html` page.

  html_check.py page PAGE [NAME...]  the file as written: no resource from
                                     the network, valid embedded JSON with no
                                     raw '<', its stacks a call tree that the
                                     sites and ranges refer to, each NAME
                                     among its strings
  html_check.py dom DUMP [NAME...]   the DOM a headless browser dumped after
                                     running the page: status "ok" and no element
                                     made from the trace's strings; with NAMEs (a
                                     trace that allocates and leaks), the timeline
                                     and both flame graphs drawn, and each NAME
                                     shown as text outside scripts
  html_check.py png SHOT             a screenshot: not blank (enough pixels in
                                     colour, enough distinct colours)
  html_check.py layout DUMP SHOT     the page's boxes (#layout) as a layout, not
                                     pixels: no horizontal overflow, the sections
                                     one column of equal width, in order, apart,
                                     each chart inside its section; and the
                                     screenshot of the same window shows the
                                     sections' white cards where the boxes say
  html_check.py flame DUMP ID MAX [TEXT...]
                                     the DOM: <svg id=ID> at most MAX pixels high,
                                     and each TEXT shown on the page (outside
                                     scripts)

Prints one line saying what failed and exits 1, or exits 0.  Standard
library only.
"""
import html.parser
import json
import re
import struct
import sys
import zlib

SVG_NS = 'http://www.w3.org/2000/svg'


def die(msg):
    print(msg)
    sys.exit(1)


class Page(html.parser.HTMLParser):
    """Tags, attributes, and text inside and outside script elements."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.tags = []             # (tag, dict(attrs))
        self.text = []             # text outside <script>
        self.scripts = []          # [attrs, text] of each <script>
        self.in_script = None

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        if tag == 'script':
            self.in_script = [dict(attrs), '']
            self.scripts.append(self.in_script)

    def handle_endtag(self, tag):
        if tag == 'script':
            self.in_script = None

    def handle_data(self, data):
        if self.in_script is not None:
            self.in_script[1] += data
        else:
            self.text.append(data)


def parse(path):
    p = Page()
    with open(path, encoding='utf-8', errors='replace') as f:
        src = f.read()
    p.feed(src)
    p.close()
    return p, src


def check_stacks(doc):
    """The stacks are written once (html_data.c's put_stacks): the call
    tree's frames and strings exist, each stack is a node of it, one only,
    and the range records are each stack's."""
    if 'stacks' not in doc or 'sites' not in doc:
        die('page: no stacks or no sites in the data')
    st, sites = doc['stacks'], doc['sites']
    frames, nstr = st['frames'], len(doc['strings'])
    if len(frames) % 2 or any(not 0 <= k < nstr for k in frames):
        die('page: stacks.frames is not [name, where] pairs of strings')
    nodes, depth = 1, 0
    for x in st['tree']:
        if x < 0:
            depth += x
            if depth < 0:
                die('page: stacks.tree goes up past its root')
        elif 2 * x >= len(frames):
            die('page: stacks.tree has frame %d of %d' % (x, len(frames) // 2))
        else:
            nodes, depth = nodes + 1, depth + 1
    if any(d < 1 for d in sites['node'][1:]) or sum(sites['node']) >= nodes:
        die('page: sites.node is not ascending nodes of the tree (%d nodes)' % nodes)
    if not len(sites['node']) == len(sites['peak']) == len(sites['live']):
        die('page: sites has columns of different lengths')
    if 'range' in doc and len(doc['range']['steps']) != len(sites['node']):
        die('page: range.steps has %d stacks, sites %d'
            % (len(doc['range']['steps']), len(sites['node'])))


def check_page(path, names):
    p, src = parse(path)
    # nothing fetched: no src attribute, links only to anchors of the page,
    # no stylesheet import or url(); the one URL is the SVG namespace
    for tag, attrs in p.tags:
        if tag in ('link', 'img', 'iframe', 'object', 'embed', 'base', 'source'):
            die('page: has a <%s> element' % tag)
        if 'src' in attrs:
            die('page: <%s src="%s">: the page must be self-contained' % (tag, attrs['src']))
        href = attrs.get('href')
        if href is not None and not href.startswith('#'):
            die('page: <%s href="%s">: the page must be self-contained' % (tag, href))
    if re.search(r'@import|url\s*\(', src):
        die('page: a stylesheet fetches something (@import or url())')
    urls = [u for u in re.findall(r'[a-z]+://[^\s"\'<>)]*', src) if u != SVG_NS]
    if urls:
        die('page: refers to %s' % urls[0])
    data = [s for a, s in p.scripts if a.get('id') == 'pt-data']
    if len(data) != 1:
        die('page: %d <script id="pt-data"> elements, want 1' % len(data))
    if '<' in data[0]:
        die("page: a raw '<' in the embedded data")
    try:
        doc = json.loads(data[0])
    except ValueError as e:
        die('page: the embedded data is not JSON: %s' % e)
    check_stacks(doc)
    strings = set(doc.get('strings', []))
    for n in names:
        if n not in strings:
            die('page: function %s is not in the data' % n)


def check_dom(path, names):
    p, _ = parse(path)
    body = [a for t, a in p.tags if t == 'body']
    status = body[0].get('data-pt-status') if body else None
    if status != 'ok':
        die('dom: page status %r, want "ok" (a script error, or rendering never finished)'
            % status)
    ids = {a.get('id'): i for i, (t, a) in enumerate(p.tags) if a.get('id')}

    def count_inside(svg_id, tag):
        """Elements tag inside the svg of id svg_id (its descendants in
        document order, up to the next <svg>)."""
        if svg_id not in ids or p.tags[ids[svg_id]][0] != 'svg':
            die('dom: no <svg id="%s">' % svg_id)
        n = 0
        for t, _ in p.tags[ids[svg_id] + 1:]:
            if t == 'svg':
                break
            n += t == tag
        return n

    for t, a in p.tags:
        if t == 'img' or any(k.startswith('on') for k in a):
            die('dom: a <%s %s> element came from the trace\'s strings' % (t, list(a)))
    if not names:
        return
    if count_inside('timeline-svg', 'polyline') < 3:
        die('dom: the timeline has fewer than 3 lines')
    if count_inside('flame-peak-svg', 'rect') < 4:
        die('dom: the flame graph of the peak has fewer than 4 boxes')
    if count_inside('flame-leaks-svg', 'rect') < 2:
        die('dom: the flame graph of the leaks has fewer than 2 boxes')
    text = ''.join(p.text)
    for n in names:
        if n not in text:
            die('dom: function %s is not shown on the page' % n)


SECTIONS = ['summary', 'timeline', 'peak', 'leaks', 'sites', 'frag', 'sizes']


def check_layout(path, shot):
    p, _ = parse(path)
    body = [a for t, a in p.tags if t == 'body']
    if not body or 'data-pt-layout' not in body[0]:
        die('layout: no data-pt-layout on <body> (the page ignored #layout)')
    box = json.loads(body[0]['data-pt-layout'])
    if box['page'][2] > box['page'][3]:
        die('layout: the page is %d px wide in a %d px window' % (box['page'][2], box['page'][3]))
    secs = [box.get(s) for s in SECTIONS]
    if None in secs:
        die('layout: sections missing: %s' % [s for s in SECTIONS if s not in box])
    x, w = secs[0][0], secs[0][2]
    for name, (sx, sy, sw, sh) in zip(SECTIONS, secs):
        if abs(sx - x) > 1 or abs(sw - w) > 1 or sh < 40:
            die('layout: section %s at x %d width %d height %d, the first at x %d width %d'
                % (name, sx, sw, sh, x, w))
    for (a, b), (na, nb) in zip(zip(secs, secs[1:]), zip(SECTIONS, SECTIONS[1:])):
        if b[1] < a[1] + a[3] + 4:
            die('layout: section %s (y %d) overlaps or touches %s (y %d to %d)'
                % (nb, b[1], na, a[1], a[1] + a[3]))
    for k, (bx, by, bw, bh) in box.items():
        if not k.endswith('-svg'):
            continue
        owner = [s for s, (sx, sy, sw, sh) in zip(SECTIONS, secs) if sy <= by < sy + sh]
        if not owner:
            die('layout: chart %s (y %d) is in no section' % (k, by))
        sx, sy, sw, sh = box[owner[0]]
        if bx < sx or bx + bw > sx + sw or by + bh > sy + sh:
            die('layout: chart %s [%d %d %d %d] overflows section %s [%d %d %d %d]'
                % (k, bx, by, bw, bh, owner[0], sx, sy, sw, sh))
    # the screenshot, same window: the page background left of the column,
    # a section's white card inside it, at each section's top in view
    wpx, hpx, bpp, rows = png_pixels(shot)
    def px(xx, yy):
        line = rows[yy]
        return tuple(line[xx * bpp:xx * bpp + 3])
    for name, (sx, sy, sw, sh) in zip(SECTIONS, secs):
        yy = sy + min(20, sh // 2)
        if yy >= hpx:
            continue
        inside, outside = px(sx + sw // 2 if False else sx + 6, yy), px(max(sx - 6, 0), yy)
        if inside != (255, 255, 255) or outside == (255, 255, 255):
            die('layout: the screenshot has no white card of section %s at x %d y %d '
                '(inside %s, outside %s)' % (name, sx, yy, inside, outside))


def check_flame(path, svg_id, max_h, texts):
    p, _ = parse(path)
    svgs = [a for t, a in p.tags if t == 'svg' and a.get('id') == svg_id]
    if not svgs:
        die('flame: no <svg id="%s">' % svg_id)
    h = float(svgs[0].get('height', 0))
    if h > max_h:
        die('flame: <svg id="%s"> is %g px high, want at most %d (slivers?)' % (svg_id, h, max_h))
    text = ''.join(p.text)
    for t in texts:
        if t not in text:
            die('flame: %r is not shown on the page' % t)


def png_pixels(path):
    """(width, height, rows of RGB(A) bytes) of an 8-bit RGB or RGBA PNG."""
    with open(path, 'rb') as f:
        d = f.read()
    if d[:8] != b'\x89PNG\r\n\x1a\n':
        die('png: %s is not a PNG' % path)
    pos, idat, w = 8, [], 0
    while pos < len(d):
        n, kind = struct.unpack('>I4s', d[pos:pos + 8])
        body = d[pos + 8:pos + 8 + n]
        if kind == b'IHDR':
            w, h, depth, ctype, _, _, interlace = struct.unpack('>IIBBBBB', body)
            if depth != 8 or ctype not in (2, 6) or interlace:
                die('png: depth %d colour type %d interlace %d not handled'
                    % (depth, ctype, interlace))
            bpp = 3 if ctype == 2 else 4
        elif kind == b'IDAT':
            idat.append(body)
        pos += 12 + n
    raw = zlib.decompress(b''.join(idat))
    stride = w * bpp
    rows, prev = [], bytearray(stride)
    for y in range(h):
        ft = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        if ft == 1:
            for i in range(bpp, stride):
                line[i] = (line[i] + line[i - bpp]) & 255
        elif ft == 2:
            line = bytearray((a + b) & 255 for a, b in zip(line, prev))
        elif ft == 3:
            for i in range(stride):
                left = line[i - bpp] if i >= bpp else 0
                line[i] = (line[i] + ((left + prev[i]) >> 1)) & 255
        elif ft == 4:
            for i in range(stride):
                a = line[i - bpp] if i >= bpp else 0
                b = prev[i]
                c = prev[i - bpp] if i >= bpp else 0
                pa, pb, pc = abs(b - c), abs(a - c), abs(a + b - 2 * c)
                pr = a if pa <= pb and pa <= pc else b if pb <= pc else c
                line[i] = (line[i] + pr) & 255
        rows.append(line)
        prev = line
    return w, h, bpp, rows


def check_png(path):
    w, h, bpp, rows = png_pixels(path)
    colours, colourful = set(), 0
    for line in rows:
        for i in range(0, len(line), bpp):
            r, g, b = line[i], line[i + 1], line[i + 2]
            colours.add((r, g, b))
            if max(r, g, b) - min(r, g, b) > 60:
                colourful += 1
    share = colourful / float(w * h)
    # the charts and flame graphs are in colour; the page's chrome and text
    # are greys: a page whose script drew nothing has next to no colour
    if len(colours) < 32 or share < 0.02:
        die('png: looks blank: %d colours, %.2f%% of the pixels in colour'
            % (len(colours), 100 * share))


def main():
    if len(sys.argv) < 3 or sys.argv[1] not in ('page', 'dom', 'png', 'flame', 'layout'):
        die(__doc__.strip())
    what, path, names = sys.argv[1], sys.argv[2], sys.argv[3:]
    if what == 'layout':
        check_layout(path, names[0])
        return
    if what == 'flame':
        check_flame(path, names[0], int(names[1]), names[2:])
        return
    {'page': lambda: check_page(path, names), 'dom': lambda: check_dom(path, names),
     'png': lambda: check_png(path)}[what]()


if __name__ == '__main__':
    main()
