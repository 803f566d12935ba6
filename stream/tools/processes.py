"""Child processes that never outlive their owner (the broker, workers), started with given
settings and waited for until ready."""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import subprocess
import time
import urllib.request

from pydantic import SecretStr

from stream.config import Settings, Web


def die_with_parent() -> None:
    """Child-side (``preexec_fn``): ask Linux to SIGTERM this process when its parent dies."""
    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        pr_set_pdeathsig = 1
        libc.prctl(pr_set_pdeathsig, signal.SIGTERM)


def stop_process(process: subprocess.Popen[bytes], timeout: float) -> None:
    """SIGTERM, and SIGKILL if it is still there after ``timeout`` seconds."""
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def settings_environment(settings: Settings) -> dict[str, str]:
    """This process's environment with ``settings`` as ``NEWSSTREAM_*`` variables (others of
    that prefix removed), for a child process that must run with exactly these settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSSTREAM_")}
    for name, value in settings.model_dump().items():
        if value is None:
            continue
        if isinstance(value, SecretStr):
            text = value.get_secret_value()
        elif isinstance(value, list):
            text = ",".join(str(v) for v in value)
        else:
            text = str(value)
        env[f"NEWSSTREAM_{name.upper()}"] = text
    return env


def wait_ready(web: Web, process: subprocess.Popen[bytes], timeout: float) -> float:
    """Seconds until the worker ``process`` answers 200 on ``/readyz``. Raises RuntimeError
    when it exits first, TimeoutError after ``timeout``."""
    return wait_answering(f"http://{web.host}:{web.port}/readyz", process,
                          timeout, "worker")


def wait_answering(url: str, process: subprocess.Popen[bytes], timeout: float,
                   name: str) -> float:
    """Seconds until ``process`` answers 200 on ``url``. Raises RuntimeError when it exits
    first, TimeoutError after ``timeout``."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if process.poll() is not None:
            raise RuntimeError(f"{name} exited with {process.returncode}")
        with contextlib.suppress(OSError), urllib.request.urlopen(url, timeout=1) as response:
            if response.status == 200:
                return time.monotonic() - started
        time.sleep(0.2)
    raise TimeoutError(f"{name} not ready after {timeout:.0f} s")
