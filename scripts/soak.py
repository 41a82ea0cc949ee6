"""Fault soak of our powa-collector (run through scripts/soak).

For a bounded time, against 10 or more servers at a short frequency, at
random moments: SIGKILL a worker (half of the time one whose snapshot is in
flight), restart the repository, stop and start a remote, send hostile
NOTIFY payloads. A status request goes out every half second all along.
Then checks, and prints PASS or FAIL for each:

- every snapshot in the repository is whole: each `_tmp` table is empty
  (watched during the run and at the end), and for every server the
  datasources that always have rows hold the same snapshot timestamps,
  one per committed snapshot;
- none lost beyond the ones interrupted: every gap between two snapshots of
  a server longer than 1.5 periods began with a fault that hit that server
  and ended within two periods of that fault's end;
- every server collecting again at the end, every status `running`;
- no orphan or zombie processes, and the supervisor's open descriptors the
  same as at the start;
- the supervisor never restarted, answered every status request sent while
  the repository was up and it was listening, and exits 0 on SIGTERM.
"""
import argparse
import os
import random
import signal
import sys
import threading
import time

import psycopg2

import benchlib as b
from benchlib import query, scalar

# Datasources that have rows in every snapshot of a PoWA 4 server: their
# timestamps must match one another and the number of committed snapshots.
WHOLE_SNAPSHOT_TABLES = {
    "pg_stat_bgwriter": "SELECT (record).ts FROM powa_stat_bgwriter_history_current WHERE srvid = %s",
    "pg_stat_statements": "SELECT (record).ts FROM powa_statements_history_current_db WHERE srvid = %s",
    "pg_stat_statements (per query)": "SELECT (record).ts FROM powa_statements_history_current WHERE srvid = %s",
    "pg_stat_kcache": "SELECT (metrics).ts FROM powa_kcache_metrics_current_db WHERE srvid = %s",
}

HOSTILE_PAYLOADS = [
    "", " ", "   ", "WORKERS_STATUS", "WORKERS_STATUS -", "WORKERS_STATUS - 1",
    "workers_status soak_lower", "WORKERS_STATUS soak_x 99999999999999999999999",
    "WORKERS_STATUS soak_x -1", "WORKERS_STATUS soak_x 1 2 3 4",
    "WORKERS_STATUS \"; DROP TABLE powa_servers; --",
    "WORKERS_STATUS soak'quote", "WORKERS_STATUS soak\\back\\slash", "WORKERS_STATUS soak\"dq",
    "WORKERS_STATUS " + "c" * 200, "WORKERS_STATUS " + "é" * 3000,
    "WORKERS_STATUS soak_x " + "1 " * 3000, "WORKERS_STATUS soak_☃ ☃",
    "FORCE_SNAPSHOT soak_x", "FORCE_SNAPSHOT soak_x abc", "FORCE_SNAPSHOT soak_x 99999999999999999999",
    "FORCE_SNAPSHOT soak_x -5", "FORCE_SNAPSHOT soak_x 0", "FORCE_SNAPSHOT - 1",
    "REFRESH_DB_CAT soak_x", "REFRESH_DB_CAT soak_x 1", "REFRESH_DB_CAT soak_x 1 2 db1 db2",
    "REFRESH_DB_CAT soak_x 1 3 a", "REFRESH_DB_CAT soak_x 1 -1", "REFRESH_DB_CAT soak_x 1 1 " + "d" * 5000,
    "RELOAD", "RELOAD -", "RELOAD soak_x extra args", "NOPE soak_x", "DROP soak_x TABLE",
    "\t\tWORKERS_STATUS\tsoak_tab", "WORKERS_STATUS  soak_double_space", " " * 7990,
    "x" * 7999, "WORKERS_STATUS soak_x" + " " * 7900,
]


def say(message):
    b.log("soak", message)


class Faults:
    """What was done to whom and when (epoch seconds)."""

    def __init__(self):
        self.lock = threading.Lock()
        self.items = []
        self.repository_down = threading.Event()

    def add(self, kind, start, end, servers, detail=""):
        with self.lock:
            self.items.append({"kind": kind, "start": start, "end": end, "servers": servers, "detail": detail})

    def count(self, kind):
        return sum(1 for f in self.items if f["kind"] == kind)


