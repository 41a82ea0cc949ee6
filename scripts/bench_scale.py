"""Scale benchmark of our powa-collector against the reference 1.3.2.

Run through scripts/bench-scale, which prepares the build, the reference's
virtual environment and a pg-env directory, then calls this with the venv's
Python. Each phase runs ours, then the reference, on the same clusters and
the same data, each on a fresh repository database:

- small phases (`--small SERVERS:FREQUENCY:WINDOW,...`): one PoWA 4 remote
  cluster with `pg_stat_statements.max = 100` and about 90 distinct
  statements, listening on 0.0.0.0 (its pg_hba.conf admits 127.0.0.0/8
  only), registered as SERVERS distinct servers 127.0.x.y;
- the big phase (`--big SERVERS:FREQUENCY:WINDOW`): the 6,000-statement
  remote of scripts/bench.

How each figure is taken, the same way for both collectors:

- snapshots: a trigger added to the run's repository database logs every
  row inserted into powa_stat_bgwriter_history_current (one per committed
  snapshot of a server, in the snapshot's own transaction) with the
  snapshot's timestamp, the remote's now() when the snapshot began. The
  window starts once every server has a first snapshot (or the warm-up
  timeout passed); a snapshot is in the window when its timestamp is. A
  window of whole periods gives a server kept at its frequency exactly
  window / frequency snapshots; any other length gives it one more or one
  fewer depending on its phase, which moves a 500-server count by about
  +-10 (one standard deviation) from one run to the next;
- intervals: between consecutive snapshot timestamps of a server, counted
  when the later one is in the window; "within 1%" means |interval -
  frequency| <= 1% of the frequency;
- CPU: the whole process tree over the window (every thread's schedstat,
  plus children reaped by the collector), and the supervisor alone (ours:
  the main process's own threads; the reference: its main thread);
- memory: PSS of every process of the tree, sampled a few times in the
  window; ours' per worker is the workers' sum over their number, the
  reference's per server its total over the number of servers;
- workers killed: our log's watchdog lines ("terminating it") and restarts
  for any other reason (crashes), over the whole run;
- stop: from SIGTERM to the main process's exit, and to the last process
  of the tree gone (SIGKILL after --stop-timeout);
- status: during the window, --status-requests single-server
  WORKERS_STATUS requests in a row, each on its own channel, each waited
  for --status-limit seconds as powa-web does; an answer after the limit
  counts as late (its channel stays listened to), none at all as never.
"""
import argparse
import json
import os
import random
import re
import select
import signal
import subprocess
import sys
import threading
import time

import psycopg2

import bench
import bench_load
import benchlib as b
from benchlib import query, scalar

REPOSITORY_CLUSTER = "repository"
SMALL_CLUSTER = "small"
BIG_CLUSTER = "remote"
CONNECTION_MARGIN = 100


def say(message):
    b.log("bench-scale", message)


class Phase:
    """One measurement: SERVERS servers of one remote at FREQUENCY for WINDOW s."""

    def __init__(self, kind, spec):
        try:
            servers, frequency, window = spec.split(":")
            self.servers, self.frequency, self.window = int(servers), int(frequency), float(window)
        except ValueError:
            raise SystemExit(f"bench-scale: bad phase '{spec}': expected SERVERS:FREQUENCY:WINDOW, "
                             "for example 500:60:240")
        if self.servers < 1 or self.frequency < 1 or self.window <= 0:
            raise SystemExit(f"bench-scale: bad phase '{spec}': every figure must be positive")
        if self.servers > 250 * 250:
            raise SystemExit(f"bench-scale: at most {250 * 250} servers")
        self.kind = kind
        self.name = f"{kind}-{self.servers}x{self.frequency}"
        if not self.whole_periods():
            say(f"note: phase {spec}: the window is not a multiple of the frequency, so the snapshot count "
                f"depends on where each server's schedule falls in it (each server has "
                f"{int(self.window // self.frequency)} or {int(self.window // self.frequency) + 1} "
                f"snapshots at the exact frequency): compare counts of such a phase with care")

    def whole_periods(self):
        """Whether the window holds a whole number of periods: then a server
        kept at its frequency has exactly window / frequency snapshots in it,
        wherever its schedule falls, and the count compares collectors
        without the luck of the phases."""
        return self.window >= self.frequency and (self.window / self.frequency).is_integer()

    def title(self):
        what = "small servers (about 100 statements)" if self.kind == "small" else "servers of ~6,000 statements"
        expected = "exactly" if self.whole_periods() else "on average"
        return (f"{self.servers} {what} at frequency {self.frequency}, window {self.window:g} s "
                f"({expected} {self.ideal():.0f} snapshots at the frequency)")

    def ideal(self):
        return self.servers * self.window / self.frequency


