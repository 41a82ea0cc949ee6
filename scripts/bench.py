"""Side-by-side benchmark of our powa-collector and the reference 1.3.2.

Run through scripts/bench, which prepares the clusters, the build and the
reference's virtual environment, then calls this with the venv's Python.
Every figure is taken the same way for both collectors, one after the other,
on the same clusters and the same data:

- snapshots are counted in the repository (powa_snapshot_metas.coalesce_seq,
  which powa_take_snapshot increments once per committed snapshot);
- CPU is the whole process tree's (every thread from /proc/PID/task/*/schedstat,
  plus reaped children), over a window that starts and ends on a commit;
- memory is the sum of PSS over the process tree, sampled every 0.2 s;
- a snapshot's wall time is its repository transaction, from its now()
  (powa_snapshot_metas.snapts) to its commit timestamp
  (track_commit_timestamp is turned on in the repository cluster);
- WORKERS_STATUS round trips are timed from the client's NOTIFY to the answer.
"""
import argparse
import os
import re
import signal
import sys
import time

import benchlib as b
from benchlib import query, scalar

STREAM_HOST = "127.0.0.38"
FLOOR_HOST = "127.0.0.40"
WORKLOAD_TABLES = 60
WORKLOAD_IN_LENGTHS = 100


def say(message):
    b.log("bench", message)


# --------------------------------------------------------------- setup --

def workload_sql(tables=WORKLOAD_TABLES, in_lengths=WORKLOAD_IN_LENGTHS, prefix="wl_t"):
    """Deterministic: `tables` tables x IN lists of 1..`in_lengths` constants
    (by default 60 x 100 = 6,000) distinct statements for pg_stat_statements
    (lists of different lengths normalize to different statements)."""
    lines = ["SET client_min_messages = warning;"]
    for t in range(tables):
        lines.append(f"CREATE TABLE IF NOT EXISTS {prefix}{t} (a int, b int);")
        lines.append(f"INSERT INTO {prefix}{t} SELECT g, g FROM generate_series(1, 10) g "
                     f"WHERE NOT EXISTS (SELECT FROM {prefix}{t});")
    for t in range(tables):
        for k in range(1, in_lengths + 1):
            lines.append(f"SELECT a FROM {prefix}{t} WHERE b IN ({','.join(str(j) for j in range(k))});")
    return "\n".join(lines) + "\n"


def run_workload(remote, workdir, filename, sql):
    """Runs `sql` in the remote's `bench` database (created if missing)
    from a file in `workdir`; returns the file's path, to run it again."""
    if not scalar(remote.connect("postgres"), "SELECT 1 FROM pg_database WHERE datname = 'bench'"):
        query(remote.connect("postgres"), "CREATE DATABASE bench")
    path = os.path.join(workdir, filename)
    with open(path, "w") as f:
        f.write(sql)
    remote.psql("bench", file=path)
    return path


def prepare_remote(remote, workdir, stream_mb):
    path = run_workload(remote, workdir, "workload.sql", workload_sql())
    count = scalar(remote.connect(), "SELECT count(*) FROM pg_stat_statements")
    limit = scalar(remote.connect(), "SHOW pg_stat_statements.max")
    say(f"remote: {count} statements in pg_stat_statements (max {limit})")
    if count < 5000:
        raise SystemExit("bench: fewer than 5,000 statements on the remote; is pg_stat_statements.max too low?")
    # A datasource of `stream_mb` MB: rows of 2 kB of text.
    rows = stream_mb * 1024 * 1024 // 2048
    query(remote.connect(), f"""
        CREATE OR REPLACE FUNCTION public.bench_stream_src(_srvid integer, OUT payload text)
        RETURNS SETOF text LANGUAGE sql AS $$
            SELECT repeat(md5(g::text), 64) FROM generate_series(1, {rows}) g
        $$""")
    return path


def rerun_workload(remote, path):
    remote.psql("bench", file=path)


def prepare_repository_cluster(repo):
    """track_commit_timestamp gives each snapshot's commit time."""
    conn = repo.connect("postgres")
    if scalar(conn, "SHOW track_commit_timestamp") != "on":
        query(conn, "ALTER SYSTEM SET track_commit_timestamp = on")
        conn.close()
        say("repository: enabling track_commit_timestamp (restart)")
        repo.ctl("restart")
    else:
        conn.close()


# ------------------------------------------------------------ measuring --

