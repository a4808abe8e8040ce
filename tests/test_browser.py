"The smoke report as a reader sees it: index.html and an executed notebook's HTML rendering in headless Chromium."
import os, shutil, subprocess
from pathlib import Path
import pytest



def _chromium_missing() -> str:
    "Why there is no headless Chromium here ('' when there is one), after trying to install the Debian packages as root."
    have = lambda: shutil.which("chromedriver") and any(map(shutil.which, ("chromium", "chromium-browser", "google-chrome")))
    if have(): return ""
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        return "needs chromium and chromedriver (apt-get install chromium chromium-driver)"
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for cmd in (["apt-get", "update", "-qq"], ["apt-get", "install", "-y", "-qq", "chromium", "chromium-driver"]):
        done = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=900)
        if done.returncode:
            last = (done.stderr.strip().splitlines() or ["no output"])[-1]
            return f"chromium and chromium-driver could not be installed ({' '.join(cmd[:2])}: {last})"
    return "" if have() else "chromium and chromium-driver were installed but are not on PATH"


def test_report_in_a_browser(request, capsys):
    ("index.html in headless Chromium: the claims table is displayed, every inline figure is displayed and loaded, each"
     " figure's link to its executed notebook's HTML rendering is displayed; the first rendering, opened from its link,"
     " shows at least one plot. Screenshots go to reports/smoke/screenshots/.")
    reason = _chromium_missing()   # before the smoke run: no minutes spent on a test that cannot run
    if reason: pytest.skip(f"no headless browser: {reason}")
    from cl_vs_mim.reporting.report import screenshot_report
    out, report = request.getfixturevalue("smoke_run")
    seen = screenshot_report(out / "smoke" / "index.html")
    with capsys.disabled():   # where the pictures are, also when the test passes
        print("\nscreenshots: " + ", ".join(seen["screenshots"].values()))
    assert seen["claims_table"], seen                       # displayed with a non-zero size
    pngs = sum(f.endswith(".png") for r in report["records"].values() for f in r["files"])
    pngs += sum(f.endswith(".png") for f in report["ablations"].files)   # the ablation tables' figure (under C-Tab4)
    assert seen["figures"] == pngs and seen["figures_loaded"] == pngs > 0, seen   # every inline figure arrived
    assert seen["notebook_links"] == len(report["records"]), seen   # one displayed rendering link per figure
    assert seen["notebook"].endswith(".html") and "/notebooks/" in seen["notebook"], seen
    assert seen["notebook_images"] >= 1, seen                # the rendering shows its plots
    for name in ("index", "figure", "notebook"):
        png = Path(seen["screenshots"][name])
        assert png.parent == (out / "smoke" / "screenshots").resolve() and png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", png


def test_every_executed_notebook_keeps_its_plots(smoke_run):
    "Under `make`'s MPLBACKEND=Agg too, the kernels draw inline: each executed notebook and its rendering hold PNGs."
    import nbformat
    out, report = smoke_run
    for rec in report["records"].values():
        nb = nbformat.read(out / "smoke" / rec["executed"], as_version=4)
        assert any("image/png" in o.get("data", {}) for c in nb.cells if c.cell_type == "code" for o in c.outputs), rec
        assert "data:image/png;base64," in (out / "smoke" / rec["html"]).read_text(), rec


def test_docs_site_in_a_browser(smoke_run, tmp_path, capsys):
    ("The documentation site (`make docs`, here a subset of the guide and the smoke report) in headless Chromium: the"
     " navigation tabs, a notebook page's code and an API page's signature are displayed. Screenshot: "
     "reports/smoke/screenshots/docs-*.png.")
    reason = _chromium_missing()
    if reason: pytest.skip(f"no headless browser: {reason}")
    from selenium.webdriver.common.by import By
    from cl_vs_mim.reporting.report import headless_chromium, _png
    from cl_vs_mim.tools.docs import build_docs
    out, _ = smoke_run
    site = build_docs(tmp_path / "site", report=out / "smoke", only=["01_data*", "10_attention*"], quiet=True)
    shots, driver = out / "smoke" / "screenshots", headless_chromium()
    try:
        driver.get((site / "index.html").as_uri())
        tabs = [a.text for a in driver.find_elements(By.CSS_SELECTOR, "nav a, .md-tabs a") if a.is_displayed()]
        assert any("Reproduce" in t for t in tabs) and any("API" in t for t in tabs), tabs
        _png(shots / "docs-index.png", driver.get_screenshot_as_png())
        driver.get((site / "guide" / "01_data.html").as_uri())
        code = [c for c in driver.find_elements(By.CSS_SELECTOR, "pre, code") if c.is_displayed() and c.text.strip()]
        assert code and "FashionMNIST" in driver.page_source and "#|" not in driver.find_element(By.TAG_NAME, "body").text
        _png(shots / "docs-guide.png", driver.get_screenshot_as_png())
        driver.get((site / "api" / "cl_vs_mim.core.html").as_uri())
        assert "atomic_write_text" in driver.find_element(By.TAG_NAME, "body").text
    finally: driver.quit()
    with capsys.disabled(): print(f"\ndocs screenshots: {shots / 'docs-index.png'}, {shots / 'docs-guide.png'}")