class StatusWatcher(threading.Thread):
    """Asks WORKERS_STATUS every `interval`; an unanswered request counts
    against the supervisor unless the repository was down meanwhile or the
    supervisor had not listened again since it came back."""

    def __init__(self, repo, dbname, faults, interval=0.5, timeout=3.0):
        super().__init__(daemon=True)
        self.repo, self.dbname, self.faults = repo, dbname, faults
        self.interval, self.timeout = interval, timeout
        self.stop_event = threading.Event()
        self.sent = self.answered = 0
        self.unanswered = []
        self.recoveries = []  # seconds from repository up to first answer
        self.client = None
        self.recovering_since = None
        self.last_status = None

    def connect(self):
        if self.client:
            self.client.close()
        self.client = None
        try:
            self.client = b.NotifyClient(self.repo, self.dbname)
        except psycopg2.Error:
            pass

    def run(self):
        while not self.stop_event.is_set():
            if self.faults.repository_down.is_set():
                self.recovering_since = None
                if self.client:
                    self.client.close()
                    self.client = None
                self.stop_event.wait(0.1)
                continue
            if self.client is None:
                self.connect()
                if self.client is None:
                    self.stop_event.wait(0.2)
                    continue
                if self.recovering_since is None and self.sent:
                    self.recovering_since = time.time()
            at = time.time()
            try:
                status, _ = self.client.workers_status(timeout=self.timeout)
            except psycopg2.Error:
                self.client = None
                continue
            if self.faults.repository_down.is_set():
                continue
            if self.recovering_since is not None:
                # After a repository restart the supervisor must listen again first.
                if status is not None:
                    self.recoveries.append(time.time() - self.recovering_since)
                    self.recovering_since = None
                elif time.time() - self.recovering_since > 60:
                    self.unanswered.append(at)
                    self.recovering_since = None
                continue
            self.sent += 1
            if status is None:
                self.unanswered.append(at)
            else:
                self.answered += 1
                self.last_status = status
            self.stop_event.wait(self.interval)

    def stop(self):
        self.stop_event.set()
        self.join()
        if self.client:
            self.client.close()