class Run:
    """One collector on one fresh repository database."""

    def __init__(self, args, kind, name, repo, remote):
        self.args = args
        self.kind = kind
        self.repo = repo
        self.remote = remote
        self.dbname = b.create_repository(repo, f"bench_{name}_{kind}")
        self.conn = repo.connect(self.dbname)
        self.workdir = b.make_workdir(args.workdir, f"{name}-{kind}")
        if kind == "reference":
            self.collector = b.ReferenceCollector(self.workdir, args.reference_venv)
        elif args.ours_mode == "workers":
            self.collector = b.OurWorkersOnly(self.workdir, args.bin_dir)
        else:
            self.collector = b.OurCollector(self.workdir, args.bin_dir)

    def register(self, hosts, frequency):
        return b.register_servers(self.conn, hosts, self.remote.port, frequency)

    def start(self):
        uri = self.repo.uri(self.dbname)
        if isinstance(self.collector, b.OurWorkersOnly):
            self.collector.start(uri, self.conn)
        else:
            self.collector.start(uri)
        self.sampler = b.Sampler(self.collector.roots).start()
        self.started = time.monotonic()

    def tree(self):
        return b.process_tree(self.collector.roots())

    def check_alive(self):
        if not self.collector.alive():
            raise SystemExit(f"bench: {self.kind} collector exited:\n{self.collector.log_tail()}")

    def stop(self):
        self.sampler.sample()
        self.collector.stop()
        self.sampler.stop()

    def close(self):
        self.conn.close()
        if not self.args.keep:
            b.drop_database(self.repo, self.dbname)

    def metas(self):
        return query(self.conn, """SELECT srvid, coalesce_seq, extract(epoch FROM snapts),
                                          extract(epoch FROM pg_xact_commit_timestamp(xmin))
                                   FROM powa_snapshot_metas WHERE srvid > 0""")


def measure_snapshots(run, srvids, window, timeout):
    """Warm-up (one snapshot of every server), then a CPU window aligned on
    commits. Returns cpu seconds, snapshots, per-snapshot walls (ms)."""
    initial = {s: q for s, q, _, _ in run.metas()}
    seen = {}
    walls = []

    def poll():
        rows = run.metas()
        changed = False
        for srvid, seq, snapts, committed in rows:
            if seq != seen.get(srvid):
                # Skip each server's first snapshot: it also registers every
                # statement, which later snapshots do not.
                if srvid in seen and seq - initial[srvid] >= 2 and committed and snapts:
                    walls.append((committed - snapts) * 1000)
                seen[srvid] = seq
                changed = True
        return changed, sum(q - initial[s] for s, q, _, _ in rows)

    poll()
    deadline = time.monotonic() + timeout
    while True:
        run.check_alive()
        poll()
        if all(seen[s] > initial[s] for s in srvids):
            break
        if time.monotonic() > deadline:
            raise SystemExit(f"bench: {run.kind}: not every server took a snapshot within {timeout} s:\n"
                             f"{run.collector.log_tail()}")
        time.sleep(0.05)
    walls.clear()
    # Window start: right after a commit.
    while True:
        changed, _ = poll()
        if changed:
            break
        time.sleep(0.02)
    def root_cpu():
        # The supervisor alone (its reaped children included).
        return b.cpu_seconds(run.collector.roots()) if len(run.collector.roots()) == 1 else 0.0

    cpu0, root0, (_, count0), t0 = b.cpu_seconds(run.tree()), root_cpu(), poll(), time.monotonic()
    while True:
        run.check_alive()
        changed, count = poll()
        if changed and time.monotonic() - t0 >= window:
            cpu1, root1 = b.cpu_seconds(run.tree()), root_cpu()
            break
        time.sleep(0.02)
    run.root_cpu = root1 - root0
    return cpu1 - cpu0, count - count0, walls


