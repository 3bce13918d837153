"""Open an HTML page in real headless Chromium and report broken images and the claims table."""

from __future__ import annotations

import html
import json
import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

_PROBE = """
<script>
window.addEventListener('load', function () {
  var imgs = Array.from(document.images);
  var broken = imgs.filter(function (i) { return !(i.complete && i.naturalWidth > 0); })
                   .map(function (i) { return i.getAttribute('src'); });
  var table = document.getElementById('claims');
  var rows = table ? table.querySelectorAll('tbody tr').length : -1;
  var out = document.createElement('pre');
  out.id = 'occam-probe';
  var dots = document.querySelectorAll('#claims svg.dots circle.rep').length;
  var controls = Array.from(document.querySelectorAll('#claims td.control'))
                      .filter(function (td) { return td.offsetWidth > 0; }).length;
  var intervals = document.querySelectorAll('#claims .iv').length;
  out.textContent = JSON.stringify({images: imgs.length, broken: broken, claim_rows: rows,
                                    dots: dots, controls: controls, intervals: intervals});
  document.body.appendChild(out);
});
</script>
"""


def chromium() -> str:
    """Path of a chromium binary; skips locally, fails on CI when there is none."""
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    if os.environ.get("CI"):
        pytest.fail("chromium is not installed (.ci/run installs Debian's chromium)")
    pytest.skip("chromium is not installed")


def probe_page(page: Path) -> dict:
    """Load ``page`` (next to its assets) in headless Chromium; return what the probe counted:
    images, broken images, claim rows, replicate dots, visible control cells, intervals."""
    probe_path = page.with_name(".probe-" + page.name)
    probe_path.write_text(page.read_text().replace("</body>", _PROBE + "</body>"))
    with tempfile.TemporaryDirectory() as profile:
        res = subprocess.run(
            [
                chromium(),
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--allow-file-access-from-files",
                f"--user-data-dir={profile}",
                "--virtual-time-budget=10000",
                "--dump-dom",
                probe_path.as_uri(),
            ],
            capture_output=True,
            text=True,
            timeout=120,
        )
    probe_path.unlink()
    match = re.search(r'<pre id="occam-probe">(.*?)</pre>', res.stdout, re.S)
    assert match, f"chromium gave no probe result: rc={res.returncode} {res.stderr[-2000:]}"
    return json.loads(html.unescape(match.group(1)))