class Soak:
    def __init__(self, args):
        self.args = args
        self.rng = random.Random(args.seed)
        self.repo = b.Cluster(args.env_dir, "repository", args.pg_env)
        self.remote_a = b.Cluster(args.env_dir, "remote", args.pg_env)
        self.remote_b = b.Cluster(args.env_dir, args.second_remote, args.pg_env)
        self.faults = Faults()
        self.checks = []
        self.tmp_violations = []
        self.worker_exe = os.path.realpath(os.path.join(args.bin_dir, "powa-collector-worker"))

    # ----------------------------------------------------------- helpers --

    def check(self, name, ok, detail=""):
        self.checks.append((name, ok, detail))
        print(f"{'PASS' if ok else 'FAIL'}  {name}" + (f": {detail}" if detail else ""), flush=True)

    def workers(self):
        return [p for p in b.children_of(self.collector.pid) if not b.is_worker_launcher(p)]

    def server_of(self, pid):
        for host, port in b.remote_endpoints(pid):
            if (host, port) in self.servers:
                return self.servers[(host, port)]
        return None

    def descriptors(self, pid):
        """The supervisor's descriptors by kind, without the worker
        launcher's socket: killed by the soak, the launcher comes back only
        with the next worker started 30 s or more after the last launch."""
        fds = b.open_descriptors(pid) or {}
        if any(b.is_worker_launcher(p) for p in b.children_of(pid)) and fds.get("socket"):
            fds["socket"] -= 1
        return fds

    def our_worker_processes(self):
        found = []
        for entry in os.listdir("/proc"):
            if entry.isdigit():
                try:
                    if os.readlink(f"/proc/{entry}/exe") == self.worker_exe:
                        found.append(int(entry))
                except OSError:
                    pass
        return found

    def repo_conn(self):
        for _ in range(100):
            try:
                return self.repo.connect(self.dbname)
            except psycopg2.OperationalError:
                time.sleep(0.2)
        raise SystemExit("soak: repository unreachable")

    def watch_tmp_tables(self):
        """Committed data never leaves rows in a `_tmp` table."""
        try:
            conn = self.repo.connect(self.dbname)
        except psycopg2.Error:
            return
        try:
            for (table,) in query(conn, self.tmp_tables_sql):
                n = scalar(conn, f"SELECT count(*) FROM {table}")
                if n:
                    self.tmp_violations.append((time.time(), table, n))
        except psycopg2.Error:
            pass
        finally:
            conn.close()

    tmp_tables_sql = """SELECT format('%I.%I', n.nspname, c.relname) FROM pg_class c
                        JOIN pg_namespace n ON n.oid = c.relnamespace
                        WHERE c.relkind = 'r' AND c.relname LIKE '%\\_tmp' ORDER BY 1"""

    # ------------------------------------------------------------ faults --

    def kill_worker(self):
        mid = self.rng.random() < 0.5
        victim = None
        if mid:
            deadline = time.time() + 2 * self.args.frequency
            conn = self.repo_conn()
            try:
                while victim is None and time.time() < deadline:
                    ports = [p for (p,) in query(conn, """
                        SELECT client_port FROM pg_stat_activity
                        WHERE datname = current_database() AND pid <> pg_backend_pid()
                          AND xact_start IS NOT NULL AND client_port IS NOT NULL
                          AND application_name NOT LIKE '%%main thread%%'
                          AND application_name NOT LIKE 'powa-collector bench%%'""")]
                    workers = self.workers()
                    for port in ports:
                        victim = b.pid_with_local_port(workers, port)
                        if victim:
                            break
                    if victim is None:
                        time.sleep(0.03)
            finally:
                conn.close()
        if victim is None:
            mid = False
            workers = self.workers()
            if not workers:
                return
            victim = self.rng.choice(workers)
        srvid = self.server_of(victim)
        at = time.time()
        try:
            os.kill(victim, signal.SIGKILL)
        except ProcessLookupError:
            return
        # The fault lasts until a new worker of that server runs again
        # (judged by its remote connection); at most 30 s.
        end = at
        deadline = at + 30
        while time.time() < deadline:
            new = [p for p in self.workers() if p != victim and srvid is not None and self.server_of(p) == srvid]
            if new:
                end = time.time()
                break
            time.sleep(0.05)
        else:
            end = time.time()
        self.faults.add("kill mid-snapshot" if mid else "kill", at, end,
                        [srvid] if srvid else list(self.servers.values()), f"pid {victim}")
        say(f"SIGKILL worker {victim} (server {srvid}){' during its snapshot' if mid else ''}")

    def kill_launcher(self, pid):
        """SIGKILL the worker launcher: workers must not notice, and those
        started afterwards come from posix_spawn or a new launcher."""
        launchers = [p for p in b.children_of(pid) if b.is_worker_launcher(p)]
        if not launchers:
            return
        at = time.time()
        try:
            os.kill(launchers[0], signal.SIGKILL)
        except ProcessLookupError:
            return
        self.faults.add("kill launcher", at, at, [], f"pid {launchers[0]}")
        say(f"SIGKILL worker launcher {launchers[0]}")

    def restart_repository(self):
        at = time.time()
        self.faults.repository_down.set()
        try:
            self.repo.ctl("restart")
        finally:
            end = time.time()
            self.faults.repository_down.clear()
        self.faults.add("repository restart", at, end, list(self.servers.values()))
        say(f"repository restarted in {end - at:.1f} s")

    def stop_start_remote(self):
        at = time.time()
        self.remote_b.ctl("stop")
        down = self.rng.uniform(1, 3 * self.args.frequency)
        time.sleep(down)
        self.remote_b.ctl("start")
        end = time.time()
        self.faults.add("remote stop/start", at, end, self.remote_b_servers)
        say(f"remote {self.remote_b.name} down for {end - at:.1f} s")

    def hostile_notifies(self):
        at = time.time()
        sample = self.rng.sample(HOSTILE_PAYLOADS, k=min(12, len(HOSTILE_PAYLOADS)))
        try:
            client = b.NotifyClient(self.repo, self.dbname)
            for payload in sample:
                client.send_raw(payload)
            # A burst without waiting, answer channels included.
            for i in range(50):
                client.send_raw(f"WORKERS_STATUS soak_burst_{i}")
            client.close()
            # Someone without the right to ask gets no status.
            nobody = b.NotifyClient(self.repo, self.dbname, user=b_unprivileged())
            answer, _ = nobody.request("WORKERS_STATUS", timeout=3)
            nobody.close()
            if answer is not None and answer.split(" ")[1:2] == ["OK"]:
                self.hostile_failures.append(f"unprivileged role got {answer[:80]!r}")
        except psycopg2.Error as e:
            if not self.faults.repository_down.is_set():
                self.hostile_failures.append(f"client error: {e}")
        self.faults.add("hostile NOTIFY", at, time.time(), [])
        say(f"sent {len(sample)} hostile payloads and a burst of 50 requests")

    # -------------------------------------------------------------- run --

    def setup(self):
        self.dbname = b.create_repository(self.repo, f"soak_{os.getpid()}")
        conn = self.repo.connect(self.dbname)
        n_a = self.args.servers - self.args.servers_on_second
        hosts_a = [f"127.0.0.{i}" for i in range(1, n_a + 1)]
        hosts_b = [f"127.0.0.{i}" for i in range(1, self.args.servers_on_second + 1)]
        ids_a = b.register_servers(conn, hosts_a, self.remote_a.port, self.args.frequency)
        ids_b = b.register_servers(conn, hosts_b, self.remote_b.port, self.args.frequency)
        # Keep every snapshot in the *_current tables, where they can be checked.
        query(conn, "UPDATE powa_servers SET powa_coalesce = 1000000 WHERE id > 0")
        self.servers = {(h, self.remote_a.port): s for h, s in zip(hosts_a, ids_a)}
        self.servers.update({(h, self.remote_b.port): s for h, s in zip(hosts_b, ids_b)})
        self.remote_b_servers = ids_b
        self.initial_seq = b.snapshot_counts(conn)
        conn.close()

    def run(self):
        args = self.args
        self.setup()
        self.hostile_failures = []
        workdir = b.make_workdir(args.workdir, "collector")
        self.collector = b.OurCollector(workdir, args.bin_dir)
        self.collector.start(self.repo.uri(self.dbname))
        pid = self.collector.pid
        say(f"supervisor {pid}, {len(self.servers)} servers every {args.frequency} s, "
            f"{args.minutes:g} min of faults")
        srvids = sorted(self.servers.values())

        # Warm-up: every worker running and one snapshot of each server.
        client = b.NotifyClient(self.repo, self.dbname)
        deadline = time.time() + 3 * args.frequency + 60
        while True:
            if not self.collector.alive():
                raise SystemExit(f"soak: supervisor exited:\n{self.collector.log_tail()}")
            status, _ = client.workers_status(timeout=2)
            conn = self.repo.connect(self.dbname)
            seq = b.snapshot_counts(conn)
            conn.close()
            if status and all(status.get(s) == "running" for s in srvids) and \
                    all(seq[s] > self.initial_seq[s] for s in srvids):
                break
            if time.time() > deadline:
                raise SystemExit(f"soak: warm-up failed: {status}\n{self.collector.log_tail()}")
            time.sleep(0.5)
        client.close()
        self.started = time.time()
        baseline_fds = self.descriptors(pid)
        say(f"warm-up done; supervisor descriptors {baseline_fds}")

        watcher = StatusWatcher(self.repo, self.dbname, self.faults)
        watcher.start()
        settle = 3 * args.frequency + 10
        end_faults = self.started + args.minutes * 60
        weights = [("kill", 45), ("hostile", 30), ("remote", 15), ("repository", 10), ("launcher", 5)]
        next_tmp_check = 0
        while time.time() < end_faults:
            if not self.collector.alive():
                break
            if time.time() > next_tmp_check:
                self.watch_tmp_tables()
                next_tmp_check = time.time() + 5
            time.sleep(self.rng.uniform(args.min_gap, args.max_gap))
            kind = self.rng.choices([k for k, _ in weights], [w for _, w in weights])[0]
            if kind == "kill":
                self.kill_worker()
            elif kind == "hostile":
                self.hostile_notifies()
            elif kind == "remote":
                self.stop_start_remote()
            elif kind == "launcher":
                self.kill_launcher(pid)
            else:
                self.restart_repository()
        say(f"faults over; letting every server settle for {settle} s")
        settle_end = time.time() + settle
        while time.time() < settle_end and self.collector.alive():
            self.watch_tmp_tables()
            time.sleep(min(5, max(0.1, settle_end - time.time())))
        watcher.stop()
        self.final_checks(pid, baseline_fds, watcher, srvids)

    # ------------------------------------------------------------ checks --

    def final_checks(self, pid, baseline_fds, watcher, srvids):
        args = self.args
        alive = self.collector.alive()
        self.check("supervisor never restarted (same process, alive)", alive and b.state_of(pid) not in (None, "Z"),
                   f"pid {pid}")
        client = b.NotifyClient(self.repo, self.dbname)
        status, _ = client.workers_status(timeout=3)
        client.close()
        not_running = {s: (status or {}).get(s) for s in srvids if (status or {}).get(s) != "running"}
        self.check("every status `running` at the end", status is not None and not not_running,
                   "" if not not_running else f"{not_running}")
        conn = self.repo.connect(self.dbname)
        recent = dict(query(conn, """SELECT srvid, extract(epoch FROM now() - snapts)
                                     FROM powa_snapshot_metas WHERE srvid > 0"""))
        conn.close()
        stale = {s: round(float(recent[s]), 1) for s in srvids if float(recent[s]) > 2 * args.frequency + 5}
        self.check("every server collecting again at the end", not stale,
                   f"seconds since last snapshot: {stale}" if stale else "")

        workers = self.workers()
        zombies = [p for p in workers if b.state_of(p) == "Z"]
        launcher = [p for p in b.children_of(pid) if b.is_worker_launcher(p)]
        orphans = [p for p in self.our_worker_processes() if p not in workers and p not in launcher]
        self.check("one worker per server, no zombie, no orphan",
                   len(workers) == len(srvids) and not zombies and not orphans,
                   f"{len(workers)} workers, zombies {zombies}, orphans {orphans}")
        fds = self.descriptors(pid)
        self.check("supervisor's open descriptors as at the start (besides the launcher's socket)",
                   fds == baseline_fds,
                   f"start {baseline_fds}, end {fds}")
        self.check("every status request answered", not watcher.unanswered and watcher.sent > 0,
                   f"{watcher.answered}/{watcher.sent} answered; back to answering "
                   f"{max(watcher.recoveries) if watcher.recoveries else 0:.1f} s at most after a repository restart"
                   + (f"; unanswered at {[time.strftime('%H:%M:%S', time.localtime(t)) for t in watcher.unanswered]}"
                      if watcher.unanswered else ""))
        self.check("hostile payloads changed nothing", not self.hostile_failures,
                   "; ".join(self.hostile_failures[:3]))

        exit_status = self.collector.stop(timeout=20)
        code = os.waitstatus_to_exitcode(exit_status) if exit_status is not None else None
        left = []
        deadline = time.time() + 5
        while time.time() < deadline:
            left = self.our_worker_processes()
            if not left:
                break
            time.sleep(0.1)
        self.check("SIGTERM: supervisor exits 0 and leaves no worker behind", code == 0 and not left,
                   f"exit {code}, left {left}")

        conn = self.repo_conn()
        full = []
        for (table,) in query(conn, self.tmp_tables_sql):
            n = scalar(conn, f"SELECT count(*) FROM {table}")
            if n:
                full.append(f"{table}: {n}")
        self.check("every _tmp table empty after commit", not full and not self.tmp_violations,
                   "; ".join(full) + (f" during the run: {self.tmp_violations[:3]}" if self.tmp_violations else ""))
        self.check_whole_snapshots(conn, srvids)
        self.check_gaps(conn, srvids)
        conn.close()
        counts = {k: self.faults.count(k) for k in
                  ("kill", "kill mid-snapshot", "kill launcher", "repository restart", "remote stop/start",
                   "hostile NOTIFY")}
        say(f"faults: {counts}")
        say(f"collector log: {self.collector.log_path}")

    def check_whole_snapshots(self, conn, srvids):
        seq = b.snapshot_counts(conn)
        problems = []
        self.timestamps = {}
        total = 0
        for s in srvids:
            committed = seq[s] - self.initial_seq[s]
            total += committed
            sets = {}
            for name, sql in WHOLE_SNAPSHOT_TABLES.items():
                sets[name] = sorted({r[0] for r in query(conn, sql, (s,))})
            reference = sets["pg_stat_bgwriter"]
            self.timestamps[s] = reference
            bgwriter_rows = scalar(conn, "SELECT count(*) FROM powa_stat_bgwriter_history_current WHERE srvid = %s",
                                   (s,))
            if bgwriter_rows != committed or len(reference) != committed:
                problems.append(f"server {s}: {committed} committed, {bgwriter_rows} bgwriter rows")
            for name, values in sets.items():
                if values != reference:
                    missing = sorted(set(reference) - set(values))[:2]
                    extra = sorted(set(values) - set(reference))[:2]
                    problems.append(f"server {s}: {name} differs (missing {missing}, extra {extra})")
        self.total_snapshots = total
        self.check("no server with half a snapshot", not problems,
                   f"{total} snapshots of {len(srvids)} servers checked in {len(WHOLE_SNAPSHOT_TABLES)} datasources"
                   + ("; " + "; ".join(problems[:4]) if problems else ""))

    def check_gaps(self, conn, srvids):
        f = self.args.frequency
        unexplained, explained = [], 0
        for s in srvids:
            times = [t.timestamp() for t in self.timestamps[s] if t.timestamp() >= self.started - f]
            for a, z in zip(times, times[1:]):
                if z - a <= 1.5 * f + 1:
                    continue
                causes = [x for x in self.faults.items
                          if (s in x["servers"]) and a - 1 <= x["start"] <= z]
                if causes and z <= max(x["end"] for x in causes) + 2 * f + 5:
                    explained += 1
                else:
                    unexplained.append(f"server {s}: {z - a:.1f} s after "
                                       f"{time.strftime('%H:%M:%S', time.localtime(a))}")
        expected = sum(int((time.time() - self.started) / f) for _ in srvids)
        self.check("no snapshot lost beyond the ones interrupted", not unexplained,
                   f"{self.total_snapshots} committed (about {expected} scheduled), "
                   f"{explained} gaps explained by faults" + ("; " + "; ".join(unexplained[:4]) if unexplained else ""))


