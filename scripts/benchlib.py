"""Shared pieces of scripts/bench.py and scripts/soak.py.

Standard library plus psycopg2 (installed by scripts/bench and scripts/soak
in their tools virtual environment). Everything here reads the machine from
outside: /proc for processes, the repository for snapshots, LISTEN/NOTIFY
for the collector's answers, so that our collector and the reference one
are measured the same way.
"""
import json
import os
import select
import signal
import subprocess
import sys
import tempfile
import time

import psycopg2
import psycopg2.extensions

PSQL = "/usr/lib/postgresql/15/bin/psql"
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def log(prefix, message):
    print(f"{prefix}: {message}", file=sys.stderr, flush=True)


# ------------------------------------------------------------- processes --

def read_file(path):
    try:
        with open(path, "rb") as f:
            return f.read()
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return None


def proc_stat(pid):
    """Fields of /proc/PID/stat after the command name, or None."""
    raw = read_file(f"/proc/{pid}/stat")
    if raw is None:
        return None
    text = raw.decode("ascii", "replace")
    # The command name is in parentheses and may hold blanks.
    return text[text.rindex(")") + 2:].split()


def parent_map():
    """pid -> ppid for every process."""
    parents = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        fields = proc_stat(entry)
        if fields is None:
            continue
        parents[int(entry)] = int(fields[1])
    return parents


def process_tree(roots):
    """The roots that are alive and all their descendants."""
    parents = parent_map()
    children = {}
    for pid, ppid in parents.items():
        children.setdefault(ppid, []).append(pid)
    tree, todo = [], [r for r in roots if r in parents]
    while todo:
        pid = todo.pop()
        tree.append(pid)
        todo.extend(children.get(pid, []))
    return tree


def children_of(pid):
    return [p for p, pp in parent_map().items() if pp == pid]


def is_worker_launcher(pid):
    """Whether `pid` is our supervisor's worker launcher (not a worker)."""
    raw = read_file(f"/proc/{pid}/cmdline")
    return raw is not None and b"--launcher" in raw.split(b"\0")


def state_of(pid):
    fields = proc_stat(pid)
    return fields[0] if fields else None


def command_name(pid):
    raw = read_file(f"/proc/{pid}/comm")
    return raw.decode(errors="replace").strip() if raw else None


def cpu_seconds(pids):
    """CPU time of `pids`, every thread, and their reaped children.

    Live threads come from /proc/PID/task/TID/schedstat (nanoseconds, exact);
    children that were already reaped only exist in the parent's cutime and
    cstime (clock ticks).
    """
    total = 0.0
    for pid in pids:
        tasks_dir = f"/proc/{pid}/task"
        try:
            tids = os.listdir(tasks_dir)
        except (FileNotFoundError, ProcessLookupError):
            continue
        for tid in tids:
            raw = read_file(f"{tasks_dir}/{tid}/schedstat")
            if raw:
                total += int(raw.split()[0]) / 1e9
        fields = proc_stat(pid)
        if fields:
            total += (int(fields[13]) + int(fields[14])) / CLOCK_TICKS
    return total


def memory_kb(pids, field="Pss"):
    """Sum of a /proc/PID/smaps_rollup field (kB) over `pids`."""
    total = 0
    for pid in pids:
        raw = read_file(f"/proc/{pid}/smaps_rollup")
        if not raw:
            continue
        for line in raw.decode().splitlines():
            if line.startswith(field + ":"):
                total += int(line.split()[1])
                break
    return total


def open_descriptors(pid):
    """Kinds of the open descriptors of `pid`: {'socket': n, 'pipe': n, ...}."""
    kinds = {}
    try:
        fds = os.listdir(f"/proc/{pid}/fd")
    except (FileNotFoundError, ProcessLookupError):
        return None
    for fd in fds:
        try:
            target = os.readlink(f"/proc/{pid}/fd/{fd}")
        except OSError:
            continue
        kind = target.split(":")[0] if ":" in target and not target.startswith("/") else "file"
        kinds[kind] = kinds.get(kind, 0) + 1
    return kinds


def socket_inodes(pid):
    inodes = set()
    try:
        fds = os.listdir(f"/proc/{pid}/fd")
    except (FileNotFoundError, ProcessLookupError):
        return inodes
    for fd in fds:
        try:
            target = os.readlink(f"/proc/{pid}/fd/{fd}")
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(int(target[8:-1]))
    return inodes


