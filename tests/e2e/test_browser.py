"""The dashboard once in a real browser: Debian's headless Chromium, driven by Playwright.

Loads the page served by `python painel_vendas.py`, waits for the charts, checks the top
product and its value, saves a screenshot under bench/results/, then writes a new batch and
waits for the page to show it by itself (with a name full of Markdown and HTML, shown as
written).
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import urllib.request
from decimal import Decimal
from pathlib import Path

import pytest

from localdev.processes import free_port
from tests.support import REPO_ROOT
from tests.support.painel_data import seed, seeded_totals
from tests.support.waiting import wait_until
from vendas.formatting import fmt_brl
from vendas.pipeline.totals import ProductTotal, Totals

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
SCREENSHOT = REPO_ROOT / "bench" / "results" / "painel.png"
HOSTILE = "**Kit** <b>Gamer</b> [promo](http://exemplo) $9$"

pytestmark = pytest.mark.skipif(
    CHROMIUM is None, reason="Chromium não instalado (apt-get install -y chromium)"
)


def _page_answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url + "/_stcore/health", timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


@pytest.fixture
def dashboard(database_url: str, tmp_path: Path):
    """`python painel_vendas.py` on a free port, over a seeded database; yields its URL."""
    seed(database_url, seeded_totals(), 12)
    port = free_port()
    log_path = tmp_path / "painel.log"
    env = dict(os.environ, VENDAS_BANCO=database_url)
    with open(log_path, "w") as log_file:
        process = subprocess.Popen(
            [
                sys.executable,
                str(REPO_ROOT / "painel_vendas.py"),
                "--porta",
                str(port),
                "--atualizar",
                "2",
            ],
            stdout=log_file,
            stderr=subprocess.STDOUT,
            env=env,
            start_new_session=True,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until(lambda: _page_answers(url) or process.poll() is not None, 60, "the dashboard")
        assert process.poll() is None, log_path.read_text()
        yield url
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(30)


@pytest.mark.slow
def test_dashboard_in_headless_chromium(dashboard, database_url):
    playwright = pytest.importorskip("playwright.sync_api")
    totals = seeded_totals()
    best = totals.produtos[0]
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1350}, locale="pt-BR")
            page.goto(dashboard, timeout=60_000)
            page.wait_for_selector(
                "[data-testid='stVegaLiteChart'] canvas, [data-testid='stVegaLiteChart'] svg",
                timeout=60_000,
            )
            values = page.locator("[data-testid='stMetricValue']")
            labels = page.locator("[data-testid='stMetricLabel']")
            wait_until(lambda: values.count() == 5, 30, "the five metrics")
            shown = dict(zip(labels.all_inner_texts(), values.all_inner_texts()))
            assert shown["Produto que mais vendeu (valor)"] == best.produto
            assert shown["Valor vendido dele"] == fmt_brl(best.valor_total)
            assert page.locator("[data-testid='stVegaLiteChart']").count() == 2
            page.wait_for_timeout(1000)  # let the bars' entry animation end before the picture
            # and take it between two refreshes (elements are dimmed while the script runs)
            page.wait_for_selector("[data-testid='stStatusWidget']", state="hidden", timeout=30_000)
            SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(SCREENSHOT))
            assert SCREENSHOT.stat().st_size > 20_000

            # A new batch where a name full of Markdown and HTML leads: the page updates by
            # itself and shows the name exactly as sent.
            top = ProductTotal(HOSTILE, 3, Decimal("999999.99"))
            seed(
                database_url,
                Totals(
                    [top, *totals.produtos],
                    totals.pedidos + 1,
                    totals.valor_nao_atribuido,
                    totals.rejeitadas,
                ),
                13,
            )
            wait_until(lambda: HOSTILE in values.all_inner_texts(), 30, "the new batch on the page")
            assert "R$ 999.999,99" in values.all_inner_texts()
            assert (
                page.locator(
                    "[data-testid='stMetricValue'] b, [data-testid='stMetricValue'] a"
                ).count()
                == 0
            )
        finally:
            browser.close()
