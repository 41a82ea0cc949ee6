"""Load conditions for scripts/bench-scale (--load), the three of the scale
issue, started around each collector's run and stopped after it:

- quiet: nothing besides the collector under test;
- burners: two processes that spin on the CPU (as many as this machine's 2
  cores), at the default priority;
- other: other work of the kinds a collector's machine also does: a build
  (a C compiler run over and over), another PostgreSQL cluster under
  pgbench (4 clients), and another collector (the reference, collecting 50
  of the small servers at frequency 10 into a repository database of its
  own).

Every process is started here in a session of its own and ended by its
process group id when the run ends.
"""
import os
import signal
import subprocess
import sys
import time

import benchlib as b

CONDITIONS = ("quiet", "burners", "other")
OTHER_CLUSTER = "pgbench"
OTHER_COLLECTOR_SERVERS = 50
OTHER_COLLECTOR_FREQUENCY = 10

BUILD_SOURCE = r"""
#include <stdio.h>
#define F(n) static double f##n(double x) { double s = 0; for (int i = 0; i < 200; i++) s += x * i / (n + 1.0); return s; }
F(0) F(1) F(2) F(3) F(4) F(5) F(6) F(7) F(8) F(9) F(10) F(11) F(12) F(13) F(14) F(15)
int main(void) { printf("%f\n", f0(1) + f1(2) + f2(3) + f3(4) + f4(5) + f5(6) + f6(7) + f7(8) + f8(9) + f9(10)
                        + f10(1) + f11(1) + f12(1) + f13(1) + f14(1) + f15(1)); return 0; }
"""


def say(message):
    b.log("bench-scale", message)


class Load:
    """One load condition, started before a collector's run, stopped after."""

    def __init__(self, condition, args, workdir, ensure_cluster, small_remote, repository, register):
        if condition not in CONDITIONS:
            raise SystemExit(f"bench-scale: unknown load '{condition}' (one of {', '.join(CONDITIONS)})")
        self.condition, self.args, self.workdir = condition, args, workdir
        self.ensure_cluster, self.small, self.repo, self.register = ensure_cluster, small_remote, repository, register
        self.processes = []
        self.other_collector = None
        self.other_db = None
        if condition == "other" and small_remote is None:
            raise SystemExit("bench-scale: --load other needs a --small phase (its other collector uses that remote)")
        if condition == "other":
            self.pgbench_cluster = ensure_cluster(args, "powa4-remote", OTHER_CLUSTER)
            conn = self.pgbench_cluster.connect("postgres")
            try:
                if not b.scalar(conn, "SELECT count(*) FROM pg_database WHERE datname = 'pgbench'"):
                    b.query(conn, "CREATE DATABASE pgbench")
            finally:
                conn.close()
            subprocess.run([self.pgbench_bin(), "-i", "-q", "-s", "10", *self.pgbench_target()],
                           check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            self.source = os.path.join(workdir, "load-build.c")
            with open(self.source, "w") as f:
                f.write(BUILD_SOURCE)

    def pgbench_bin(self):
        return os.path.join(open(os.path.join(self.pgbench_cluster.env_dir, OTHER_CLUSTER, "bindir")).read().strip(),
                            "pgbench")

    def pgbench_target(self):
        return ["-h", "127.0.0.1", "-p", str(self.pgbench_cluster.port), "-U", "postgres", "pgbench"]

    def spawn(self, command, **kwargs):
        process = subprocess.Popen(command, start_new_session=True, stdout=subprocess.DEVNULL,
                                   stderr=subprocess.DEVNULL, **kwargs)
        self.processes.append(process)
        return process

    def start(self, run_name):
        if self.condition == "quiet":
            return
        if self.condition == "burners":
            for _ in range(2):
                self.spawn([sys.executable, "-c", "while True: pass"])
            say(f"{run_name}: load: 2 CPU burners")
            return
        out = os.path.join(self.workdir, "load-build.out")
        self.spawn(["sh", "-c", f"while :; do cc -O2 -o '{out}' '{self.source}' || sleep 1; done"])
        self.spawn([self.pgbench_bin(), "-c", "4", "-j", "2", "-T", "100000", "-n", *self.pgbench_target()])
        self.other_db = b.create_repository(self.repo, f"scale_load_other_{os.getpid()}")
        conn = self.repo.connect(self.other_db)
        try:
            self.register(conn, [f"127.0.{200 + i // 250}.{1 + i % 250}" for i in range(OTHER_COLLECTOR_SERVERS)],
                          self.small.port, OTHER_COLLECTOR_FREQUENCY)
        finally:
            conn.close()
        self.other_collector = b.ReferenceCollector(b.make_workdir(self.workdir, f"load-other-{run_name}"),
                                                    self.args.reference_venv)
        self.other_collector.start(self.repo.uri(self.other_db))
        say(f"{run_name}: load: a C build loop, pgbench -c 4 on cluster {OTHER_CLUSTER}, and the reference "
            f"collecting {OTHER_COLLECTOR_SERVERS} servers at frequency {OTHER_COLLECTOR_FREQUENCY}")

    def stop(self):
        for process in self.processes:
            try:
                os.killpg(process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            process.wait()
        self.processes = []
        if self.other_collector is not None:
            self.other_collector.stop(timeout=5)
            self.other_collector = None
        if self.other_db is not None:
            time.sleep(1)
            b.drop_database(self.repo, self.other_db)
            self.other_db = None
