"""Headless Chromium (Debian's ``chromium`` and ``chromium-driver``) driven by Selenium: the
dashboard's browser tests and its load benchmark. Where the browser is missing it is
installed as ``.ci/run`` does (apt), never downloaded by Selenium."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
PACKAGES = ("chromium", "chromium-driver")


def ensure_chromium() -> None:
    """Install Debian's Chromium and its driver when they are not there (root, apt)."""
    if Path(CHROMIUM).exists() and Path(CHROMEDRIVER).exists():
        return
    if shutil.which("apt-get") is None:
        raise RuntimeError("Chromium is missing and there is no apt-get to install it: "
                           f"install {' '.join(PACKAGES)}")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run(["apt-get", "update", "-q"], check=True, env=env, capture_output=True)
    subprocess.run(["apt-get", "install", "-y", "-q", "--no-install-recommends", *PACKAGES],
                   check=True, env=env, capture_output=True)


def chromium(width: int = 1366, height: int = 900) -> Any:
    """A headless Chromium session (a ``selenium.webdriver.Chrome``); quit() it when done."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    ensure_chromium()
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage",
                     "--disable-gpu", "--no-first-run", "--disable-extensions",
                     "--disable-background-networking", f"--window-size={width},{height}"):
        options.add_argument(argument)
    # Both paths given: Selenium Manager is never asked to download a browser or a driver.
    return webdriver.Chrome(options=options, service=Service(executable_path=CHROMEDRIVER))
