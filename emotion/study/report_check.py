"""Check a built report the way a reader meets it: in a real browser (headless Chromium), from the file system.

Two checks: every local ``href``/``src`` in every page points at a file that exists and nothing is loaded from the
internet (parsed statically); and every page loads in Chromium with every image decoded (a throwaway checker page
opens each page in an iframe and reports broken images). A screenshot of the index page is saved.
"""

from __future__ import annotations

import html.parser
import json
import re
import shutil
import subprocess
from pathlib import Path
from urllib.parse import unquote, urlparse

from emotion.errors import DataMissingError, EmotionError

CHROMIUM_FLAGS = (
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--allow-file-access-from-files",
)
INSTALL_HINT = "Install Debian's chromium package (`apt-get install chromium`); `make setup-browser` does it."


class ReportCheckFailed(EmotionError):
    """The report has a broken link or image, or a page that does not load."""


class _Links(html.parser.HTMLParser):
    """Collects ``(tag, target)`` for every href and src attribute."""

    def __init__(self):
        super().__init__()
        self.targets: list[tuple[str, str]] = []

    def handle_starttag(self, tag, attrs):
        for name, value in attrs:
            if name in ("href", "src") and value:
                self.targets.append((tag, value))


def find_chromium() -> Path | None:
    """Return the path of a Chromium executable, or None."""
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return Path(found)
    return None


def static_problems(site: Path) -> list[str]:
    """Return every broken local link and every remote resource in the site's HTML pages (empty when clean)."""
    problems = []
    for page in sorted(site.rglob("*.html")):
        text = page.read_text(encoding="utf-8")
        for script in re.findall(r"<script\b[^>]*>(.*?)</script>", text, flags=re.IGNORECASE | re.DOTALL):
            remote = re.search(r"https?://[^\s\"')]+", script)
            if remote:
                problems.append(f"{page.relative_to(site)}: a script loads {remote.group(0)} from the internet")
        parser = _Links()
        parser.feed(text)
        for tag, target in parser.targets:
            parsed = urlparse(target)
            if parsed.scheme in ("http", "https"):
                if tag in ("script", "link", "img", "iframe"):
                    problems.append(f"{page.relative_to(site)}: <{tag}> loads {target} from the internet")
                continue
            if parsed.scheme in ("data", "mailto", "javascript") or target.startswith("#"):
                continue
            resolved = (page.parent / unquote(parsed.path)).resolve()
            if parsed.path and not resolved.exists():
                problems.append(f"{page.relative_to(site)}: <{tag}> points at missing {target}")
    return problems


def browser_problems(site: Path, screenshot: Path, chromium: Path | None = None, timeout: float = 120) -> list[str]:
    """Open every page in headless Chromium; return pages that failed to load or have undecodable images.

    Saves a 1280x2000 screenshot of ``index.html`` at ``screenshot``.

    Raises:
        DataMissingError: Chromium is not installed (the message says how to install it).
    """
    chromium = chromium or find_chromium()
    if chromium is None:
        raise DataMissingError(f"headless Chromium not found. {INSTALL_HINT}")
    pages = sorted(str(page.relative_to(site)) for page in site.rglob("*.html") if page.name != "_check.html")
    checker = site / "_check.html"
    checker.write_text(_CHECKER.replace("PAGES", json.dumps(pages)), encoding="utf-8")
    try:
        completed = subprocess.run(
            [str(chromium), *CHROMIUM_FLAGS, "--virtual-time-budget=60000", "--dump-dom", checker.as_uri()],
            capture_output=True, text=True, timeout=timeout,
        )
    finally:
        checker.unlink(missing_ok=True)
    match = re.search(r'<pre id="out">(.*?)</pre>', completed.stdout, flags=re.DOTALL)
    if not match or match.group(1).strip() == "pending":
        return [f"Chromium did not finish checking the pages (exit {completed.returncode}): {completed.stderr[-500:]}"]
    report = json.loads(_unescape(match.group(1)))
    problems = []
    for page in pages:
        outcome = report.get(page)
        if outcome is None or "error" in outcome:
            problems.append(f"{page}: did not load ({outcome})")
        elif not outcome.get("title"):
            problems.append(f"{page}: loaded without a title")
        elif outcome["broken"]:
            problems.append(f"{page}: {len(outcome['broken'])} image(s) failed to load: {outcome['broken'][:3]}")
    screenshot.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [str(chromium), *CHROMIUM_FLAGS, "--window-size=1280,2000", "--hide-scrollbars",
         f"--screenshot={screenshot}", (site / "index.html").as_uri()],
        capture_output=True, timeout=timeout,
    )
    if not screenshot.is_file():
        problems.append(f"Chromium did not write the screenshot {screenshot}")
    return problems


def _unescape(text: str) -> str:
    return text.replace("&quot;", '"').replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


_CHECKER = """<!DOCTYPE html><html><head><meta charset="utf-8"><title>check</title></head><body>
<pre id="out">pending</pre>
<script>
const pages = PAGES;
const results = {};
let index = 0;
function next() {
  if (index >= pages.length) { document.getElementById("out").textContent = JSON.stringify(results); return; }
  const page = pages[index];
  const frame = document.createElement("iframe");
  frame.onload = () => {
    try {
      const doc = frame.contentDocument;
      const images = Array.from(doc.images);
      results[page] = {
        title: doc.title,
        images: images.length,
        broken: images.filter((img) => !(img.complete && img.naturalWidth > 0))
                      .map((img) => (img.getAttribute("src") || "").slice(0, 80)),
      };
    } catch (error) {
      results[page] = { error: String(error) };
    }
    frame.remove();
    index += 1;
    next();
  };
  frame.src = page;
  document.body.appendChild(frame);
}
next();
</script></body></html>
"""
