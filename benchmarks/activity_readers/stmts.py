# Statements of a dbt debug log that took >= 0.2 s: node, duration, first words of the SQL
import re
import sys
from pathlib import Path

lines = Path(sys.argv[1]).read_text().split('\n')
cur = {}
for i, l in enumerate(lines):
    m = re.search(r'\[(Thread-\d)[^\]]*\]: On model\.salespipe\.(\w+): (.*)', l)
    if m:
        sql = ' '.join(lines[i:i+40])
        sql = re.sub(r'/\*.*?\*/', '', sql)
        sql = re.sub(r'--[^\n]*', '', sql)
        cur[m.group(1)] = (m.group(2), re.sub(r'\s+', ' ', m.group(3) + ' ' + ' '.join(lines[i+1:i+6]))[:150])
    m = re.search(r'\[(Thread-\d)[^\]]*\]: SQL status: OK in ([\d.]+)', l)
    if m and float(m.group(2)) >= 0.2:
        n, s = cur.get(m.group(1), ('?', ''))
        print(f'{float(m.group(2)):7.2f} {n:28s} {s}')
