#!/usr/bin/python3
"""Turns the RESULT lines written by bench/compare.sh into the comparison
table of docs/BENCHMARKS.md: the median of each figure with its spread
(min-max), and Prosody's and ejabberd's figures as multiples of Parley's.
Usage: bench/table.py RESULTS-FILE..."""
import sys, statistics, collections
rows = collections.defaultdict(list)
for line in (l for f in sys.argv[1:] for l in open(f)):
    kv = dict(f.split('=', 1) for f in line.split() if '=' in f)
    if 'scenario' not in kv:
        continue
    scen = kv['scenario']
    if scen == 'msg' and kv.get('mode') == 'open':
        scen = 'msg-open'
    rows[(kv['server'], scen)].append(kv)
def fig(server, scen, key):
    v = [float(r[key]) for r in rows.get((server, scen), []) if key in r]
    if not v:
        return None, ''
    m = statistics.median(v)
    return m, '%.4g (%.4g-%.4g)' % (m, min(v), max(v))
metrics = [('msg', 'server_us_per_msg', 'server CPU per message (us)'),
           ('msg', 'msgs_per_s', 'messages/s delivered'),
           ('msg', 'lat_p99_ms', 'message latency p99 (ms), window 4'),
           ('msg', 'lost', 'messages lost'),
           ('openmax', 'rate', 'open loop: highest sustained rate (msgs/s)'),
           ('msg-open', 'rate', 'open loop: offered rate (msgs/s), half of that'),
           ('msg-open', 'lat_p50_ms', 'open loop: latency p50 (ms)'),
           ('msg-open', 'lat_p99_ms', 'open loop: latency p99 (ms)'),
           ('msg-open', 'lost', 'open loop: messages lost'),
           ('login', 'server_us_per_login', 'server CPU per login (us)'),
           ('login', 'logins_per_s', 'logins/s, concurrency 20'),
           ('idle', 'rss_per_session_kib', 'RSS per idle session (KiB)'),
           ('presence', 'server_us_per_presence', 'server CPU per presence delivered (us)'),
           ('presence', 'presence_per_s', 'presence stanzas delivered/s')]
servers = ['parley', 'prosody', 'ejabberd', 'relay', 'relay-batched']
print('| figure | ' + ' | '.join(servers) + ' | Prosody/Parley | ejabberd/Parley |')
print('|' + ' --- |' * (len(servers) + 3))
for scen, key, label in metrics:
    cells, med = [], {}
    for s in servers:
        m, c = fig(s, scen, key)
        med[s] = m
        cells.append(c or '-')
    def ratio(o):
        if med['parley'] and med.get(o):
            return '%.1fx' % (med[o] / med['parley'])
        return '-'
    print('| %s | %s | %s | %s |' % (label, ' | '.join(cells), ratio('prosody'), ratio('ejabberd')))