def phase_snapshots(args, kind, repo, remote, workload, servers, frequency, window):
    rerun_workload(remote, workload)
    run = Run(args, kind, f"s{servers}", repo, remote)
    try:
        hosts = [f"127.0.0.{i}" for i in range(1, servers + 1)]
        srvids = run.register(hosts, frequency)
        run.start()
        cpu, snapshots, walls = measure_snapshots(run, srvids, window, timeout=frequency + 120)
        run.stop()
        total_snaps = sum(b.snapshot_counts(run.conn).values())
        result = {
            "cpu_per_snapshot": cpu / snapshots if snapshots else None,
            "snapshots": snapshots,
            "cpu": cpu,
            "peak_pss_mb": run.sampler.peak_pss / 1024,
            "peak_rss_mb": run.sampler.peak_rss / 1024,
            "wall_ms": b.median(walls),
            "walls": len(walls),
        }
        if run.collector.rusage is not None:
            ru = run.collector.rusage
            result["whole_run_cpu_per_snapshot"] = (ru.ru_utime + ru.ru_stime) / max(1, total_snaps)
        result["root_cpu_per_snapshot"] = run.root_cpu / snapshots if snapshots else None
        say(f"{kind}, {servers} server(s): {snapshots} snapshots in the window, {cpu:.3f} s CPU "
            f"(main process {run.root_cpu:.3f} s), "
            f"peak PSS {result['peak_pss_mb']:.1f} MB, median wall {fmt(result['wall_ms'], '.0f')} ms "
            f"({len(walls)} snapshots)")
        return result
    finally:
        if run.collector.exit_status is None and run.collector.process is not None:
            run.collector.stop()
        run.close()


def wait_answering(client, seconds):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        status, _ = client.workers_status(timeout=1)
        if status is not None:
            return status
    return None


def phase_round_trips(args, kind, repo, remote, servers, frequency):
    run = Run(args, kind, "rtt", repo, remote)
    client = None
    try:
        run.register([f"127.0.0.{i}" for i in range(1, servers + 1)], frequency)
        run.start()
        client = b.NotifyClient(repo, run.dbname)
        if wait_answering(client, 60) is None:
            raise SystemExit(f"bench: {kind} never answered WORKERS_STATUS:\n{run.collector.log_tail()}")
        times, unanswered = [], 0
        for _ in range(args.requests):
            status, elapsed = client.workers_status(timeout=args.answer_timeout)
            if status is None:
                unanswered += 1
            else:
                times.append(elapsed * 1000)
            time.sleep(0.005)
        run.check_alive()
        result = {"p50": b.percentile(times, 0.50), "p99": b.percentile(times, 0.99),
                  "max": max(times) if times else None, "unanswered": unanswered}
        say(f"{kind}: WORKERS_STATUS p50 {fmt(result['p50'], '.2f')} ms, p99 {fmt(result['p99'], '.2f')} ms, "
            f"max {fmt(result['max'], '.1f')} ms, {unanswered} unanswered of {args.requests}")
        return result
    finally:
        if client:
            client.close()
        run.collector.stop()
        run.close()


def phase_stream(args, kind, repo, remote):
    """One server whose only datasource returns `stream_mb` MB."""
    run = Run(args, kind, "stream", repo, remote)
    try:
        query(run.conn, """
            CREATE UNLOGGED TABLE public.bench_stream_src_tmp (srvid integer NOT NULL, payload text);
            CREATE TABLE public.bench_stream_log (srvid integer, rows bigint, bytes bigint, at timestamptz);
            CREATE FUNCTION public.bench_stream_snapshot(_srvid integer) RETURNS void LANGUAGE sql AS $$
                INSERT INTO public.bench_stream_log
                    SELECT _srvid, count(*), coalesce(sum(octet_length(payload)), 0), now()
                    FROM public.bench_stream_src_tmp WHERE srvid = _srvid;
                DELETE FROM public.bench_stream_src_tmp WHERE srvid = _srvid;
            $$;""")
        (srvid,) = run.register([STREAM_HOST], 5)
        query(run.conn, "UPDATE powa_functions SET enabled = false WHERE srvid = %s AND operation = 'snapshot'",
              (srvid,))
        query(run.conn, """INSERT INTO powa_functions (srvid, module, operation, function_name, query_source,
                                                       added_manually, enabled, priority)
                           VALUES (%s, 'bench_stream', 'snapshot', 'bench_stream_snapshot', 'bench_stream_src',
                                   true, true, 10)""", (srvid,))
        initial = b.snapshot_counts(run.conn)[srvid]
        run.sampler_interval = 0.1
        run.start()
        run.sampler.interval = 0.1
        deadline = time.monotonic() + 300
        while b.snapshot_counts(run.conn)[srvid] == initial:
            run.check_alive()
            if time.monotonic() > deadline:
                raise SystemExit(f"bench: {kind}: the 200 MB snapshot did not commit:\n{run.collector.log_tail()}")
            time.sleep(0.1)
        run.stop()
        rows, nbytes = query(run.conn, "SELECT rows, bytes FROM public.bench_stream_log WHERE srvid = %s",
                             (srvid,))[0]
        result = {"peak_pss_mb": run.sampler.peak_pss / 1024, "rows": rows, "mb": nbytes / 1048576}
        say(f"{kind}: streamed {rows} rows, {result['mb']:.0f} MB; peak PSS {result['peak_pss_mb']:.1f} MB")
        return result
    finally:
        if run.collector.exit_status is None and run.collector.process is not None:
            run.collector.stop()
        run.close()


