"""The web console in headless Chromium (Debian's chromium + chromium-driver, via Selenium).

Every page is loaded against a real server with data; a record browse (seek by offset, then
paging) and a schema diff are clicked through; each step saves a screenshot under
test-artifacts/screenshots/ (a CI artifact). With WEIR_UPDATE_DOCS_SCREENSHOT=1 the group page
is also saved as docs/console-groups.png for the README.

These tests fail, never skip, when Chromium is missing: `make test` installs it.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.ui import Select, WebDriverWait

from tests.browser.console_seed import Seeded, grow_lag, seed
from weir.broker.console.context import CONSOLE_KEY
from weir.broker.embedded import EmbeddedServer

ROOT = Path(__file__).resolve().parents[2]
SHOTS = ROOT / "test-artifacts" / "screenshots"
CHROMIUM = Path(os.environ.get("WEIR_CHROMIUM", "/usr/bin/chromium"))
CHROMEDRIVER = Path(os.environ.get("WEIR_CHROMEDRIVER", "/usr/bin/chromedriver"))


@pytest.fixture(scope="module")
def ui(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[EmbeddedServer, Seeded]]:
    server = EmbeddedServer(tmp_path_factory.mktemp("browser") / "data", console_lag_sample_ms=100)
    try:
        seeded = seed(server)
        grow_lag(server, rounds=12, pause_s=0.1)
        lag = server.server.http.runner.app[CONSOLE_KEY].lag
        assert len(lag.samples(seeded.group)) >= 5
        yield server, seeded
    finally:
        server.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[WebDriver]:
    missing = [str(p) for p in (CHROMIUM, CHROMEDRIVER) if not p.exists()]
    if missing:
        pytest.fail(
            f"headless browser tests need {', '.join(missing)}: "
            "apt-get install -y chromium chromium-driver (make test does this)"
        )
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for arg in (
        "--headless=new",
        "--no-sandbox",  # CI runs as root
        "--disable-dev-shm-usage",
        "--disable-gpu",
        "--window-size=1280,900",
        "--hide-scrollbars",
    ):
        options.add_argument(arg)
    driver = webdriver.Chrome(options=options, service=Service(str(CHROMEDRIVER)))
    driver.set_page_load_timeout(20)
    SHOTS.mkdir(parents=True, exist_ok=True)
    try:
        yield driver
    finally:
        driver.quit()


def _shot(driver: WebDriver, name: str) -> Path:
    path = SHOTS / f"{name}.png"
    assert driver.save_screenshot(str(path)), f"screenshot {name} failed"
    assert path.stat().st_size > 2000
    return path


def _click(driver: WebDriver, element: WebElement) -> None:
    """Click something that loads a new page, and wait until it has."""
    old = driver.find_element(By.TAG_NAME, "html")
    element.click()
    WebDriverWait(driver, 10).until(expected_conditions.staleness_of(old))


def _h1(driver: WebDriver) -> str:
    return driver.find_element(By.TAG_NAME, "h1").text


PAGES = [
    ("topics", "/ui/topics", "Topics", "orders.dlq"),
    ("topic", "/ui/topics/orders", "Topic orders", "dead_letter"),
    ("records-json", "/ui/topics/payments/0?offset=0", "payments · partition 0", '"id": "p-0"'),
    ("records-protobuf", "/ui/topics/shipments/0?offset=0", "shipments · partition 0", "s-3"),
    ("subjects", "/ui/subjects", "Subjects", "shipments-value"),
    ("subject", "/ui/subjects/orders-value", "Subject orders-value", "TYPE_MISMATCH"),
    ("groups", "/ui/groups", "Consumer groups", "billing"),
    ("group", "/ui/groups/billing", "Group billing", "Lag in seconds"),
    ("dlq", "/ui/dlq", "Dead letters", "INVALID_RECORD"),
    ("reset", "/ui/reset?group=billing&kind=earliest", "Reset offsets of billing", "Dry run"),
    ("error", "/ui/topics/nope", "Error 404", "topic 'nope' does not exist"),
]


@pytest.mark.parametrize("page", PAGES, ids=[p[0] for p in PAGES])
def test_every_page_renders(ui, browser, page):
    server, _ = ui
    name, path, title, content = page
    browser.get(server.http_url + path)
    assert _h1(browser) == title
    assert content in browser.find_element(By.TAG_NAME, "main").text
    nav = browser.find_element(By.TAG_NAME, "nav")
    assert nav.value_of_css_property("display") == "flex"  # the stylesheet loaded
    _shot(browser, name)


def test_browse_records_seek_by_offset_and_page(ui, browser):
    server, _ = ui
    browser.get(server.http_url + "/ui/topics")
    _click(browser, browser.find_element(By.LINK_TEXT, "orders"))
    _click(browser, browser.find_elements(By.LINK_TEXT, "browse records")[0])
    assert _h1(browser) == "orders · partition 0"
    offset = browser.find_element(By.ID, "offset")
    offset.clear()
    offset.send_keys("5")
    limit = browser.find_element(By.NAME, "limit")
    limit.clear()
    limit.send_keys("3")
    _click(browser, browser.find_element(By.ID, "seek"))
    shown = [a.get_attribute("id") for a in browser.find_elements(By.CSS_SELECTOR, "article")]
    assert shown == ["record-5", "record-6", "record-7"]
    first = browser.find_element(By.ID, "record-5").text
    assert '"id": "o-0-5"' in first
    assert "AVRO id 1 · orders-value v1" in first
    _shot(browser, "browse-seek")
    _click(browser, browser.find_element(By.LINK_TEXT, "newer >"))
    shown = [a.get_attribute("id") for a in browser.find_elements(By.CSS_SELECTOR, "article")]
    assert shown == ["record-8", "record-9", "record-10"]
    _shot(browser, "browse-newer")


def test_schema_diff_click_through(ui, browser):
    server, _ = ui
    browser.get(server.http_url + "/ui/subjects")
    _click(browser, browser.find_element(By.LINK_TEXT, "orders-value"))
    history = browser.find_element(By.CSS_SELECTOR, "table.history").text
    assert "incompatible (BACKWARD)" in history
    _click(browser, browser.find_elements(By.LINK_TEXT, "diff")[-1])  # v2 -> v3
    assert _h1(browser) == "Diff orders-value v2 → v3"
    assert browser.find_elements(By.CSS_SELECTOR, "table.diff td.del")
    assert browser.find_elements(By.CSS_SELECTOR, "table.diff td.ins")
    assert "TYPE_MISMATCH" in browser.find_element(By.TAG_NAME, "main").text
    _shot(browser, "diff-v2-v3")
    Select(browser.find_element(By.ID, "diff-old")).select_by_visible_text("v1")
    Select(browser.find_element(By.ID, "diff-new")).select_by_visible_text("v2")
    _click(browser, browser.find_element(By.ID, "diff-submit"))
    assert _h1(browser) == "Diff orders-value v1 → v2"
    inserted = browser.find_elements(By.CSS_SELECTOR, "table.diff td.ins")
    assert any('"note"' in cell.text for cell in inserted)
    assert "compatible (BACKWARD)" in browser.find_element(By.TAG_NAME, "main").text
    _shot(browser, "diff-v1-v2")


def test_group_lag_chart_and_reset_preview(ui, browser):
    server, _ = ui
    browser.get(server.http_url + "/ui/groups")
    _click(browser, browser.find_element(By.LINK_TEXT, "billing"))
    charts = browser.find_elements(By.CSS_SELECTOR, "svg.chart polyline")
    assert len(charts) == 2
    assert charts[0].size["width"] > 100  # drawn across the plot, not a dot
    path = _shot(browser, "group-lag")
    if os.environ.get("WEIR_UPDATE_DOCS_SCREENSHOT"):
        shutil.copyfile(path, ROOT / "docs" / "console-groups.png")
    _click(browser, browser.find_element(By.LINK_TEXT, "Reset offsets…"))
    Select(browser.find_element(By.ID, "reset-kind")).select_by_visible_text("earliest")
    _click(browser, browser.find_element(By.ID, "preview"))
    preview = browser.find_element(By.CSS_SELECTOR, "table.reset-preview").text
    assert "orders 0 4 0 4 0 30" in preview  # 12 seeded + 18 from grow_lag
    assert browser.find_element(By.ID, "writes-off").is_displayed()
    assert not browser.find_elements(By.ID, "apply")
    _shot(browser, "reset-preview")