def hostnames(count):
    """127.0.1.1, 127.0.1.2, ... 127.0.1.250, 127.0.2.1, ...: distinct
    loopback addresses, so that each is a distinct registered server."""
    return [f"127.0.{1 + i // 250}.{1 + i % 250}" for i in range(count)]


# --------------------------------------------------------------- setup --

def ensure_cluster(args, kind, name):
    if not os.path.isdir(os.path.join(args.env_dir, name)):
        say(f"creating cluster {name} ({kind})")
        subprocess.run([args.pg_env, "create-cluster", args.env_dir, kind, name], check=True,
                       stdout=subprocess.DEVNULL)
    return b.Cluster(args.env_dir, name, args.pg_env)


def configure(cluster, settings):
    """ALTER SYSTEM for each setting that differs (max_connections: that is
    lower); one restart if any did."""
    conn = cluster.connect("postgres")
    changed = []
    try:
        for name, value in settings.items():
            current = scalar(conn, f"SHOW {name}")
            if name == "max_connections" and int(current) >= int(value):
                continue  # enough already: no restart
            if str(current) != str(value):
                query(conn, f"ALTER SYSTEM SET {name} = %s", (str(value),))
                changed.append(f"{name} = {value}")
    finally:
        conn.close()
    if changed:
        say(f"{cluster.name}: {', '.join(changed)} (restart)")
        cluster.ctl("restart")


def check_loopback_only(cluster):
    """The cluster listens on every address: its pg_hba.conf must admit
    loopback clients only."""
    conn = cluster.connect("postgres")
    try:
        rows = query(conn, "SELECT type, address, netmask FROM pg_hba_file_rules WHERE type LIKE 'host%'")
    finally:
        conn.close()
    for kind, address, netmask in rows:
        if not (address == "127.0.0.0" and netmask == "255.0.0.0"):
            raise SystemExit(f"bench-scale: {cluster.name}'s pg_hba.conf admits {address}/{netmask} "
                             "(only 127.0.0.0/8 is expected while it listens on 0.0.0.0)")


def prepare_small_remote(remote, workdir, statements):
    path = bench.run_workload(remote, workdir, "small-workload.sql",
                              bench.workload_sql(tables=1, in_lengths=statements, prefix="sc_t"))
    count = scalar(remote.connect(), "SELECT count(*) FROM pg_stat_statements")
    say(f"{remote.name}: {count} statements in pg_stat_statements (max 100)")
    return path


LOG_SQL = """
CREATE TABLE public.bench_snapshot_log (srvid integer NOT NULL, ts timestamptz NOT NULL,
                                        logged timestamptz NOT NULL DEFAULT clock_timestamp());
CREATE FUNCTION public.bench_log_snapshot() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO public.bench_snapshot_log (srvid, ts) VALUES (NEW.srvid, (NEW.record).ts);
    RETURN NULL;
END $$;
CREATE TRIGGER bench_log_snapshot AFTER INSERT ON public.powa_stat_bgwriter_history_current
    FOR EACH ROW EXECUTE FUNCTION public.bench_log_snapshot();
"""


def register(conn, hosts, port, frequency):
    query(conn, """SELECT powa_register_server(hostname => h, port => %s, alias => h || ':' || %s,
                          username => 'postgres', dbname => 'powa', frequency => %s, extensions => %s)
                   FROM unnest(%s::text[]) h""", (port, str(port), frequency, b.EXTENSIONS, hosts))
    return [r[0] for r in query(conn, "SELECT id FROM powa_servers WHERE id > 0 ORDER BY id")]


# ------------------------------------------------------------ measuring --

def own_cpu_seconds(pid, main_thread_only=False):
    """CPU of `pid`'s own threads (its main thread only if asked), without
    its reaped children."""
    tids = [str(pid)] if main_thread_only else (os.listdir(f"/proc/{pid}/task") if os.path.isdir(f"/proc/{pid}/task") else [])
    total = 0.0
    for tid in tids:
        raw = b.read_file(f"/proc/{pid}/task/{tid}/schedstat")
        if raw:
            total += int(raw.split()[0]) / 1e9
    return total


