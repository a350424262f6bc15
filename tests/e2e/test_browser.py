"""The dashboard once in a real browser: Debian's headless Chromium, driven by Playwright.

Serves the page with `python painel_vendas.py` over a database seeded through the consumer's
write path (an hour of batches, windows), checks the sales view (metrics, the four charts, a
search by name) and the operations view (lag, rates, the reconciliation), with a screenshot
of each (into docs/, for the README, when CAPTURAS_DO_PAINEL=docs); then writes a new batch
led by a name full of Markdown and HTML and waits for both views to follow by themselves, the
name shown as text.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import urllib.request
from dataclasses import replace
from decimal import Decimal
from pathlib import Path

import pytest

from localdev.processes import free_port
from tests.support import REPO_ROOT
from tests.support.painel_data import Figures, seed_dashboard, write_batch
from tests.support.waiting import wait_until
from vendas.formatting import fmt_brl, fmt_int
from vendas.pipeline.totals import ProductTotal, rank

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
SALES_SCREENSHOT, OPERATIONS_SCREENSHOT = "painel.png", "painel-operacao.png"
HOSTILE = "**Kit** <b>Gamer</b> [promo](javascript:alert(1)) <script>alert(2)</script> $9$"
CHARTS = "[data-testid='stVegaLiteChart']"

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
    """`python painel_vendas.py` on a free port, over a seeded database; yields its URL and
    the seeded totals."""
    totals = seed_dashboard(database_url)
    port = free_port()
    log_path = tmp_path / "painel.log"
    env = dict(os.environ, VENDAS_BANCO=database_url)
    with open(log_path, "w") as log_file:
        process = subprocess.Popen(
            [sys.executable, str(REPO_ROOT / "painel_vendas.py"), "--porta", str(port),
             "--atualizar", "2"],
            stdout=log_file,
            stderr=subprocess.STDOUT,
            env=env,
            start_new_session=True,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until(lambda: _page_answers(url) or process.poll() is not None, 60, "the dashboard")
        assert process.poll() is None, log_path.read_text()
        yield url, totals
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(30)


def _shown_metrics(page) -> dict[str, str]:
    labels = page.locator("[data-testid='stMetricLabel']").all_inner_texts()
    values = page.locator("[data-testid='stMetricValue']").all_inner_texts()
    return dict(zip((label.strip() for label in labels), values))


def _settled(page, tables: int, charts: int) -> bool:
    """No script run under way (its status widget hidden, no element stale) and the view
    complete: `tables` tables and `charts` drawn charts."""
    return page.evaluate(
        """([tables, charts]) =>
            !document.querySelector("[data-testid='stStatusWidget']")
            && !document.querySelector("[data-stale='true']")
            && document.querySelectorAll("[data-testid='stDataFrame']").length === tables
            && document.querySelectorAll(
                "[data-testid='stVegaLiteChart'] :is(canvas, svg.marks)").length === charts""",
        [tables, charts],
    )


def _screenshot(page, path: Path, tables: int, charts: int) -> None:
    """The whole view from its top, taken between two refreshes: the page must be settled
    just before and just after the picture (a refresh in between takes it again)."""
    page.locator("[data-testid='stMain']").evaluate("main => main.scrollTo(0, 0)")
    height = page.evaluate(
        "Math.ceil(document.querySelector(\"[data-testid='stMainBlockContainer'] "
        "[data-testid='stVerticalBlock']\").getBoundingClientRect().bottom)")
    page.set_viewport_size({"width": 1400, "height": height + 48})
    for _ in range(5):
        wait_until(lambda: _settled(page, tables, charts), 30, f"a settled page for {path.name}",
                   interval_s=0.05)
        image = page.screenshot(animations="disabled")
        if _settled(page, tables, charts):
            break
    else:
        raise AssertionError(f"the page kept refreshing while taking {path.name}")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(image)
    page.set_viewport_size({"width": 1400, "height": 1000})
    assert len(image) > 50_000


@pytest.mark.slow
def test_dashboard_in_headless_chromium(dashboard, database_url, tmp_path):
    playwright = pytest.importorskip("playwright.sync_api")
    expect = playwright.expect
    url, totals = dashboard
    best = min(totals.produtos, key=rank)
    # a test run never rewrites the tracked pictures unless asked to
    pictures = REPO_ROOT / "docs" if os.environ.get("CAPTURAS_DO_PAINEL") == "docs" else tmp_path
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000}, locale="pt-BR",
                                    timezone_id="America/Sao_Paulo")
            page.goto(url, timeout=60_000)

            # The sales view: metrics, top 10 by value and by quantity, revenue and orders
            # per window.
            expect(page.locator(CHARTS)).to_have_count(4, timeout=60_000)
            expect(page.locator(f"{CHARTS} canvas, {CHARTS} svg")).to_have_count(4)
            wait_until(lambda: len(_shown_metrics(page)) == 6, 30, "the six metrics")
            assert _shown_metrics(page) == {
                "Pedidos contados": fmt_int(totals.pedidos),
                "Valor vendido": fmt_brl(totals.valor_total),
                "Valor sem preço unitário": "R$ 5.230,00",
                "Produtos vendidos": "55",
                "Produto que mais vendeu (valor)": best.produto,
                "Valor vendido dele": fmt_brl(best.valor_total),
            }
            expect(page.get_by_text("Todos os produtos (55)")).to_be_visible()

            search = page.get_by_label("Começo do nome (maiúsculas ou minúsculas)")
            search.fill("smart")
            search.press("Enter")
            expect(page.get_by_text("5 produtos começam com “smart”, em ordem alfabética."))\
                .to_be_visible(timeout=30_000)
            _screenshot(page, pictures / SALES_SCREENSHOT, tables=2, charts=4)

            # The operations view: the last batch's figures and the reconciliation.
            page.get_by_role("tab", name="Operação").click()
            expect(page.get_by_text("Fecha: cada uma das 1.441 mensagens lidas do tópico foi "
                                    "contada como pedido, descartada como repetida ou "
                                    "rejeitada.")).to_be_visible(timeout=30_000)
            expect(page.get_by_text("lidas = contadas + repetidas + rejeitadas: "
                                    "1.441 = 1.381 + 40 + 20")).to_be_visible()
            expect(page.locator(CHARTS)).to_have_count(4, timeout=30_000)
            expect(page.locator(f"{CHARTS} canvas, {CHARTS} svg")).to_have_count(4)
            wait_until(lambda: len(_shown_metrics(page)) == 5, 30, "the five figures")
            assert _shown_metrics(page) == {
                "Atraso (mensagens)": "9",
                "Atraso estimado": "< 0,1 s",
                "Taxa de entrada": "200/s",
                "Taxa de processamento": "900/s",
                "Duração do lote": "1,25 s",
            }
            expect(page.get_by_text("O consumidor está em dia: 9 mensagens de atraso "
                                    "(< 0,1 s no ritmo atual) no último lote.")).to_be_visible()
            _screenshot(page, pictures / OPERATIONS_SCREENSHOT, tables=2, charts=4)

            # A new batch where a name full of Markdown and HTML leads: the page updates by
            # itself and shows the name exactly as sent, creating no element from it.
            page.get_by_role("tab", name="Vendas").click()
            after = replace(
                totals,
                produtos=[ProductTotal(HOSTILE, 3, Decimal("999999.99")), *totals.produtos],
                total_produtos=totals.total_produtos + 1,
                quantidade_total=totals.quantidade_total + 3,
                valor_total=totals.valor_total + Decimal("999999.99"),
                pedidos=totals.pedidos + 1,
                mensagens_lidas=totals.mensagens_lidas + 1,
            )
            write_batch(database_url, 60, totals, after, Figures(210.0, 840.0, 1100, (0, 21)))
            wait_until(lambda: _shown_metrics(page).get("Produto que mais vendeu (valor)")
                       == HOSTILE, 30, "the new batch on the page")
            assert _shown_metrics(page)["Valor vendido dele"] == "R$ 999.999,99"
            assert page.locator("[data-testid='stMetricValue'] :is(b, a, script, img)")\
                .count() == 0
            assert page.locator("script", has_text="alert").count() == 0

            # and the operations view follows it
            page.get_by_role("tab", name="Operação").click()
            expect(page.get_by_text("lidas = contadas + repetidas + rejeitadas: "
                                    "1.442 = 1.382 + 40 + 20")).to_be_visible(timeout=30_000)
            wait_until(lambda: _shown_metrics(page).get("Atraso (mensagens)") == "21", 30,
                       "the new batch's lag")
            assert _shown_metrics(page)["Taxa de processamento"] == "840/s"
        finally:
            browser.close()
