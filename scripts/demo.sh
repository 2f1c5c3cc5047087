#!/usr/bin/env bash
# Sets everything up and runs the main job on a throw-away cluster: a demo
# store (tens of thousands of customers), the 16 cases as segments, a
# refresh and a report.  Run as root on Debian 12.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
scale=${SCALE:-0.03}
echo "== generating a demo store at scale $scale and running demo/demo.sql"
# -t: the cluster lives in a temporary directory, so that nothing left in
# /etc/postgresql (a 15/regress of an earlier run) can stop it
pg_virtualenv -t -v 15 bash -c "
    psql -X -q -v ON_ERROR_STOP=1 -v scale=$scale -f test/bench/generate.sql &&
    psql -X -v ON_ERROR_STOP=1 -f demo/demo.sql"