class StatusProbe(threading.Thread):
    """Single-server WORKERS_STATUS requests in a row, as powa-web sends
    them: a channel per request, `limit` seconds each. A request not answered
    in time keeps its channel listened to, so that a late answer is seen as
    late and never taken for another request's."""

    def __init__(self, repo, dbname, srvids, count, limit, seed):
        super().__init__(daemon=True)
        self.repo, self.dbname, self.count, self.limit = repo, dbname, count, limit
        order = list(srvids)
        random.Random(seed).shuffle(order)
        self.srvids = order
        self.in_time, self.late, self.not_running = [], [], 0
        self.never = 0
        self.error = None

    def run(self):
        try:
            self.probe()
        except Exception as e:  # reported, not raised in a thread
            self.error = repr(e)

    def probe(self):
        conn = psycopg2.connect(self.repo.dsn(self.dbname), application_name="powa-collector bench-scale status")
        conn.autocommit = True
        prefix = f"scale_{os.getpid()}_{int(time.time()) % 100000}"
        pending = {}

        def collect(current=None):
            conn.poll()
            now = time.perf_counter()
            found = None
            for n in conn.notifies:
                if n.channel == current:
                    found = n.payload
                elif n.channel in pending:
                    self.late.append(now - pending.pop(n.channel))
                    with conn.cursor() as cur:
                        cur.execute(f"UNLISTEN {n.channel}")
            conn.notifies.clear()
            return found

        try:
            for i in range(self.count):
                srvid = self.srvids[i % len(self.srvids)]
                channel = f"{prefix}_{i}"
                with conn.cursor() as cur:
                    cur.execute(f"LISTEN {channel}")
                started = time.perf_counter()
                with conn.cursor() as cur:
                    cur.execute("SELECT pg_notify('powa_collector', %s)", (f"WORKERS_STATUS {channel} {srvid}",))
                answer = None
                while True:
                    answer = collect(channel)
                    left = started + self.limit - time.perf_counter()
                    if answer is not None or left <= 0:
                        break
                    select.select([conn], [], [], left)
                if answer is None:
                    pending[channel] = started
                    continue
                self.in_time.append(time.perf_counter() - started)
                if not self.running_in(answer, srvid):
                    self.not_running += 1
                with conn.cursor() as cur:
                    cur.execute(f"UNLISTEN {channel}")
            deadline = time.perf_counter() + 10
            while pending and time.perf_counter() < deadline:
                select.select([conn], [], [], 0.2)
                collect()
            self.never = len(pending)
        finally:
            conn.close()

    @staticmethod
    def running_in(answer, srvid):
        parts = answer.split(" ", 2)
        if len(parts) < 3 or parts[1] != "OK":
            return False
        try:
            return json.loads(parts[2]).get(str(srvid)) == "running"
        except (ValueError, AttributeError):
            return False


class MemorySampler(threading.Thread):
    """Calls run.sample_memory() now and then until stopped."""

    def __init__(self, run, first, every):
        super().__init__(daemon=True)
        self.run_, self.first, self.every = run, first, every
        self.stop_event = threading.Event()

    def run(self):
        if self.stop_event.wait(self.first):
            return
        while True:
            try:
                self.run_.sample_memory()
            except Exception as e:  # a process gone meanwhile is no reason to stop
                say(f"memory sample failed: {e!r}")
            if self.stop_event.wait(self.every):
                return

    def stop(self):
        self.stop_event.set()
        self.join()


