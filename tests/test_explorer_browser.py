"""The explorer page in a real browser: Debian's headless ``chromium`` driven by the system
``chromedriver`` through selenium (``pip install -e '.[test]'``; ``.ci/run`` installs the browser).

The test moves every control with the keyboard and reads the displayed frame back through the
page's canvas: it must be exactly the embedded frame (PNG is lossless) and, within
``FRAME_TOLERANCE`` grey levels, the frame the Python side renders alone for the codes the page
says it shows. No console message of level SEVERE and no request other than file:/data: is allowed.

Without the browser the test skips with the reason, except where ``INFOGAN_REQUIRE_BROWSER=1``
(CI), where a missing browser fails it. ``python -m tests.test_explorer_browser docs/explorer.png``
takes the documentation's screenshot of the two shipped models.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
from pathlib import Path
from typing import Any, Iterator

import numpy as np
import pytest

from infogan_kit.run import load_run
from infogan_kit.viz.explorer import write_explorer

from .test_explorer import GAN, VAE, assert_same_frame, page_data, rendered_frame, sheet_frame

CHROMIUM, CHROMEDRIVER = Path("/usr/bin/chromium"), Path("/usr/bin/chromedriver")


def _missing() -> str | None:
    """Why the browser cannot run here (None when it can)."""
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "selenium is not installed (pip install -e '.[test]')"
    for path in (CHROMIUM, CHROMEDRIVER):
        if not path.exists() and not shutil.which(path.name):
            return f"{path} is missing (apt-get install -y chromium chromium-driver)"
    return None


def start_browser(width: int = 1400, height: int = 1000) -> Any:
    """Headless chromium with the browser and performance (CDP network) logs; nothing downloaded."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM if CHROMIUM.exists() else shutil.which("chromium"))
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                     f"--window-size={width},{height}", "--no-first-run", "--disable-extensions"):
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    driver_path = CHROMEDRIVER if CHROMEDRIVER.exists() else Path(shutil.which("chromedriver") or CHROMEDRIVER)
    return webdriver.Chrome(service=Service(executable_path=str(driver_path)), options=options)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    reason = _missing()
    if reason:
        if os.environ.get("INFOGAN_REQUIRE_BROWSER", "") not in ("", "0"):
            pytest.fail(f"INFOGAN_REQUIRE_BROWSER is set but the browser cannot run: {reason}")
        pytest.skip(reason)
    driver = start_browser()
    yield driver
    driver.quit()


def wait_for_draw(driver: Any, run: int, after: int) -> dict[str, Any]:
    """Wait until run ``run``'s frame canvas finished a draw numbered above ``after``; its state."""
    from selenium.webdriver.support.ui import WebDriverWait

    script = f"const c = document.getElementById('frame-{run}'); return c && Number(c.dataset.draws || 0);"
    WebDriverWait(driver, 10).until(lambda d: d.execute_script(script) > after)
    return driver.execute_script(f"""const c = document.getElementById('frame-{run}');
        const pixels = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
        const red = []; for (let i = 0; i < pixels.length; i += 4) red.push(pixels[i]);
        return {{draws: Number(c.dataset.draws), codes: JSON.parse(c.dataset.codes), red: red, width: c.width}};""")


def shown(state: dict[str, Any]) -> np.ndarray:
    return np.array(state["red"], dtype=np.uint8).reshape(-1, state["width"])


def press(driver: Any, element_id: str, *keys: str, focus: str | None = None) -> None:
    """Focus ``element_id`` (send_keys focuses it) and press ``keys``; then ``focus`` (default:
    the element itself) must have the keyboard focus."""
    driver.find_element("id", element_id).send_keys(*keys)
    assert driver.execute_script("return document.activeElement.id") == (focus or element_id)