def worker_for(supervisor_pid, host, port):
    for pid in b.children_of(supervisor_pid):
        if (host, port) in b.remote_endpoints(pid):
            return pid
    return None


def phase_restart(args, repo, remote, servers=5, frequency=5):
    """SIGKILL each worker once; time until WORKERS_STATUS says running
    again with a new worker connected to that server."""
    run = Run(args, "ours", "restart", repo, remote)
    client = None
    try:
        hosts = [f"127.0.0.{i}" for i in range(1, servers + 1)]
        srvids = run.register(hosts, frequency)
        run.start()
        client = b.NotifyClient(repo, run.dbname)
        measure_deadline = time.monotonic() + 60
        while True:
            status = wait_answering(client, 30) or {}
            if all(status.get(s) == "running" for s in srvids) and \
                    all(worker_for(run.collector.pid, h, remote.port) for h in hosts):
                break
            if time.monotonic() > measure_deadline:
                raise SystemExit(f"bench: workers not all running: {status}\n{run.collector.log_tail()}")
            time.sleep(0.2)
        times = []
        for srvid, host in zip(srvids, hosts):
            old = worker_for(run.collector.pid, host, remote.port)
            os.kill(old, signal.SIGKILL)
            t0 = time.monotonic()
            while True:
                run.check_alive()
                if time.monotonic() - t0 > 60:
                    raise SystemExit(f"bench: worker of {host} not running 60 s after SIGKILL")
                new = worker_for(run.collector.pid, host, remote.port)
                if new and new != old and b.state_of(old) is None:
                    status, _ = client.workers_status(srvid, timeout=1)
                    if status and status.get(srvid) == "running":
                        times.append(time.monotonic() - t0)
                        break
                time.sleep(0.02)
            time.sleep(0.5)
        result = {"median": b.median(times), "max": max(times)}
        say(f"ours: SIGKILL to running again: median {result['median']:.2f} s, max {result['max']:.2f} s "
            f"({len(times)} kills)")
        return result
    finally:
        if client:
            client.close()
        run.collector.stop()
        run.close()


def phase_floor(args, repo, remote, repeats=5):
    """The snapshot's statements run by psql alone: the remote's datasources
    copied to files in one remote transaction, then loaded into the `_tmp`
    tables and integrated in one repository transaction. The floor is the
    sum of psql's statement timings: no process start or connection."""
    dbname = b.create_repository(repo, "bench_floor")
    conn = repo.connect(dbname)
    workdir = b.make_workdir(args.workdir, "floor")
    try:
        (srvid,) = b.register_servers(conn, [FLOOR_HOST], remote.port, 300)
        steps = query(conn, """SELECT query_source, query_cleanup FROM powa_functions
                               WHERE srvid = %s AND operation = 'snapshot' AND enabled
                               ORDER BY priority, module""", (srvid,))
        remote_sql, repo_sql = ["\\timing on", "BEGIN;"], ["\\timing on", "BEGIN;"]
        for i, (source, cleanup) in enumerate(steps):
            path = os.path.join(workdir, f"{i}.copy")
            remote_sql.append(f"\\copy (SELECT {srvid}, * FROM public.{source}(0)) TO '{path}'")
            if cleanup:
                remote_sql.append(cleanup + ";")
            repo_sql.append(f"\\copy public.{source}_tmp FROM '{path}'")
        remote_sql.append("COMMIT;")
        repo_sql += [f"SELECT powa_take_snapshot({srvid});", "COMMIT;"]
        remote_file, repo_file = os.path.join(workdir, "remote.sql"), os.path.join(workdir, "repo.sql")
        with open(remote_file, "w") as f:
            f.write("\n".join(remote_sql) + "\n")
        with open(repo_file, "w") as f:
            f.write("\n".join(repo_sql) + "\n")

        def statement_time(cluster, db, path):
            out = cluster.psql(db, file=path)
            return sum(float(m) for m in re.findall(r"^Time: ([0-9.]+) ms", out, re.M))

        walls = []
        for attempt in range(repeats + 1):
            wall = statement_time(remote, "powa", remote_file) + statement_time(repo, dbname, repo_file)
            if attempt > 0:  # the first one also registers every statement
                walls.append(wall)
        result = b.median(walls)
        say(f"psql alone: median {result:.0f} ms over {repeats} snapshots")
        return result
    finally:
        conn.close()
        if not args.keep:
            b.drop_database(repo, dbname)


