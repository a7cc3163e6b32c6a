"""Screenshots of the playground for the README: docs/playground-en-US.png and -zh-CN.png.

Starts ``animate-bot demo`` on a free port, drives the page in Debian's headless chromium (as the
browser test does), sends one request per language with the page's sample picture and saves
the page once the video plays. Run from the repository root::

    .venv/bin/python scripts/screenshots.py

Chinese text needs a CJK font in the system (Debian: fonts-noto-cjk; emoji: fonts-noto-color-emoji).
"""

from __future__ import annotations

import re
import signal
import subprocess
import sys
from pathlib import Path

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select, WebDriverWait

ROOT = Path(__file__).resolve().parent.parent
PROMPTS = {"en-US": "the sun rises over the hills", "zh-CN": "太阳从山后缓缓升起"}
PLAYING = """
const v = [...document.querySelectorAll('.thread video')].pop();
return v !== undefined && v.readyState >= 2 && v.currentTime > 1.2 && !v.paused;
"""


def shoot(url: str, locale: str, out: Path) -> None:
    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for arg in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--hide-scrollbars",
        "--force-device-scale-factor=1",
        "--window-size=1280,1400",
        "--autoplay-policy=no-user-gesture-required",
    ):
        options.add_argument(arg)
    driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
    try:
        wait = WebDriverWait(driver, 30, poll_frequency=0.05)
        driver.get(url)
        Select(driver.find_element(By.ID, "locale")).select_by_value(locale)
        wait.until(lambda d: len(d.find_elements(By.CSS_SELECTOR, "#opt-model option")) > 2)
        driver.find_element(By.ID, "sample").click()
        wait.until(lambda d: d.find_element(By.ID, "preview").is_displayed())
        driver.find_element(By.ID, "opt-prompt").send_keys(PROMPTS[locale])
        Select(driver.find_element(By.ID, "opt-resolution")).select_by_value("720P")
        driver.find_element(By.ID, "send").click()
        wait.until(lambda d: d.execute_script(PLAYING))
        driver.execute_script("const m = document.getElementById('messages');"
                              "m.scrollTop = m.scrollHeight;")  # fmt: skip
        # two painted frames after the last layout change, so the video layer sits in place
        driver.execute_async_script(
            "const done = arguments[0];"
            "requestAnimationFrame(() => requestAnimationFrame(() => done(true)));"
        )
        driver.save_screenshot(str(out))
    finally:
        driver.quit()


def main() -> int:
    for locale in PROMPTS:
        with subprocess.Popen(
            [sys.executable, "-m", "bot", "demo", "--port", "0", "--task-seconds", "3"],
            stdout=subprocess.PIPE,
            text=True,
            cwd=ROOT,
        ) as proc:
            assert proc.stdout is not None  # noqa: S101 - piped above
            match = re.search(r"http://\S+/", proc.stdout.readline())
            try:
                if match is None:
                    sys.stderr.write("animate-bot demo did not print its URL\n")
                    return 1
                shoot(match.group(0), locale, ROOT / "docs" / f"playground-{locale}.png")
            finally:
                proc.send_signal(signal.SIGTERM)
    return 0


if __name__ == "__main__":
    sys.exit(main())