def tcp_connections():
    """inode -> ((local ip, port), (remote ip, port)) for IPv4 TCP sockets."""
    def address(text):
        ip_hex, port_hex = text.split(":")
        ip = ".".join(str(int(ip_hex[i:i + 2], 16)) for i in (6, 4, 2, 0))
        return ip, int(port_hex, 16)
    table = {}
    raw = read_file("/proc/net/tcp")
    for line in (raw or b"").decode().splitlines()[1:]:
        parts = line.split()
        table[int(parts[9])] = (address(parts[1]), address(parts[2]))
    return table


def remote_endpoints(pid):
    """(host, port) pairs `pid` is connected to over TCP."""
    table = tcp_connections()
    return {table[i][1] for i in socket_inodes(pid) if i in table}


def pid_with_local_port(pids, port):
    """Which of `pids` owns the TCP socket whose local port is `port`."""
    table = tcp_connections()
    wanted = {i for i, (local, _) in table.items() if local[1] == port}
    for pid in pids:
        if socket_inodes(pid) & wanted:
            return pid
    return None


def wait_gone(pid, seconds):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        state = state_of(pid)
        if state is None:
            return True
        time.sleep(0.02)
    return False


# ----------------------------------------------------------------- psql --

class Cluster:
    """One pg-env.sh cluster, reached as the superuser over TCP."""

    def __init__(self, env_dir, name, pg_env):
        self.env_dir = env_dir
        self.name = name
        self.pg_env = pg_env
        with open(os.path.join(env_dir, name, "port")) as f:
            self.port = int(f.read().strip())

    def dsn(self, dbname="powa", host="127.0.0.1"):
        return f"host={host} port={self.port} user=postgres dbname={dbname}"

    def uri(self, dbname="powa"):
        return f"postgresql://postgres@127.0.0.1:{self.port}/{dbname}"

    def connect(self, dbname="powa", autocommit=True):
        conn = psycopg2.connect(self.dsn(dbname), application_name="powa-collector bench")
        conn.autocommit = autocommit
        return conn

    def psql(self, dbname="powa", sql=None, file=None, quiet=True):
        args = [PSQL, "-X", "-q", "-At", "-v", "ON_ERROR_STOP=1", "-h", "127.0.0.1",
                "-p", str(self.port), "-U", "postgres", "-d", dbname]
        if file:
            args += ["-f", file]
        if sql is not None:
            args += ["-c", sql]
        out = subprocess.run(args, check=True, capture_output=True, text=True)
        return out.stdout

    def ctl(self, action):
        subprocess.run([self.pg_env, "ctl", self.env_dir, self.name, action], check=True,
                       stdout=subprocess.DEVNULL)


def query(conn, sql, params=None):
    with conn.cursor() as cur:
        cur.execute(sql, params)
        return cur.fetchall() if cur.description else []


def scalar(conn, sql, params=None):
    rows = query(conn, sql, params)
    return rows[0][0] if rows else None


def create_repository(cluster, name):
    """A fresh repository database copied from pg-env's template."""
    admin = cluster.connect("postgres")
    try:
        for attempt in range(50):
            try:
                with admin.cursor() as cur:
                    cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
                    cur.execute(f'CREATE DATABASE "{name}" TEMPLATE powa_repo_template')
                break
            except psycopg2.errors.ObjectInUse:
                time.sleep(0.1)
    finally:
        admin.close()
    return name


def drop_database(cluster, name):
    try:
        admin = cluster.connect("postgres")
        with admin.cursor() as cur:
            cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()
    except psycopg2.Error:
        pass


EXTENSIONS = "{pg_stat_kcache,pg_qualstats,pg_wait_sampling,pg_track_settings}"


def register_servers(conn, hosts, port, frequency, coalesce=None):
    """Registers 127.0.0.N servers of one cluster; returns their srvids."""
    ids = []
    for host in hosts:
        query(conn, """SELECT powa_register_server(hostname => %s, port => %s, alias => %s,
                       username => 'postgres', dbname => 'powa', frequency => %s,
                       extensions => %s)""", (host, port, f"{host}:{port}", frequency, EXTENSIONS))
        ids.append(scalar(conn, "SELECT id FROM powa_servers WHERE hostname = %s AND port = %s", (host, port)))
    if coalesce is not None:
        query(conn, "UPDATE powa_servers SET powa_coalesce = %s WHERE id > 0", (coalesce,))
    return ids


def snapshot_counts(conn):
    """srvid -> coalesce_seq: powa_take_snapshot adds one per committed snapshot."""
    return dict(query(conn, "SELECT srvid, coalesce_seq FROM powa_snapshot_metas WHERE srvid > 0"))