class Run:
    """One collector on one fresh repository database, for one phase."""

    def __init__(self, args, phase, kind, repo, remote):
        self.args, self.phase, self.kind, self.repo, self.remote = args, phase, kind, repo, remote
        self.dbname = b.create_repository(repo, f"scale_{phase.kind}_{phase.servers}_{phase.frequency}_{kind}")
        self.conn = repo.connect(self.dbname)
        self.workdir = b.make_workdir(args.workdir, f"{phase.name}-{kind}")
        if kind == "reference":
            self.collector = b.ReferenceCollector(self.workdir, args.reference_venv)
        else:
            extra = {}
            if args.max_concurrent_snapshots is not None:
                extra["max_concurrent_snapshots"] = args.max_concurrent_snapshots
            self.collector = b.OurCollector(self.workdir, args.bin_dir, extra)
        self.memory = []  # (total kB, worker kB sum, workers)

    def close(self):
        if self.collector.process is not None and self.collector.exit_status is None:
            self.collector.stop(timeout=10)
        self.conn.close()
        if not self.args.keep:
            b.drop_database(self.repo, self.dbname)

    def check_alive(self):
        if not self.collector.alive():
            raise SystemExit(f"bench-scale: {self.kind} collector exited:\n{self.collector.log_tail()}")

    def tree(self):
        return b.process_tree(self.collector.roots())

    def supervisor_cpu(self):
        return own_cpu_seconds(self.collector.pid, main_thread_only=self.kind == "reference")

    def sample_memory(self):
        tree = self.tree()
        workers = [p for p in tree if p != self.collector.pid and not b.is_worker_launcher(p)]
        total = b.memory_kb(tree, "Pss")
        worker_kb = b.memory_kb(workers, "Pss") if self.kind == "ours" else 0
        self.memory.append((total, worker_kb, len(workers)))

    def logged_servers(self):
        return scalar(self.conn, "SELECT count(DISTINCT srvid) FROM public.bench_snapshot_log")

    def stop(self):
        """SIGTERM; seconds to the main process's exit and to the whole tree
        gone, and whether SIGKILL was needed."""
        tree = self.tree()
        process = self.collector.process
        started = time.monotonic()
        process.send_signal(signal.SIGTERM)
        killed = False
        deadline = started + self.args.stop_timeout
        while True:
            pid, status, rusage = os.wait4(process.pid, os.WNOHANG)
            if pid:
                break
            if not killed and time.monotonic() > deadline:
                say(f"{self.kind}: still running {self.args.stop_timeout:g} s after SIGTERM: SIGKILL")
                process.kill()
                killed = True
            time.sleep(0.02)
        main_exit = time.monotonic() - started
        self.collector.exit_status = status
        self.collector.rusage = rusage
        process.returncode = os.waitstatus_to_exitcode(status)
        self.collector.log_file.close()
        while any(b.state_of(p) not in (None, "Z") for p in tree) and time.monotonic() - started < main_exit + 30:
            time.sleep(0.02)
        left = [p for p in tree if b.state_of(p) not in (None, "Z") and p != process.pid]
        for pid in left:  # descendants of the collector this benchmark started
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        tree_gone = time.monotonic() - started
        return {"stop_main_s": main_exit, "stop_tree_s": tree_gone, "stop_killed": killed,
                "left_behind": len(left), "exit_code": process.returncode}


def log_events(path):
    """Counts in our collector's log: watchdog kills, restarts for another
    reason (crashes), SIGKILL escalations, aborts."""
    counts = {"watchdog": 0, "crashes": 0, "sigkill": 0, "aborts": 0}
    try:
        with open(path, errors="replace") as f:
            for line in f:
                if "terminating it" in line:
                    counts["watchdog"] += 1
                elif "restarting the worker" in line and "no message for" not in line:
                    counts["crashes"] += 1
                if "killing it" in line:
                    counts["sigkill"] += 1
                if "Assertion" in line or "abort" in line.lower():
                    counts["aborts"] += 1
    except OSError:
        pass
    return counts


