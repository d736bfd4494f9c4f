#!/usr/bin/env python3
"""peak_check.py - tests/test_peak.sh's checks: one peak in every command.

  peak_check.py PT TRACE RUNLOG BYTES [SITE SITE_BYTES]

PT is the pooltrace binary, TRACE a trace of tests/peak_prog.c whose peak of
the live heap is BYTES (SITE_BYTES of them from the function SITE), RUNLOG
what `pooltrace run` printed on standard error when it recorded TRACE.
Checks that report and frag (text and --json), run's summary, the HTML
page's data, and the massif, folded and pprof exports give that peak, at
one time, printed precisely enough to tell (never "0.000 s"); that the
timeline of report (text and JSON) and of the page has the peak in a row
of its own, marked.  Prints one line per check, "ok ..." or "FAIL ...";
exits 1 if any failed.  Standard library only.
"""
import gzip
import json
import re
import subprocess
import sys

FAILED = []


def check(ok, what, why=''):
    print(('ok   ' if ok else 'FAIL ') + what + ('' if ok else ': ' + why))
    if not ok:
        FAILED.append(what)


def run(*args):
    r = subprocess.run(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    if r.returncode != 0:
        print('FAIL %s: exit %d: %s' % (' '.join(args), r.returncode, r.stderr.decode()[:400]))
        sys.exit(1)
    return r.stdout


UNITS = {'s': 1e9, 'ms': 1e6, '\u00b5s': 1e3, 'ns': 1}


def parse_time(s):
    """ns of a time as the reports print it ("300.316 ms", "0 s")."""
    m = re.fullmatch(r'([0-9.]+) (s|ms|\u00b5s|ns)', s)
    return float(m.group(1)) * UNITS[m.group(2)] if m else None


def main():
    pt, trace, runlog, want = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    site, site_bytes = (sys.argv[5], int(sys.argv[6])) if len(sys.argv) > 6 else (None, 0)

    # the JSON documents: report's and frag's peak objects are one
    rep = json.loads(run(pt, 'report', '--json', trace))
    frag = json.loads(run(pt, 'frag', '--json', trace))
    P = rep['peak']
    check(P['bytes'] == want, 'report --json: peak %d B' % want, 'it says %d' % P['bytes'])
    check(P['exact'] and P['when'] in ('between', 'before_first'),
          'report --json: exact, dated by the snapshot after it', 'when %s' % P['when'])
    check(frag.get('peak') == P, 'frag --json: the same peak object as report --json',
          '%s against %s' % (frag.get('peak'), P))
    ns = P['time_ns']
    check(ns > 0, 'the peak has a time', 'time_ns %d' % ns)
    rows = [r for r in rep['timeline'] if r['time_ns'] == ns]
    check(len(rows) == 1 and rows[0]['live_high'] == want and rows[0]['rss'] == P['rss'],
          'report --json: the timeline point at the peak reaches it, its RSS the peak\'s',
          '%s, peak %s' % (rows, P))

    # the texts: one figure, one time, in every command
    text = run(pt, 'report', '--bytes', trace).decode()
    m = re.search(r'^peak heap:  ([0-9,]+) B at ([^:]+):', text, re.M)
    check(m and int(m.group(1).replace(',', '')) == want, 'report: peak heap %d B' % want,
          m.group(0) if m else 'no peak heap line')
    when = m.group(2) if m else '?'
    t = parse_time(when)
    check(t is not None and when != '0.000 s' and abs(t - ns) <= max(ns * 0.001, 100),
          'report: the peak time, %s, precise to 0.1%% of %d ns' % (when, ns))
    ftext = run(pt, 'frag', '--bytes', trace).decode()
    fm = re.search(r'^peak heap:  ([0-9,]+) B at ([^:]+):', ftext, re.M)
    check(fm and fm.group(0) == m.group(0), 'frag: the same peak heap line as report',
          fm.group(0) if fm else 'none')
    short = run(pt, 'report', trace).decode()
    sm = re.search(r'^peak heap:  (\S+ \S+) at ([^:]+):', short, re.M)
    with open(runlog, encoding='utf-8') as f:
        log = f.read()
    rm = re.search(r'peak heap (\S+ \S+) at ([^,]+),', log)
    check(sm and rm and rm.group(1) == sm.group(1) and rm.group(2) == when,
          'run\'s summary: the same peak and time as report',
          '%s against %s' % (rm and rm.group(0), sm and sm.group(0)))
    marked = [l for l in text.splitlines() if l.endswith('<- the peak')]
    cols = re.match(r' *[0-9.]+ \S+ +([0-9,]+) B +([0-9,]+) B', marked[0]) if marked else None
    check(len(marked) == 1 and cols and int(cols.group(2).replace(',', '')) == want,
          'report: one timeline row marked as the peak, its live high the peak',
          repr(marked))

    # the page: its data holds the peak and a timeline point reaching it
    page = run(pt, 'html', '-o', '-', trace).decode()
    d = re.search(r'<script[^>]*id="pt-data"[^>]*>(.*?)</script>', page, re.S)
    D = json.loads(d.group(1))
    T = D['timeline']
    check(D['peak']['bytes'] == want and D['peak']['time'] == ns and
          D['peak']['rss'] == P['rss'], 'html: the page\'s peak is report\'s',
          '%s' % D['peak'])
    k = T.get('peak', -1)
    check(0 <= k < len(T['t']) and T['hi'][k] == want and T['t'][k] == ns,
          'html: the timeline\'s peak point reaches the peak at its time',
          'point %d of %d: %s' % (k, len(T['t']), [(T['t'][i], T['hi'][i])
                                                  for i in range(len(T['t']))]))

    # the exports
    massif = run(pt, 'export', '--format', 'massif', '-o', '-', trace).decode()
    snaps = re.findall(r'time=(\d+)\nmem_heap_B=(\d+)\n.*?heap_tree=(\w+)', massif, re.S)
    peaks = [(int(a), int(b)) for a, b, tree in snaps if tree == 'peak']
    check(peaks == [(ns // 1000000, want)], 'massif: one peak snapshot, the peak at its time',
          '%s' % peaks)
    folded = run(pt, 'export', '--format', 'folded', '-o', '-', trace).decode()
    total = sum(int(l.rsplit(' ', 1)[1]) for l in folded.splitlines() if l)
    check(total == want, 'folded: the stacks at the peak add up to it', '%d' % total)
    if site:
        at = sum(int(l.rsplit(' ', 1)[1]) for l in folded.splitlines()
                 if l.rsplit(' ', 1)[0].split(';')[-1] == site)
        check(at == site_bytes, 'folded: %s holds %d B at the peak' % (site, site_bytes),
              '%d' % at)
    pb = gzip.decompress(run(pt, 'export', '--format', 'pprof', '-o', '-', trace))
    check(('the live heap at its peak, %d B at %s' % (want, when)).encode() in pb,
          'pprof: its comment gives the peak and its time')
    return 1 if FAILED else 0


if __name__ == '__main__':
    sys.exit(main())