def b_unprivileged():
    return os.environ.get("POWA_TEST_UNPRIVILEGED_ROLE", "powa_nobody")


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--env-dir", required=True)
    p.add_argument("--pg-env", required=True)
    p.add_argument("--second-remote", default="remote2", help="cluster stopped and started by the soak")
    p.add_argument("--bin-dir", required=True)
    p.add_argument("--workdir", required=True)
    p.add_argument("--minutes", type=float, default=3)
    p.add_argument("--servers", type=int, default=12)
    p.add_argument("--servers-on-second", type=int, default=4)
    p.add_argument("--frequency", type=int, default=5)
    p.add_argument("--min-gap", type=float, default=1, help="seconds between faults, at least")
    p.add_argument("--max-gap", type=float, default=6, help="seconds between faults, at most")
    p.add_argument("--seed", type=int, default=None)
    args = p.parse_args()
    if args.seed is None:
        args.seed = random.randrange(1 << 30)
    say(f"seed {args.seed} (--seed {args.seed} replays the same choices)")
    soak = Soak(args)
    try:
        soak.run()
    finally:
        if getattr(soak, "collector", None) is not None and soak.collector.exit_status is None:
            soak.collector.stop()
    failed = [c for c in soak.checks if not c[1]]
    print(f"\nsoak: {'PASS' if not failed else 'FAIL'} ({len(soak.checks) - len(failed)}/{len(soak.checks)} checks)")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