# --------------------------------------------------------------- report --

def fmt(value, spec=".2f"):
    return "-" if value is None else format(value, spec)


def ratio(ours, reference):
    if ours is None or reference is None or reference == 0:
        return None
    return ours / reference


def table(rows):
    header = ("metric", "ours", "reference", "ratio", "target", "")
    cells = [header] + [tuple(r) for r in rows]
    widths = [max(len(str(c[i])) for c in cells) for i in range(len(header))]
    lines = []
    for n, c in enumerate(cells):
        lines.append(" | ".join(str(v).ljust(widths[i]) for i, v in enumerate(c)).rstrip())
        if n == 0:
            lines.append("-+-".join("-" * w for w in widths))
    return "\n".join(lines)


def verdict(value, limit):
    if value is None:
        return ""
    return "ok" if value <= limit else "MISSED"


def report(results, args):
    rows = []
    o, r = results.get("ours", {}), results.get("reference", {})

    def add(metric, ours, reference, spec, target=None, limit=None, ratio_value=None):
        rt = ratio_value if ratio_value is not None else ratio(ours, reference)
        rows.append((metric, fmt(ours, spec), fmt(reference, spec), fmt(rt, ".2f"),
                     target or "", verdict(rt, limit) if limit is not None else ""))

    for n in (1, args.servers):
        key = f"s{n}"
        if key in o or key in r:
            add(f"CPU ms per snapshot, {n} server(s)", ms(o.get(key, {}).get("cpu_per_snapshot")),
                ms(r.get(key, {}).get("cpu_per_snapshot")), ".1f", "<= 0.3", 0.3)
    for n in (1, args.servers):
        key = f"s{n}"
        if key in o or key in r:
            limit = 0.5 if n == args.servers else None
            add(f"peak PSS MB, {n} server(s)", o.get(key, {}).get("peak_pss_mb"),
                r.get(key, {}).get("peak_pss_mb"), ".1f", "<= 0.5" if limit else "", limit)
    if "s1" in o or "s1" in r:
        add("snapshot wall ms (median, 1 server)", o.get("s1", {}).get("wall_ms"),
            r.get("s1", {}).get("wall_ms"), ".0f", "<= 0.8", 0.8)
    if "floor" in results:
        add("  floor: same statements by psql alone", results["floor"], results["floor"], ".0f")
    if f"s{args.servers}" in o or f"s{args.servers}" in r:
        key = f"s{args.servers}"
        add(f"snapshot wall ms (median, {args.servers} servers)", o.get(key, {}).get("wall_ms"),
            r.get(key, {}).get("wall_ms"), ".0f")
    if "rtt" in o or "rtt" in r:
        add(f"WORKERS_STATUS p50 ms ({args.requests} requests)", o.get("rtt", {}).get("p50"),
            r.get("rtt", {}).get("p50"), ".2f")
        p99 = o.get("rtt", {}).get("p99")
        rows.append((f"WORKERS_STATUS p99 ms", fmt(p99, ".2f"), fmt(r.get("rtt", {}).get("p99"), ".2f"),
                     fmt(ratio(p99, r.get("rtt", {}).get("p99"))), "ours <= 5 ms",
                     verdict(p99, 5.0)))
        un = o.get("rtt", {}).get("unanswered")
        rows.append((f"WORKERS_STATUS unanswered within {args.answer_timeout:g} s", fmt(un, "d"),
                     fmt(r.get("rtt", {}).get("unanswered"), "d"), "", "ours 0",
                     "" if un is None else ("ok" if un == 0 else "MISSED")))
    if "stream" in o or "stream" in r:
        add(f"peak PSS MB, one {args.stream_mb} MB datasource", o.get("stream", {}).get("peak_pss_mb"),
            r.get("stream", {}).get("peak_pss_mb"), ".1f")
    if "restart" in o:
        rows.append(("SIGKILL of a worker to running, s (median/max)",
                     f"{o['restart']['median']:.2f}/{o['restart']['max']:.2f}", "n/a", "", "", ""))
    return table(rows)