# ---------------------------------------------------------------- NOTIFY --

class NotifyClient:
    """Sends powa-web's requests and waits for the answers, one at a time.

    Each request gets its own answer channel, so that a late answer to one
    request is never taken for the answer to the next."""

    def __init__(self, cluster, dbname, user=None):
        dsn = cluster.dsn(dbname)
        if user:
            dsn = dsn.replace("user=postgres", f"user={user}")
        self.conn = psycopg2.connect(dsn, application_name="powa-collector bench notify")
        self.conn.autocommit = True
        self.sequence = 0
        self.prefix = f"bench_{os.getpid()}_{int(time.time() * 1000) % 100000}"

    def close(self):
        try:
            self.conn.close()
        except psycopg2.Error:
            pass

    def send_raw(self, payload, channel="powa_collector"):
        with self.conn.cursor() as cur:
            cur.execute("SELECT pg_notify(%s, %s)", (channel, payload))

    def request(self, command, args="", timeout=3.0):
        """(answer payload or None, seconds from NOTIFY to answer)."""
        self.sequence += 1
        channel = f"{self.prefix}_{self.sequence}"
        with self.conn.cursor() as cur:
            cur.execute(f"LISTEN {channel}")
        self.conn.notifies.clear()
        payload = f"{command} {channel}" + (f" {args}" if args else "")
        started = time.perf_counter()
        with self.conn.cursor() as cur:
            cur.execute("SELECT pg_notify('powa_collector', %s)", (payload,))
        answer = None
        deadline = started + timeout
        while True:
            # The answer may already have arrived while pg_notify ran.
            self.conn.poll()
            for n in self.conn.notifies:
                if n.channel == channel and n.payload.startswith(command + " "):
                    answer = n.payload
                    break
            self.conn.notifies.clear()
            left = deadline - time.perf_counter()
            if answer is not None or left <= 0:
                break
            select.select([self.conn], [], [], left)
        elapsed = time.perf_counter() - started
        with self.conn.cursor() as cur:
            cur.execute(f"UNLISTEN {channel}")
        return answer, elapsed

    def workers_status(self, srvid=None, timeout=3.0):
        """({srvid: status} or None, round trip)."""
        answer, elapsed = self.request("WORKERS_STATUS", str(srvid) if srvid else "", timeout)
        if answer is None:
            return None, elapsed
        parts = answer.split(" ", 2)
        if len(parts) < 3 or parts[1] != "OK":
            return {"_answer": answer}, elapsed
        try:
            return {int(k): v for k, v in json.loads(parts[2]).items()}, elapsed
        except (ValueError, AttributeError):
            return {"_answer": answer}, elapsed


# ------------------------------------------------------------ collectors --

class Collector:
    """A collector process running in its own directory, stopped by SIGTERM."""

    label = "collector"

    def __init__(self, workdir):
        self.workdir = workdir
        self.process = None
        self.rusage = None
        self.exit_status = None
        # Keys added to the configuration file (ours only: see OurCollector).
        self.extra_config = {}

    def command(self):
        raise NotImplementedError

    def environment(self):
        env = dict(os.environ)
        env["HOME"] = self.workdir  # the reference also reads ~/.config/…
        return env

    def write_config(self, repository_uri):
        with open(os.path.join(self.workdir, "powa-collector.conf"), "w") as f:
            json.dump({"repository": {"dsn": repository_uri}, "debug": False, **self.extra_config}, f)

    def start(self, repository_uri):
        os.makedirs(self.workdir, exist_ok=True)
        self.write_config(repository_uri)
        self.log_path = os.path.join(self.workdir, "collector.log")
        self.log_file = open(self.log_path, "ab")
        self.process = subprocess.Popen(
            self.command(), cwd=self.workdir, env=self.environment(),
            stdin=subprocess.DEVNULL, stdout=self.log_file, stderr=self.log_file)
        return self.process.pid

    @property
    def pid(self):
        return self.process.pid

    def roots(self):
        return [self.process.pid]

    def alive(self):
        return self.process is not None and self.process.poll() is None

    def stop(self, timeout=30):
        """SIGTERM, wait (SIGKILL after `timeout`); keeps the rusage of the
        whole tree (wait4 counts the children the collector reaped)."""
        if self.process is None or self.exit_status is not None:
            return self.exit_status
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while True:
            pid, status, rusage = os.wait4(self.process.pid, os.WNOHANG)
            if pid:
                self.rusage = rusage
                self.exit_status = status
                self.process.returncode = os.waitstatus_to_exitcode(status)
                break
            if time.monotonic() > deadline:
                self.process.kill()
                deadline = time.monotonic() + 10
            time.sleep(0.05)
        self.log_file.close()
        return self.exit_status

    def log_tail(self, lines=20):
        try:
            with open(self.log_path, errors="replace") as f:
                return "".join(f.readlines()[-lines:])
        except OSError:
            return ""