def run_phase(args, phase, kind, repo, remote, workload, load):
    remote.psql("bench", file=workload)
    run = Run(args, phase, kind, repo, remote)
    try:
        load.start(f"{phase.name}-{kind}")
        query(run.conn, LOG_SQL)
        srvids = register(run.conn, hostnames(phase.servers), remote.port, phase.frequency)
        if len(srvids) != phase.servers:
            raise SystemExit(f"bench-scale: registered {len(srvids)} servers, not {phase.servers}")
        # powa_register_server starts each server's coalesce_seq at 1 or so.
        initial_seq = int(scalar(run.conn, "SELECT sum(coalesce_seq) FROM powa_snapshot_metas WHERE srvid > 0"))
        say(f"{phase.name}, {kind}: {len(srvids)} servers registered; starting")
        run.collector.start(run.repo.uri(run.dbname))
        started = time.monotonic()

        # Warm-up: until every server has a first snapshot.
        warmup_timeout = args.warmup_timeout if args.warmup_timeout is not None else phase.frequency + 120
        while True:
            run.check_alive()
            servers_seen = run.logged_servers()
            if servers_seen == phase.servers or time.monotonic() - started > warmup_timeout:
                break
            time.sleep(0.5)
        warmup = time.monotonic() - started
        say(f"{phase.name}, {kind}: {servers_seen} of {phase.servers} servers had a first snapshot "
            f"after {warmup:.1f} s; window of {phase.window:g} s")

        # The window's end is a deadline: what may take long on a loaded
        # machine (PSS of hundreds of processes, status requests) runs in
        # threads of its own.
        t0, cpu0, sup0 = time.time(), b.cpu_seconds(run.tree()), run.supervisor_cpu()
        m0 = time.monotonic()
        end = m0 + phase.window
        probe = None
        probe_at = m0 + min(30.0, phase.window / 4)
        sampler = MemorySampler(run, first=min(5.0, phase.window / 4), every=max(5.0, phase.window / 8))
        sampler.start()
        while time.monotonic() < end:
            run.check_alive()
            if probe is None and time.monotonic() >= probe_at and args.status_requests > 0:
                probe = StatusProbe(repo, run.dbname, srvids, args.status_requests, args.status_limit, args.seed)
                probe.start()
            time.sleep(max(0.0, min(0.5, end - time.monotonic())))
        late_by = time.monotonic() - end
        cpu1, sup1 = b.cpu_seconds(run.tree()), run.supervisor_cpu()
        cpu_window = time.monotonic() - m0
        t1 = t0 + phase.window
        window = phase.window
        if late_by > 1 or cpu_window - phase.window > 2:
            say(f"{phase.name}, {kind}: note: the window's end was read {late_by:.1f} s late, "
                f"its CPU over {cpu_window:.1f} s")
        sampler.stop()
        if probe is not None:
            probe.join()
        time.sleep(args.grace)  # snapshots begun just before the end commit
        run.check_alive()
        stopped = run.stop()

        rows = query(run.conn, """SELECT srvid, extract(epoch FROM ts) FROM public.bench_snapshot_log
                                  ORDER BY srvid, ts""")
        in_window, intervals, last = 0, [], {}
        for srvid, ts in rows:
            ts = float(ts)
            if t0 <= ts < t1:
                in_window += 1
                if srvid in last:
                    intervals.append(ts - last[srvid])
            last[srvid] = ts
        # Every logged snapshot, with the window, for a look at one
        # server's timeline (drift, clusters of late starts).
        with open(os.path.join(run.workdir, "snapshots.csv"), "w") as out:
            out.write(f"# window {t0:.6f} {t1:.6f}\nsrvid,ts\n")
            out.writelines(f"{srvid},{float(ts):.6f}\n" for srvid, ts in rows)
        committed = int(scalar(run.conn, "SELECT sum(coalesce_seq) FROM powa_snapshot_metas WHERE srvid > 0")) \
            - initial_seq
        within = [i for i in intervals if abs(i - phase.frequency) <= 0.01 * phase.frequency]
        events = log_events(run.collector.log_path) if kind == "ours" else {}
        mem = run.memory
        result = {
            "snapshots": in_window,
            "servers_collected": len(last),
            "warmup_s": warmup,
            "window_s": window,
            "intervals": len(intervals),
            "within_1pct": len(within) / len(intervals) if intervals else None,
            "p99_interval_s": b.percentile(intervals, 0.99),
            "mean_interval_s": sum(intervals) / len(intervals) if intervals else None,
            "max_interval_s": max(intervals) if intervals else None,
            "cpu_window_s": cpu_window,
            "cpu_tree_s": cpu1 - cpu0,
            "cpu_supervisor_s": sup1 - sup0,
            "pss_total_mb": sum(m[0] for m in mem) / len(mem) / 1024 if mem else None,
            "pss_peak_mb": max(m[0] for m in mem) / 1024 if mem else None,
            "pss_worker_kb": (sum(m[1] for m in mem) / sum(m[2] for m in mem)
                              if kind == "ours" and mem and sum(m[2] for m in mem) else
                              (sum(m[0] for m in mem) / len(mem) / phase.servers if mem else None)),
            "workers_seen": max((m[2] for m in mem), default=None) if kind == "ours" else None,
            "logged_total": len(rows),
            "committed_total": committed,
            **stopped, **{f"log_{k}": v for k, v in events.items()},
        }
        if probe is not None:
            result.update({
                "status_sent": probe.count, "status_in_time": len(probe.in_time),
                "status_late": len(probe.late), "status_never": probe.never,
                "status_not_running": probe.not_running, "status_error": probe.error,
                "status_p99_ms": (b.percentile(probe.in_time + probe.late
                                               + [float("inf")] * probe.never, 0.99) or 0) * 1000,
                "status_late_max_s": max(probe.late) if probe.late else None,
            })
        say(f"{phase.name}, {kind}: {in_window} snapshots in {window:.0f} s "
            f"({fmt_pct(result['within_1pct'])} of {len(intervals)} intervals within 1%), "
            f"CPU {result['cpu_tree_s']:.1f} s (supervisor {result['cpu_supervisor_s']:.2f} s), "
            f"stopped in {stopped['stop_main_s']:.1f} s"
            + (f", killed by the watchdog {events['watchdog']}, crashes {events['crashes']}" if events else ""))
        if result["logged_total"] != committed:
            say(f"{phase.name}, {kind}: note: {result['logged_total']} snapshots logged but coalesce_seq "
                f"counts {committed} (a snapshot whose bgwriter step failed, or one interrupted)")
        return result
    finally:
        load.stop()
        run.close()


