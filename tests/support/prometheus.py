"""A real Prometheus (Debian's /usr/bin/prometheus) run by a test: its own configuration, storage and port, no
service; queried through its HTTP API."""
import socket
import subprocess
import time

import requests
import yaml

BINARY = "/usr/bin/prometheus"


def free_port_block(count, first=20000, last=60000):
    """A port such that it and the next count - 1 are free on 127.0.0.1 now."""
    for base in range(first, last, 97):
        sockets = []
        try:
            for port in range(base, base + count):
                probe = socket.socket()
                sockets.append(probe)
                probe.bind(("127.0.0.1", port))
            return base
        except OSError:
            continue
        finally:
            for probe in sockets:
                probe.close()
    raise RuntimeError(f"no {count} free ports in a row")


class Prometheus:
    def __init__(self, workdir, port, scrape_configs, interval="1s"):
        self.url = f"http://127.0.0.1:{port}"
        self.log = workdir / "prometheus.log"
        config = workdir / "prometheus.yml"
        config.write_text(yaml.safe_dump({
            "global": {"scrape_interval": interval, "scrape_timeout": interval, "evaluation_interval": interval},
            "scrape_configs": scrape_configs}))
        self.process = subprocess.Popen(
            [BINARY, f"--config.file={config}", f"--storage.tsdb.path={workdir / 'data'}",
             f"--web.listen-address=127.0.0.1:{port}", "--log.level=warn"],
            stdout=open(self.log, "ab"), stderr=subprocess.STDOUT)

    def stop(self):
        self.process.terminate()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()

    def query(self, promql, at=None):
        """The instant vector `promql` gives (now, or at Unix time `at`): [(labels, value)]."""
        params = {"query": promql, **({"time": f"{at:.3f}"} if at is not None else {})}
        answer = requests.get(f"{self.url}/api/v1/query", params=params, timeout=10).json()
        assert answer["status"] == "success", answer
        return [(item["metric"], float(item["value"][1])) for item in answer["data"]["result"]]

    def value(self, promql, at=None):
        """The single value of `promql`, or None when it gives nothing."""
        result = self.query(promql, at)
        assert len(result) <= 1, result
        return result[0][1] if result else None

    def targets(self):
        answer = requests.get(f"{self.url}/api/v1/targets", timeout=10).json()
        return {(t["labels"]["job"], t["labels"]["instance"]): (t["health"], t["lastError"])
                for t in answer["data"]["activeTargets"]}

    def wait_for(self, what, probe, wanted=None, seconds=60):
        """Polls `probe()` until it returns `wanted` (or, without one, something true), which it returns; else
        fails saying what was awaited and what the probe last gave."""
        deadline, last = time.monotonic() + seconds, None
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"prometheus exited: {self.log.read_text()[-2000:]}")
            try:
                last = probe()
            except (requests.RequestException, ValueError) as exc:
                last = exc
            else:
                if (last == wanted) if wanted is not None else last:
                    return last
            time.sleep(0.5)
        raise AssertionError(f"{what} within {seconds} s; last: {last!r}")