def ms(seconds):
    return None if seconds is None else seconds * 1000


# ----------------------------------------------------------------- main --

def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--env-dir", required=True)
    p.add_argument("--pg-env", required=True)
    p.add_argument("--repo-cluster", default="repository")
    p.add_argument("--remote-cluster", default="remote")
    p.add_argument("--bin-dir", required=True, help="where our powa-collector and powa-collector-worker are")
    p.add_argument("--reference-venv", required=True)
    p.add_argument("--workdir", required=True)
    p.add_argument("--ours-mode", choices=["supervisor", "workers"], default="supervisor",
                   help="workers: our workers started directly, without the supervisor")
    p.add_argument("--collectors", default="ours,reference")
    p.add_argument("--phases", default="floor,single,many,rtt,stream,restart")
    p.add_argument("--window-single", type=float, default=120,
                   help="seconds of the 1-server window: its CPU figure needs about 24 snapshots to be stable")
    p.add_argument("--frequency-single", type=int, default=5)
    p.add_argument("--servers", type=int, default=20)
    p.add_argument("--window-many", type=float, default=60)
    p.add_argument("--frequency-many", type=int, default=10)
    p.add_argument("--requests", type=int, default=1000)
    p.add_argument("--answer-timeout", type=float, default=3.0)
    p.add_argument("--stream-mb", type=int, default=200)
    p.add_argument("--keep", action="store_true", help="keep the repository databases")
    args = p.parse_args()

    repo = b.Cluster(args.env_dir, args.repo_cluster, args.pg_env)
    remote = b.Cluster(args.env_dir, args.remote_cluster, args.pg_env)
    os.makedirs(args.workdir, exist_ok=True)
    prepare_repository_cluster(repo)
    workload = prepare_remote(remote, args.workdir, args.stream_mb)

    collectors = [c for c in args.collectors.split(",") if c]
    phases = [x for x in args.phases.split(",") if x]
    results = {c: {} for c in collectors}
    started = time.monotonic()
    if "floor" in phases:
        results["floor"] = phase_floor(args, repo, remote)
    if "single" in phases:
        for c in collectors:
            results[c]["s1"] = phase_snapshots(args, c, repo, remote, workload, 1,
                                               args.frequency_single, args.window_single)
    if "many" in phases:
        for c in collectors:
            results[c][f"s{args.servers}"] = phase_snapshots(args, c, repo, remote, workload, args.servers,
                                                             args.frequency_many, args.window_many)
    if "rtt" in phases and args.ours_mode == "supervisor" or "rtt" in phases and "reference" in collectors:
        for c in collectors:
            if c == "ours" and args.ours_mode != "supervisor":
                continue
            results[c]["rtt"] = phase_round_trips(args, c, repo, remote, args.servers, args.frequency_many)
    if "stream" in phases:
        for c in collectors:
            results[c]["stream"] = phase_stream(args, c, repo, remote)
    if "restart" in phases and "ours" in collectors and args.ours_mode == "supervisor":
        results["ours"]["restart"] = phase_restart(args, repo, remote)

    print()
    print(f"powa-collector benchmark, {time.strftime('%Y-%m-%d %H:%M')}, {os.cpu_count()} CPUs, "
          f"load average {open('/proc/loadavg').read().split()[0]}, {int(time.monotonic() - started)} s")
    if args.ours_mode == "workers":
        print("ours: WORKERS ONLY (no supervisor): figures exclude the supervisor process")
    print(f"remote: {WORKLOAD_TABLES * WORKLOAD_IN_LENGTHS}+ distinct statements; 1 server every "
          f"{args.frequency_single} s for {args.window_single:g} s; {args.servers} servers every "
          f"{args.frequency_many} s for {args.window_many:g} s")
    print(report(results, args))
    for c in collectors:
        for key, value in results[c].items():
            if isinstance(value, dict) and "whole_run_cpu_per_snapshot" in value:
                print(f"  ({c} {key}: whole run incl. start and stop, {value['whole_run_cpu_per_snapshot'] * 1000:.1f} "
                      f"ms CPU per snapshot; {value['snapshots']} snapshots in the window)")


if __name__ == "__main__":
    main()
