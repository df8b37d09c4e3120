"""A real mosquitto broker for tests and benchmarks, on a free 127.0.0.1 port in its own folder.

`Mosquitto(folder).start()` writes a config file, runs `mosquitto -c <conf>` and waits until the
port accepts connections; `stop()` ends it the polite way (SIGTERM: it saves its persistence
file), `kill()` the rude way (SIGKILL: nothing saved, like a power cut), `restart()` brings it
back on the same port. `restart(wipe=True)` deletes the persistence file first: a broker that
lost its retained messages and sessions.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path
from types import TracebackType

HOST = "127.0.0.1"
MOSQUITTO_ENV = "MOSQUITTO"  # path of the broker binary, if not on PATH or in /usr/sbin
FALLBACK_PATHS = (Path("/usr/sbin/mosquitto"), Path("/usr/local/sbin/mosquitto"))
PASSWD_BINARY = "mosquitto_passwd"
START_TIMEOUT_S = 10.0
STOP_TIMEOUT_S = 10.0
POLL_INTERVAL_S = 0.02
CONNECT_PROBE_TIMEOUT_S = 0.5
PERSISTENCE_FILE = "mosquitto.db"
LOG_TAIL_CHARS = 2000


def find_mosquitto() -> str | None:
    """The mosquitto binary: $MOSQUITTO, else on PATH, else a usual sbin path; None if absent."""
    named = os.environ.get(MOSQUITTO_ENV)
    if named:
        return named if Path(named).is_file() else None
    found = shutil.which("mosquitto")
    if found:
        return found
    return next((str(p) for p in FALLBACK_PATHS if p.is_file()), None)


def find_passwd_tool() -> str | None:
    """`mosquitto_passwd`, beside the broker or on PATH; None if absent."""
    broker = find_mosquitto()
    if broker:
        for folder in (Path(broker).parent, Path(broker).parent.parent / "bin"):
            candidate = folder / PASSWD_BINARY
            if candidate.is_file():
                return str(candidate)
    return shutil.which(PASSWD_BINARY)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((HOST, 0))
        port: int = probe.getsockname()[1]
        return port


def port_accepts(port: int) -> bool:
    try:
        with socket.create_connection((HOST, port), timeout=CONNECT_PROBE_TIMEOUT_S):
            return True
    except OSError:
        return False


class BrokerError(RuntimeError):
    """The broker did not start or stop as asked."""


class Mosquitto:
    """One mosquitto process, restartable on the same port, with its files in `folder`."""

    def __init__(
        self,
        folder: Path,
        *,
        persistence: bool = True,
        tcp_nodelay: bool = False,
        users: dict[str, str] | None = None,
        tls: tuple[Path, Path] | None = None,
        binary: str | None = None,
        log_packets: bool = True,
    ) -> None:
        found = binary or find_mosquitto()
        if found is None:
            raise BrokerError("the mosquitto binary is not installed")
        self.binary = found
        self.folder = folder
        self.host = HOST
        self.port = free_port()
        self.persistence = persistence
        self.tcp_nodelay = tcp_nodelay
        self.users = dict(users or {})
        self.tls = tls  # (certificate, key) in PEM: the listener speaks TLS only
        self.log_packets = log_packets  # every packet in the log, else mosquitto's default types
        self.conf_path = folder / "mosquitto.conf"
        self.log_path = folder / "mosquitto.log"
        self.password_file = folder / "passwords" if self.users else None
        self._process: subprocess.Popen[bytes] | None = None

    def _write_password_file(self) -> None:
        if self.password_file is None:
            return
        tool = find_passwd_tool()
        if tool is None:
            raise BrokerError(f"{PASSWD_BINARY} is not installed: no broker with passwords")
        self.password_file.unlink(missing_ok=True)
        self.password_file.touch(mode=0o600)
        for user, password in self.users.items():
            subprocess.run(
                [tool, "-b", str(self.password_file), user, password],
                check=True,
                capture_output=True,
            )

    def _write_conf(self) -> None:
        lines = [
            f"listener {self.port} {HOST}",
            f"log_dest file {self.log_path}",
            *(["log_type all"] if self.log_packets else []),
            "connection_messages true",
            f"persistence {'true' if self.persistence else 'false'}",
            f"persistence_location {self.folder}/",
            f"persistence_file {PERSISTENCE_FILE}",
            f"set_tcp_nodelay {'true' if self.tcp_nodelay else 'false'}",
        ]
        if self.tls is not None:
            lines += [f"certfile {self.tls[0]}", f"keyfile {self.tls[1]}"]
        if os.geteuid() == 0:
            lines.append("user root")  # else it drops to user mosquitto and cannot write here
        if self.password_file is not None:
            lines += ["allow_anonymous false", f"password_file {self.password_file}"]
        else:
            lines.append("allow_anonymous true")
        self.conf_path.write_text("\n".join(lines) + "\n")

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def log_text(self) -> str:
        """What the broker logged so far (every packet: `log_type all`)."""
        try:
            return self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def acknowledged_by(self, client_id: str) -> int:
        """How many messages `client_id` has acknowledged to the broker so far (QoS 1 PUBACKs,
        counted in the log: needs `log_packets`). For restday, an input acknowledged is one
        its store made durable."""
        if not self.log_packets:
            raise BrokerError("acknowledgements are only in the log with log_packets=True")
        return self.log_text().count(f"Received PUBACK from {client_id} (")

    def start(self) -> None:
        """Run the broker and return once its port accepts connections."""
        if self.running:
            return
        self.folder.mkdir(parents=True, exist_ok=True)
        self._write_password_file()
        self._write_conf()
        self._process = subprocess.Popen(
            [self.binary, "-c", str(self.conf_path)],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                _, err = self._process.communicate()
                self._process = None
                raise BrokerError(
                    f"mosquitto exited at start: {err.decode(errors='replace')}"
                    f"{self.log_text()[-LOG_TAIL_CHARS:]}"
                )
            if port_accepts(self.port):
                return
            time.sleep(POLL_INTERVAL_S)
        self.kill()
        raise BrokerError(f"mosquitto did not accept connections within {START_TIMEOUT_S} s")

    def _end(self, sig: signal.Signals) -> None:
        process, self._process = self._process, None
        if process is None:
            return
        if process.poll() is None:
            process.send_signal(sig)
        try:
            process.wait(timeout=STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=STOP_TIMEOUT_S)
        if process.stderr is not None:
            process.stderr.close()

    def stop(self) -> None:
        """SIGTERM and wait: a clean shutdown that saves retained messages and sessions."""
        self._end(signal.SIGTERM)

    def kill(self) -> None:
        """SIGKILL: the broker dies at once, saving nothing."""
        self._end(signal.SIGKILL)

    def restart(self, *, wipe: bool = False) -> None:
        """Stop and start again on the same port; `wipe` forgets retained messages and sessions."""
        self.stop()
        if wipe:
            (self.folder / PERSISTENCE_FILE).unlink(missing_ok=True)
        self.start()

    def __enter__(self) -> Mosquitto:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
