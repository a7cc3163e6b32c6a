"""The playground in a real headless browser: Debian's chromium driven by Selenium.

``animate-bot demo`` runs as a real subprocess; the page is used as a person would use it.
Every wait is a ``WebDriverWait`` on a condition of the page, never a sleep. The binaries'
paths are given to Selenium, so Selenium Manager never looks for (or downloads) a driver.
"""

from __future__ import annotations

import queue
import re
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.ui import Select, WebDriverWait

from core.i18n import t

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
WAIT = 20.0


@pytest.fixture
def playground(tmp_path: Path) -> Iterator[str]:
    """``animate-bot demo --port 0``; yields the page's URL, stops it with SIGTERM."""
    log = tmp_path / "demo.log"
    with (
        log.open("w") as errors,
        subprocess.Popen(
            [sys.executable, "-m", "bot", "demo", "--port", "0", "--task-seconds", "1"],
            stdout=subprocess.PIPE,
            stderr=errors,
            text=True,
            cwd=tmp_path,
        ) as proc,
    ):
        lines: queue.Queue[str] = queue.Queue()
        out = proc.stdout
        assert out is not None
        threading.Thread(target=lambda: lines.put(out.readline()), daemon=True).start()
        try:
            first = lines.get(timeout=WAIT)
            match = re.search(r"http://127\.0\.0\.1:\d+/", first)
            assert match, f"no URL in {first!r}: {log.read_text()}"
            yield match.group(0)
        finally:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=WAIT)
            finally:
                if proc.poll() is None:
                    proc.kill()
    assert proc.returncode == 0, f"SIGTERM stops the playground cleanly: {log.read_text()}"


@pytest.fixture
def browser() -> Iterator[WebDriver]:
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in (
        "--headless=new",
        "--no-sandbox",  # CI runs as root
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--window-size=1280,1000",
        "--autoplay-policy=no-user-gesture-required",
    ):
        options.add_argument(arg)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    try:
        yield driver
    finally:
        driver.quit()


def wait(driver: WebDriver) -> WebDriverWait[WebDriver]:
    # a condition of the page, checked often: the test is as fast as the page
    return WebDriverWait(driver, WAIT, poll_frequency=0.05)


#: every status title the page ever drew, recorded in the page as it happens (no polling race)
RECORD_TITLES = """
window.titles = [];
new MutationObserver(() => {
  for (const n of document.querySelectorAll('#messages > .message .embed-title')) {
    if (!window.titles.includes(n.textContent)) window.titles.push(n.textContent);
  }
}).observe(document.getElementById('messages'),
           {childList: true, subtree: true, characterData: true});
"""
PLAYING = """
const v = document.querySelector(arguments[0]);
return v !== null && v.readyState >= 2 && v.currentTime > 0.2 && !v.paused && !v.error;
"""


def submit(driver: WebDriver, image: Path, prompt: str) -> None:
    driver.find_element(By.ID, "opt-image").send_keys(str(image))
    field = driver.find_element(By.ID, "opt-prompt")
    field.clear()
    field.send_keys(prompt)
    driver.find_element(By.ID, "send").click()