def test_keyboard_moves_the_codes_and_the_page_shows_the_rendered_frames(browser: Any, tmp_path: Path) -> None:
    from selenium.webdriver.common.keys import Keys

    runs = [load_run(GAN, device="cpu"), load_run(VAE, device="cpu")]
    page = write_explorer(runs, tmp_path / "explorer.html", bases=2, columns=5, mi_samples=300)
    data = page_data(page.read_text(encoding="utf-8"))
    browser.get(page.as_uri())
    states = [wait_for_draw(browser, r, 0) for r in range(2)]
    for r, state in enumerate(states):  # at first: the base sample
        assert state["codes"] == pytest.approx(data["runs"][r]["base_values"][0], abs=1e-6)
        assert np.array_equal(shown(state), sheet_frame(data["runs"][r]["base_sheet"], 0, 0))

    vae, code = data["runs"][1], data["runs"][1]["order"][0]  # the VAE's most active latent, two steps right
    start = int(np.abs(np.array(vae["codes"][code]["values"]) - vae["base_values"][0][code]).argmin())
    press(browser, f"slider-1-{code}", Keys.ARROW_RIGHT, Keys.ARROW_RIGHT)
    position = min(start + 2, 4)
    state = wait_for_draw(browser, 1, states[1]["draws"] + 1)
    expected = list(vae["base_values"][0])
    expected[code] = vae["codes"][code]["values"][position]
    assert state["codes"] == pytest.approx(expected, abs=1e-6)
    assert np.array_equal(shown(state), sheet_frame(vae["sheets"][0], code, position))
    assert_same_frame(shown(state), rendered_frame(runs[1], 0, state["codes"]))

    press(browser, "base-0", Keys.ARROW_RIGHT, focus="base-1")  # radio group: the second base sample, for every run
    assert browser.execute_script("return document.getElementById('base-1').checked")
    gan = data["runs"][0]
    state = wait_for_draw(browser, 0, states[0]["draws"])
    press(browser, "pair-0", Keys.ARROW_DOWN, Keys.ARROW_RIGHT, Keys.ARROW_RIGHT)  # two GAN codes together
    state = wait_for_draw(browser, 0, state["draws"] + 2)
    first, second = gan["pair"]
    moved = [i for i, (a, b) in enumerate(zip(state["codes"], gan["base_values"][1])) if abs(a - b) > 1e-6]
    assert set(moved) == {first, second}
    row, column = (gan["codes"][c]["values"].index(state["codes"][c]) for c in (first, second))
    assert np.array_equal(shown(state), sheet_frame(gan["pair_sheets"][1], row, column))
    assert_same_frame(shown(state), rendered_frame(runs[0], 1, state["codes"]))
    check_every_control_and_no_outside_requests(browser)


def check_every_control_and_no_outside_requests(driver: Any) -> None:
    """Every slider takes focus and moves with an arrow key; no console error; only file:/data: loads."""
    from selenium.webdriver.common.keys import Keys

    sliders = driver.find_elements("css selector", "input[type=range]")
    assert len(sliders) == 15
    for element in sliders:
        before = element.get_attribute("value")
        key = Keys.ARROW_LEFT if before == element.get_attribute("max") else Keys.ARROW_RIGHT
        press(driver, element.get_attribute("id"), key)
        assert element.get_attribute("value") != before, element.get_attribute("id")
    severe = [entry for entry in driver.get_log("browser") if entry["level"] == "SEVERE"]
    assert not severe, severe
    assert driver.execute_script("return performance.getEntriesByType('resource').length") == 0
    urls = [message["params"].get("request", {}).get("url", "")
            for message in (json.loads(entry["message"])["message"] for entry in driver.get_log("performance"))
            if message["method"] == "Network.requestWillBeSent"]
    assert all(url.startswith(("file:", "data:")) for url in urls), [u[:80] for u in urls if not u.startswith(("file:", "data:"))]


def screenshot(path: str) -> None:
    """The documentation's screenshot: the page of the two shipped models at the defaults."""
    import tempfile

    runs = [load_run(GAN, device="cpu"), load_run(VAE, device="cpu")]
    driver = start_browser(1400, 1300)
    try:
        with tempfile.TemporaryDirectory() as folder:
            driver.get(write_explorer(runs, Path(folder) / "explorer.html").as_uri())
            wait_for_draw(driver, 1, 0)
            press(driver, "pair-1", "\ue015", "\ue014", "\ue014")  # ArrowDown, ArrowRight x2
            wait_for_draw(driver, 1, 3)
            driver.save_screenshot(str(path))
    finally:
        driver.quit()


if __name__ == "__main__":
    screenshot(sys.argv[1] if len(sys.argv) > 1 else "docs/explorer.png")