class OurCollector(Collector):
    label = "ours"

    def __init__(self, workdir, bin_dir, extra_config=None):
        super().__init__(workdir)
        self.bin_dir = bin_dir
        # For example max_concurrent_snapshots: a build that does not know a
        # key logs "ignored unknown key" and runs on.
        self.extra_config = dict(extra_config or {})

    def command(self):
        return [os.path.join(self.bin_dir, "powa-collector"), "--config",
                os.path.join(self.workdir, "powa-collector.conf")]


class ReferenceCollector(Collector):
    label = "reference"

    def __init__(self, workdir, venv):
        super().__init__(workdir)
        self.venv = venv

    def command(self):
        return [os.path.join(self.venv, "bin", "python"), os.path.join(self.venv, "bin", "powa-collector.py")]


class OurWorkersOnly(Collector):
    """Our workers without the supervisor: the benchmark's fallback while the
    supervisor is not built. Starts one worker per active server with the
    same start line the supervisor sends, and stops them with `stop`."""

    label = "ours (workers only)"

    def __init__(self, workdir, bin_dir):
        super().__init__(workdir)
        self.bin_dir = bin_dir
        self.workers = []

    def start(self, repository_uri, conn=None):
        os.makedirs(self.workdir, exist_ok=True)
        self.log_path = os.path.join(self.workdir, "collector.log")
        self.log_file = open(self.log_path, "ab")
        rows = query(conn, """SELECT id, hostname, port, username, password, dbname, frequency
                              FROM powa_servers WHERE id > 0 AND frequency > 0 ORDER BY id""")
        for srvid, host, port, user, password, dbname, frequency in rows:
            worker = subprocess.Popen(
                [os.path.join(self.bin_dir, "powa-collector-worker"), "--parent-pid", str(os.getpid())],
                stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=self.log_file, cwd=self.workdir)
            start = {"type": "start", "config": {
                "srvid": srvid, "name": f"{host}:{port}", "frequency": frequency,
                "server": {"host": host, "port": port, "user": user, "password": password, "dbname": dbname},
                "repository_dsn": repository_uri, "debug": False}}
            worker.stdin.write((json.dumps(start) + "\n").encode())
            worker.stdin.flush()
            self.workers.append(worker)
        self.process = self.workers[0] if self.workers else None
        return self.process.pid if self.process else None

    def roots(self):
        return [w.pid for w in self.workers]

    def alive(self):
        return all(w.poll() is None for w in self.workers)

    def stop(self, timeout=30):
        for w in self.workers:
            try:
                w.stdin.write(b'{"type":"stop"}\n')
                w.stdin.close()
            except (BrokenPipeError, ValueError):
                pass
        for w in self.workers:
            try:
                w.wait(timeout)
            except subprocess.TimeoutExpired:
                w.kill()
                w.wait()
        self.log_file.close()
        self.exit_status = 0
        return 0


class Sampler:
    """Samples the peak of a tree's PSS in a background thread."""

    def __init__(self, roots_fn, interval=0.2):
        import threading
        self.roots_fn = roots_fn
        self.interval = interval
        self.peak_pss = 0
        self.peak_rss = 0
        self.stop_event = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)

    def start(self):
        self.thread.start()
        return self

    def sample(self):
        tree = process_tree(self.roots_fn())
        self.peak_pss = max(self.peak_pss, memory_kb(tree, "Pss"))
        self.peak_rss = max(self.peak_rss, memory_kb(tree, "Rss"))

    def run(self):
        while not self.stop_event.is_set():
            self.sample()
            self.stop_event.wait(self.interval)

    def stop(self):
        self.stop_event.set()
        self.thread.join()
        return self


def percentile(values, fraction):
    if not values:
        return None
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, int(round(fraction * (len(ordered) - 1)))))
    return ordered[index]


def median(values):
    return percentile(values, 0.5)


def make_workdir(base, name):
    path = os.path.join(base, name)
    os.makedirs(path, exist_ok=True)
    return path


def temp_base(prefix):
    return tempfile.mkdtemp(prefix=prefix)