# --------------------------------------------------------------- report --

def fmt(value, spec=".1f"):
    if value is None:
        return "-"
    if value == float("inf"):
        return "never"
    return format(value, spec)


def fmt_pct(value):
    return "-" if value is None else f"{value * 100:.1f}%"


def ratio(ours, reference):
    if ours is None or reference is None or reference == 0 or float("inf") in (ours, reference):
        return None
    return ours / reference


def phase_table(phase, o, r, args):
    targets = {}
    if phase.kind == "small" and (phase.servers, phase.frequency) == (500, 60):
        targets = {"snapshots": (">= 1.0x", lambda: ratio(o.get("snapshots"), r.get("snapshots")), 1.0, True),
                   "within": (">= 99%", lambda: o.get("within_1pct"), 0.99, True),
                   "cpu": ("<= 0.5x", lambda: ratio(o.get("cpu_tree_s"), r.get("cpu_tree_s")), 0.5, False),
                   "pss": ("<= 300 kB", lambda: o.get("pss_worker_kb"), 300, False),
                   "killed": ("0", lambda: o.get("log_watchdog", 0) + o.get("log_crashes", 0), 0, False)}
    elif phase.kind == "small" and (phase.servers, phase.frequency) == (1000, 300):
        targets = {"supervisor": ("< 1% of a core",
                                  lambda: o.get("cpu_supervisor_s") / o["cpu_window_s"] if o.get("cpu_window_s") else None,
                                  0.01, False),
                   "killed": ("0", lambda: o.get("log_watchdog", 0) + o.get("log_crashes", 0), 0, False),
                   "status": ("0", lambda: (o.get("status_late", 0) + o.get("status_never", 0))
                              if "status_sent" in o else None, 0, False),
                   "pss": ("<= 300 kB", lambda: o.get("pss_worker_kb"), 300, False)}
    elif phase.kind == "big":
        targets = {"snapshots": (">= 1.0x", lambda: ratio(o.get("snapshots"), r.get("snapshots")), 1.0, True)}

    def target(key):
        if key not in targets or not o:
            return "", ""
        text, value, limit, at_least = targets[key]
        v = value()
        if v is None:
            return text, ""
        return text, ("ok" if (v >= limit if at_least else v <= limit) else "MISSED")

    rows = []

    def add(metric, key, ours, reference, spec=".1f", show_ratio=True):
        rt = ratio(ours, reference) if show_ratio else None
        rows.append((metric, fmt(ours, spec) if not isinstance(ours, str) else ours,
                     fmt(reference, spec) if not isinstance(reference, str) else reference,
                     fmt(rt, ".2f"), *target(key)))

    def pct(metric, key, field):
        ov, rv = o.get(field), r.get(field)
        rows.append((metric, fmt_pct(ov), fmt_pct(rv), fmt(ratio(ov, rv), ".2f"), *target(key)))

    expected = "exactly" if phase.whole_periods() else "on average"
    add(f"snapshots in the window ({expected} {phase.ideal():.0f} at the frequency)", "snapshots", o.get("snapshots"),
        r.get("snapshots"), "d")
    add(f"servers with a snapshot (of {phase.servers})", "", o.get("servers_collected"),
        r.get("servers_collected"), "d")
    add("s from start until every server had a snapshot", "", o.get("warmup_s"), r.get("warmup_s"), ".1f")
    pct("intervals within 1% of the frequency", "within", "within_1pct")
    add("mean interval, s (above the frequency: drift)", "", o.get("mean_interval_s"), r.get("mean_interval_s"),
        ".3f", show_ratio=False)
    add(f"p99 interval, s (frequency {phase.frequency})", "", o.get("p99_interval_s"), r.get("p99_interval_s"), ".2f")
    add("max interval, s", "", o.get("max_interval_s"), r.get("max_interval_s"), ".2f")
    add(f"CPU s of the whole tree in the window", "cpu", o.get("cpu_tree_s"), r.get("cpu_tree_s"), ".1f")
    add("CPU s of the supervisor alone (ref: main thread)", "supervisor", o.get("cpu_supervisor_s"),
        r.get("cpu_supervisor_s"), ".2f")
    sup_o = o["cpu_supervisor_s"] / o["cpu_window_s"] if o.get("cpu_window_s") else None
    sup_r = r["cpu_supervisor_s"] / r["cpu_window_s"] if r.get("cpu_window_s") else None
    rows.append(("  supervisor, share of a core", fmt_pct(sup_o), fmt_pct(sup_r), fmt(ratio(sup_o, sup_r), ".2f"), "", ""))
    add("PSS MB of the tree (mean in the window)", "", o.get("pss_total_mb"), r.get("pss_total_mb"), ".1f")
    add("PSS kB a worker (ref: total / servers)", "pss", o.get("pss_worker_kb"), r.get("pss_worker_kb"), ".0f")
    add("workers killed by the watchdog", "killed", o.get("log_watchdog"), "n/a" if r else None, "d", False)
    add("worker crashes (other restarts)", "", o.get("log_crashes"), "n/a" if r else None, "d", False)

    def stop_text(x):
        if not x:
            return None
        text = f"{x['stop_main_s']:.1f}"
        if x.get("stop_killed"):
            text = f"> {args.stop_timeout:g} (SIGKILL)"
        if x.get("left_behind"):
            text += f", {x['left_behind']} left"
        return text
    rows.append(("time to stop after SIGTERM, s", stop_text(o) or "-", stop_text(r) or "-",
                 "" if o.get("stop_killed") or r.get("stop_killed") else
                 fmt(ratio(o.get("stop_main_s"), r.get("stop_main_s")), ".2f"), "", ""))
    add("  to the whole tree gone, s", "", o.get("stop_tree_s"), r.get("stop_tree_s"), ".1f")
    if "status_sent" in o or "status_sent" in r:
        def late(x):
            return None if "status_sent" not in x else f"{x['status_late']}/{x['status_never']}"
        rows.append((f"status of one server: late/never (of {args.status_requests}, {args.status_limit:g} s)",
                     late(o) or "-", late(r) or "-", "", *target("status")))
        add("status of one server: p99 ms", "", o.get("status_p99_ms"), r.get("status_p99_ms"), ".1f")
        add("status answers not saying running", "", o.get("status_not_running"), r.get("status_not_running"),
            "d", False)
    header = ("metric", "ours", "reference", "ratio", "target", "")
    cells = [header] + rows
    widths = [max(len(str(c[i])) for c in cells) for i in range(len(header))]
    lines = []
    for n, c in enumerate(cells):
        lines.append(" | ".join(str(v).ljust(widths[i]) for i, v in enumerate(c)).rstrip())
        if n == 0:
            lines.append("-+-".join("-" * w for w in widths))
    return "\n".join(lines)