def test_the_playground_in_a_browser(playground: str, browser: WebDriver, tmp_path: Path) -> None:
    image = tmp_path / "cat.png"
    Image.new("RGB", (320, 240), (200, 120, 40)).save(image)
    browser.get(playground)
    # the form is the bot's synced /animate; the model list is the bot's autocomplete answer
    wait(browser).until(lambda d: len(d.find_elements(By.CSS_SELECTOR, "#opt-model option")) > 2)
    banner = browser.find_element(By.ID, "banner").text
    assert "Local playground" in banner and "emulated" in banner
    Select(browser.find_element(By.ID, "opt-resolution")).select_by_value("720P")
    browser.find_element(By.ID, "opt-duration").send_keys("2")
    browser.execute_script(RECORD_TITLES)

    submit(browser, image, "the cat waves")

    # the status message changes state, the thread opens, the MP4 plays inline
    done = t("en-US", "status.delivered")
    wait(browser).until(lambda d: done in d.execute_script("return window.titles"))
    titles = browser.execute_script("return window.titles")
    assert len(titles) >= 2 and titles[-1] == done, titles
    assert (
        t("en-US", "button.cancel")
        not in browser.find_element(By.CSS_SELECTOR, "#messages > .message").text
    )
    thread = browser.find_element(By.CSS_SELECTOR, ".thread")
    assert "#1 the cat waves" in thread.find_element(By.CSS_SELECTOR, ".thread-name").text
    wait(browser).until(lambda d: d.execute_script(PLAYING, ".thread video"))
    assert browser.execute_script("return document.querySelector('.thread video').duration") > 1.5

    # a button works: Show again answers privately, with the video
    show = thread.find_element(By.XPATH, f".//button[text()='{t('en-US', 'button.show_again')}']")
    show.click()
    private = wait(browser).until(
        lambda d: d.find_elements(By.CSS_SELECTOR, ".message.ephemeral video")
    )
    assert (
        private
        and "Only you can see this"
        in browser.find_element(By.CSS_SELECTOR, ".message.ephemeral").text
    )

    # the locale switch: the page's words, the command's words and the bot's answer change
    Select(browser.find_element(By.ID, "locale")).select_by_value("zh-CN")
    wait(browser).until(lambda d: d.find_element(By.ID, "send").text == "发送")
    assert "本地试玩" in browser.find_element(By.ID, "banner").text
    wait(browser).until(lambda d: "秒" in d.find_element(By.ID, "opt-model").text)
    label = browser.find_element(By.CSS_SELECTOR, "label[for=opt-image]").text
    assert label == "图片", "option names in the user's language, from the bot's catalogs"
    browser.execute_script(RECORD_TITLES)

    submit(browser, image, "猫在挥手")

    zh_done = t("zh-CN", "status.delivered")
    wait(browser).until(lambda d: zh_done in d.execute_script("return window.titles"))
    second = wait(browser).until(lambda d: d.find_elements(By.CSS_SELECTOR, ".thread"))[-1]
    wait(browser).until(lambda d: second.find_elements(By.CSS_SELECTOR, "video"))
    assert "#2 猫在挥手" in second.text and t("zh-CN", "result.title") in second.text


def test_a_form_the_bot_opens_is_drawn_and_sent_back(
    playground: str, browser: WebDriver, tmp_path: Path
) -> None:
    """Extend answers with a form (a Discord modal): the page draws it, sends it back, and
    the continuation arrives in the same thread."""
    image = tmp_path / "day.png"
    Image.new("RGB", (320, 240), (90, 160, 230)).save(image)
    browser.get(playground)
    wait(browser).until(lambda d: len(d.find_elements(By.CSS_SELECTOR, "#opt-model option")) > 2)
    Select(browser.find_element(By.ID, "opt-model")).select_by_value("wan2.7-i2v")
    browser.find_element(By.ID, "opt-duration").send_keys("2")
    browser.execute_script(RECORD_TITLES)
    submit(browser, image, "day")
    done = t("en-US", "status.delivered")
    wait(browser).until(lambda d: done in d.execute_script("return window.titles"))

    label = t("en-US", "button.extend")
    extend = wait(browser).until(
        lambda d: d.find_elements(
            By.XPATH, f"//div[contains(@class,'thread')]//button[text()='{label}']"
        )
    )
    extend[0].click()
    form = wait(browser).until(lambda d: d.find_elements(By.CSS_SELECTOR, "dialog#bot-form[open]"))
    assert t("en-US", "extend.title") in form[0].text
    prompt, total = form[0].find_elements(By.CSS_SELECTOR, "input, textarea")
    prompt.send_keys("night falls")
    total.send_keys("5")
    browser.find_element(By.ID, "bot-form-submit").click()
    wait(browser).until(lambda d: not d.find_elements(By.CSS_SELECTOR, "dialog#bot-form"))
    thread = browser.find_element(By.CSS_SELECTOR, ".thread")
    wait(browser).until(lambda d: len(thread.find_elements(By.CSS_SELECTOR, "video")) == 2)
