"""Drive the web app in a real browser: headless Chromium (Debian's ``chromium``, installed by ``make
setup-browser``) automated with Playwright for Python, pointed at that executable, so nothing is downloaded.

:func:`capture_upload` serves an app on 127.0.0.1 (a free port) in a background thread, opens its page, uploads one
photo through the form, waits until the face boxes and labels are drawn, saves a screenshot and stops the server.
The browser test (``tests/test_webapp_browser.py``) and notebook 07 (its screenshot of the app) both use it.
"""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from emotion.errors import ConfigurationError, DataMissingError
from emotion.study.report_check import CHROMIUM_FLAGS, find_chromium


def _chromium() -> str:
    """The path of Chromium (:func:`emotion.study.report_check.find_chromium`).

    Raises:
        DataMissingError: none is installed (says how to install it).
    """
    found = find_chromium()
    if found is None:
        raise DataMissingError("headless Chromium is not installed: `make setup-browser` installs Debian's chromium "
                               "(needs root), or `apt-get install chromium`.")
    return str(found)


def capture_upload(app, photo: Path | str, screenshot: Path | str, *, timeout_s: float = 120.0,
                   width: int = 1280, height: int = 900) -> dict:
    """Upload ``photo`` through the page of ``app`` in headless Chromium and screenshot the result.

    Args:
        app: a Flask app from :func:`emotion.app.webapp.create_app`.
        photo: an image file with at least one face.
        screenshot: the PNG to write (its folder is created).
        timeout_s: the longest wait for the page to draw the faces.

    Returns:
        ``{"faces_rendered", "labels", "detector", "model", "seconds_to_render", "screenshot"}`` as the page showed
        them.

    Raises:
        DataMissingError: no Chromium, or ``photo`` does not exist.
        ConfigurationError: Playwright is not installed, or the page showed an error instead of faces.
    """
    from werkzeug.serving import WSGIRequestHandler, make_server

    class QuietHandler(WSGIRequestHandler):
        def log_request(self, *args, **kwargs):  # the browser's requests would clutter a notebook's output
            pass

    photo, screenshot = Path(photo), Path(screenshot)
    if not photo.is_file():
        raise DataMissingError(f"{photo}: no such photo to upload.")
    chromium = _chromium()
    try:
        from playwright.sync_api import Error as PlaywrightError
        from playwright.sync_api import sync_playwright
    except ImportError as error:
        raise ConfigurationError("Playwright for Python is not installed in this environment: run `make setup` "
                                 "(it is pinned in requirements.lock).") from error
    server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=QuietHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        # Playwright's sync API refuses to run where an asyncio loop runs (a Jupyter kernel, as in notebook 07), so
        # the browser is driven from a thread of its own; its errors come back here.
        with ThreadPoolExecutor(max_workers=1) as pool:
            result = pool.submit(_drive_browser, sync_playwright, PlaywrightError, chromium, server.server_port,
                                 photo, screenshot, timeout_s, width, height).result()
    finally:
        server.shutdown()
        thread.join(timeout=10)
    return {**result, "screenshot": str(screenshot)}


def _drive_browser(sync_playwright, PlaywrightError, chromium: str, port: int, photo: Path, screenshot: Path,
                   timeout_s: float, width: int, height: int) -> dict:
    """The browser part of :func:`capture_upload`: open the page, upload, wait for the faces, screenshot."""
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium,
                                             args=[flag for flag in CHROMIUM_FLAGS if flag != "--headless"])
        try:
            page = browser.new_page(viewport={"width": width, "height": height})
            page.goto(f"http://127.0.0.1:{port}/", timeout=timeout_s * 1000)
            page.set_input_files("#file-input", str(photo))
            started = time.perf_counter()
            page.click("#upload-button")
            try:
                page.wait_for_selector(".face-box, .no-faces, .file-error, #error:not(:empty)",
                                       timeout=timeout_s * 1000)
            except PlaywrightError as error:
                raise ConfigurationError(f"the page drew no face within {timeout_s:.0f} s of uploading "
                                         f"{photo.name}.") from error
            seconds = time.perf_counter() - started
            message = page.inner_text("#error").strip() or " ".join(
                text.strip() for text in page.locator(".file-error, .no-faces").all_inner_texts())
            if message and not page.locator(".face-box").count():
                raise ConfigurationError(f"the page answered the upload of {photo.name} with: {message}")
            page.wait_for_selector("#run-info:not([hidden])", timeout=timeout_s * 1000)
            result = {"faces_rendered": page.locator(".face-box").count(),
                      "labels": [text.strip() for text in page.locator(".face-label").all_inner_texts()],
                      "detector": page.inner_text("#run-detector").strip(),
                      "model": page.inner_text("#run-model").strip(),
                      "seconds_to_render": seconds}
            screenshot.parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(screenshot), full_page=True)
        finally:
            browser.close()
    return result