# ----------------------------------------------------------------- main --

def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--env-dir", required=True)
    p.add_argument("--pg-env", required=True)
    p.add_argument("--bin-dir", required=True, help="where our powa-collector and powa-collector-worker are")
    p.add_argument("--reference-venv", required=True)
    p.add_argument("--workdir", required=True)
    p.add_argument("--small", default="500:60:240,1000:300:300",
                   help="small-server phases, SERVERS:FREQUENCY:WINDOW separated by commas; '' for none "
                        "(default %(default)s)")
    p.add_argument("--big", default="20:10:120",
                   help="the big-remote phase, SERVERS:FREQUENCY:WINDOW; '' for none (default %(default)s)")
    p.add_argument("--collectors", default="ours,reference", help="default %(default)s")
    p.add_argument("--status-requests", type=int, default=200,
                   help="single-server WORKERS_STATUS requests during each small phase's window (default 200)")
    p.add_argument("--status-limit", type=float, default=1.0, help="seconds an answer is waited for (default 1)")
    p.add_argument("--warmup-timeout", type=float, default=None,
                   help="longest wait for every server's first snapshot (default: frequency + 120 s)")
    p.add_argument("--grace", type=float, default=5.0,
                   help="seconds between the window's end and SIGTERM (default 5)")
    p.add_argument("--stop-timeout", type=float, default=120.0,
                   help="SIGKILL when the collector has not exited this long after SIGTERM (default 120)")
    p.add_argument("--max-concurrent-snapshots", type=int, default=None,
                   help="written as max_concurrent_snapshots into our configuration file (a build that "
                        "does not know the key logs that it ignores it)")
    p.add_argument("--small-statements", type=int, default=90,
                   help="distinct statements run on the small remote (default 90; its pg_stat_statements.max is 100)")
    p.add_argument("--load", default="quiet", choices=bench_load.CONDITIONS,
                   help="what else runs during each collector's run: quiet (nothing), burners (two CPU "
                        "burners), other (a build loop, pgbench on another cluster, another collector); "
                        "default %(default)s")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--keep", action="store_true", help="keep the repository databases")
    args = p.parse_args()

    phases = [Phase("small", s) for s in args.small.split(",") if s.strip()]
    phases += [Phase("big", s) for s in args.big.split(",") if s.strip()]
    collectors = [c for c in args.collectors.split(",") if c]
    for c in collectors:
        if c not in ("ours", "reference"):
            raise SystemExit(f"bench-scale: unknown collector '{c}'")
    if not phases:
        raise SystemExit("bench-scale: no phase to run")
    os.makedirs(args.workdir, exist_ok=True)

    most = max(ph.servers for ph in phases)
    repo = ensure_cluster(args, "powa4-repo", REPOSITORY_CLUSTER)
    configure(repo, {"max_connections": max(200, most + CONNECTION_MARGIN)})
    remotes, workloads = {}, {}
    if any(ph.kind == "small" for ph in phases):
        small = ensure_cluster(args, "powa4-remote", SMALL_CLUSTER)
        configure(small, {
            "listen_addresses": "0.0.0.0",
            "max_connections": max(200, max(ph.servers for ph in phases if ph.kind == "small") + CONNECTION_MARGIN),
            "pg_stat_statements.max": 100,
            # Sampling every backend every 10 ms would make PostgreSQL, not
            # the collectors, a large part of the load with 1,000 backends.
            "pg_wait_sampling.profile_period": 100,
            "pg_wait_sampling.history_period": 100,
        })
        check_loopback_only(small)
        remotes["small"], workloads["small"] = small, prepare_small_remote(small, args.workdir, args.small_statements)
    if any(ph.kind == "big" for ph in phases):
        big = ensure_cluster(args, "powa4-remote", BIG_CLUSTER)
        configure(big, {
            "listen_addresses": "0.0.0.0",
            "max_connections": max(200, max(ph.servers for ph in phases if ph.kind == "big") + CONNECTION_MARGIN),
        })
        check_loopback_only(big)
        remotes["big"], workloads["big"] = big, bench.prepare_remote(big, args.workdir, 1)

    load = bench_load.Load(args.load, args, args.workdir, ensure_cluster, remotes.get("small"), repo,
                           register)
    started = time.monotonic()
    results = []
    for phase in phases:
        outcome = {}
        for c in collectors:
            outcome[c] = run_phase(args, phase, c, repo, remotes[phase.kind], workloads[phase.kind], load)
        results.append((phase, outcome))
        with open(os.path.join(args.workdir, "results.json"), "w") as f:
            json.dump([{"phase": ph.name, "servers": ph.servers, "frequency": ph.frequency, "window": ph.window,
                        **out} for ph, out in results], f, indent=1, default=str)

    print()
    print(f"powa-collector scale benchmark, {time.strftime('%Y-%m-%d %H:%M')}, {os.cpu_count()} CPUs, "
          f"load average {open('/proc/loadavg').read().split()[0]}, {int(time.monotonic() - started)} s, "
          f"load: {args.load}"
          + (f", max_concurrent_snapshots {args.max_concurrent_snapshots}"
             if args.max_concurrent_snapshots is not None else ""))
    for phase, outcome in results:
        print()
        print(phase.title())
        print(phase_table(phase, outcome.get("ours", {}), outcome.get("reference", {}), args))
    print()
    print(f"(figures of every run: {os.path.join(args.workdir, 'results.json')})")


if __name__ == "__main__":
    main()
