"""The step-by-step viewer: its timeline, its page, and the page in a real headless Chromium."""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from library_runs import example_run

import bngraph as bg
from bngraph.testing.graphs import layered
from bngraph.viz import COLLAPSE_THRESHOLD, render_steps
from bngraph.viz.stage_graph import stage_graph
from bngraph.viz.timeline import timeline

CHROMEDRIVER = "/usr/bin/chromedriver"
WINDOW = (1440, 900)


# ---------------------------------------------------------------------- the timeline


def test_the_timeline_follows_the_schedule_forward_then_backward() -> None:
    run = example_run("batchnorm")
    g = run.graph
    t = timeline(run)
    forward = [s.node for s in t.steps if s.phase == "forward"]
    backward = [s.node for s in t.steps if s.phase == "backward"]
    assert forward == [n for n in g.order if n not in g.inputs]
    assert backward == sorted(
        (n for n in g.names if run.step(n)[1] is not None), key=lambda n: run.step(n)[1]
    )
    assert len(t.steps) == 1 + len(forward) + len(backward) == 21
    assert t.first_backward == 1 + len(forward)
    for name in g.names:
        forward_step, backward_step = run.step(name)
        assert t.value_at[name] == forward_step
        if backward_step is not None:
            assert t.steps[t.grad_at[name]].node == name
    # xmu's gradient is known once both of its consumers have sent theirs
    assert t.grad_at["xmu"] > max(t.edge_at["sq", 0], t.edge_at["xhat", 0])
    # an input's gradient is complete when its last consumer has sent
    assert t.grad_at["x"] == max(t.edge_at["mu", 0], t.edge_at["xmu", 0])
    assert t.steps[t.value_at["xhat"]].caption == "xhat = xmu × ivar"


def test_a_forward_only_run_has_only_forward_steps() -> None:
    run = bg.library.get("batchnorm").forward(**bg.library.example("batchnorm"))
    t = timeline(run)
    assert {s.phase for s in t.steps} == {"start", "forward"} and t.first_backward is None
    assert all(at is None for at in t.grad_at.values())


# ---------------------------------------------------------------------- the page


@pytest.mark.dot
def test_the_page_is_one_self_contained_file(tmp_path: Path) -> None:
    index = Path(render_steps(example_run("batchnorm"), tmp_path / "viewer"))
    assert [p.name for p in index.parent.iterdir()] == ["index.html"]
    page = index.read_text("utf-8")
    # nothing is fetched from anywhere: no src, no href but an empty data: icon
    assert not re.search(r"""\bsrc\s*=""", page)
    assert re.findall(r"""\bhref\s*=\s*["']([^"']*)""", page) == ["data:,"]
    assert "<script src" not in page and "@import" not in page and "url(" not in page
    # one picture for the whole run, whatever the number of steps
    assert page.count('<script type="image/svg+xml"') == 1


@pytest.mark.dot
def test_hostile_names_cannot_break_out_of_the_page(tmp_path: Path) -> None:
    g = bg.Graph("</script><script>alert(1)</script>")
    a = g.input("</script><b>")
    g.output((a * 2).named("<img src=x onerror=alert(1)>"))
    run = g.forward(keep_values=True, **{"</script><b>": np.ones(2)})
    run.backward()
    page = Path(render_steps(run, tmp_path)).read_text("utf-8")
    assert page.count("<script") == 3 and page.count("</script>") == 3
    assert "<img" not in page and "<b>" not in page


# ---------------------------------------------------------------------- in Chromium


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    assert shutil.which("chromium") or Path("/usr/bin/chromium").exists(), (
        "chromium is missing: run `make test` (it installs chromium and chromium-driver)"
    )
    options = webdriver.ChromeOptions()
    for flag in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        f"--window-size={WINDOW[0]},{WINDOW[1]}",
        f"--user-data-dir={tmp_path_factory.mktemp('profile')}",
    ):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(options=options, service=Service(executable_path=CHROMEDRIVER))
    try:
        yield driver
    finally:
        driver.quit()


def open_page(driver: Any, index: Path) -> None:
    driver.get(index.as_uri())
    driver.get_log("browser")  # start each page with an empty log


def errors(driver: Any) -> list[Any]:
    return [entry for entry in driver.get_log("browser") if entry["level"] == "SEVERE"]


BOXES = """
var found = {};
document.querySelectorAll('#canvas [data-node]').forEach(function (e) {
  var b = e.getBBox(); found[e.getAttribute('data-node')] = [b.x, b.y, b.width, b.height];
});
return found;
"""

SMALLEST_TEXT = """
var least = Infinity;
document.querySelectorAll('#canvas svg text').forEach(function (t) {
  var px = parseFloat(t.getAttribute('font-size')) * t.getScreenCTM().a;
  least = Math.min(least, px);
});
return least;
"""

CLASSES = """
var found = {}, selector = arguments[0], key = arguments[1];
document.querySelectorAll(selector).forEach(function (e) {
  found[e.getAttribute(key)] = e.getAttribute('class') || '';
});
return found;
"""


def state(driver: Any) -> tuple[str, str, str, str]:
    from selenium.webdriver.common.by import By

    return (
        driver.find_element(By.ID, "counter").text,
        driver.find_element(By.ID, "phase").text,
        driver.find_element(By.ID, "caption").text,
        driver.find_element(By.ID, "slider").get_attribute("value"),
    )


@pytest.mark.dot
def test_the_viewer_steps_without_moving_anything(browser: Any, tmp_path: Path) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    run = example_run("batchnorm")
    g = run.graph
    t = timeline(run)
    open_page(browser, Path(render_steps(run, tmp_path / "viewer")))
    ids = browser.execute_script(
        "return Array.from(document.querySelectorAll('[id]')).map(function (e) { return e.id; })"
    )
    assert len(ids) == len(set(ids))
    first = browser.execute_script(BOXES)
    assert set(first) == set(g.names)  # every node, found by its name
    assert state(browser) == ("step 0 of 20", "start", "inputs given: x, gamma, beta, eps", "0")
    assert browser.find_element(By.ID, "prev").get_attribute("disabled") == "true"
    assert browser.execute_script(SMALLEST_TEXT) >= 9

    body = browser.find_element(By.TAG_NAME, "body")
    for k in range(1, len(t.steps)):
        body.send_keys(Keys.ARROW_RIGHT)
        step = t.steps[k]
        assert state(browser) == (f"step {k} of 20", step.phase, step.caption, str(k))
        assert browser.execute_script(BOXES) == first, f"a node moved at step {k}"
        nodes = browser.execute_script(CLASSES, "#canvas [data-node]", "data-node")
        assert [n for n, c in nodes.items() if "bn-current" in c] == [step.node]
        pending = {n for n, c in nodes.items() if "bn-pending" in c}
        assert pending == {n for n in g.names if t.value_at[n] > k}
    assert browser.find_element(By.ID, "next").get_attribute("disabled") == "true"
    body.send_keys(Keys.HOME)
    assert state(browser)[0] == "step 0 of 20"
    body.send_keys(Keys.END)
    assert state(browser)[0] == "step 20 of 20"
    body.send_keys(Keys.ARROW_LEFT)
    assert state(browser)[0] == "step 19 of 20"
    browser.find_element(By.ID, "prev").click()
    assert state(browser)[0] == "step 18 of 20"
    browser.execute_script(
        "var s = document.getElementById('slider'); s.value = '3';"
        "s.dispatchEvent(new Event('input'));"
    )
    assert state(browser)[:2] == ("step 3 of 20", "forward")
    assert errors(browser) == []


EDGES = """
var found = [];
document.querySelectorAll('#canvas [data-edge=backward]').forEach(function (e) {
  if (!e.classList.contains('bn-hidden'))
    found.push(e.getAttribute('data-consumer') + ':' + e.getAttribute('data-position'));
});
return found.sort();
"""


@pytest.mark.dot
def test_backward_edges_and_gradients_appear_when_sent(browser: Any, tmp_path: Path) -> None:
    run = example_run("batchnorm")
    t = timeline(run)
    open_page(browser, Path(render_steps(run, tmp_path / "viewer")))

    def go(k: int) -> None:
        browser.execute_script(
            "var s = document.getElementById('slider'); s.value = arguments[0];"
            "s.dispatchEvent(new Event('input'));", str(k)
        )

    for k in (0, t.first_backward - 1, t.grad_at["xhat"], len(t.steps) - 1):
        go(k)
        sent = sorted(f"{c}:{p}" for (c, p), at in t.edge_at.items() if at <= k)
        assert browser.execute_script(EDGES) == sent, k
        hidden = browser.execute_script(
            "return Array.from(document.querySelectorAll('#canvas [data-node] .bn-grad'))"
            ".filter(function (e) { return e.classList.contains('bn-hidden'); })"
            ".map(function (e) { return e.closest('[data-node]').getAttribute('data-node'); })"
        )
        assert set(hidden) == {n for n, at in t.grad_at.items() if at is None or at > k}, k
    assert errors(browser) == []


@pytest.mark.dot
def test_hovering_a_node_shows_its_full_value_and_gradient(browser: Any, tmp_path: Path) -> None:
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By

    from bngraph.viz.summary import full_text

    run = example_run("batchnorm")
    open_page(browser, Path(render_steps(run, tmp_path / "viewer")))
    node = browser.find_element(By.CSS_SELECTOR, '#canvas [data-node="x"] text')
    ActionChains(browser).move_to_element(node).perform()
    details = browser.find_element(By.ID, "details")
    assert details.is_displayed()
    text = details.get_attribute("textContent")
    assert text.startswith("x: input [N, D]")
    assert full_text(run.value("x")) in text and full_text(run.grad("x")) in text


TRANSFORM = "return document.getElementById('canvas').style.transform"


@pytest.mark.dot
def test_the_picture_pans_and_zooms(browser: Any, tmp_path: Path) -> None:
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By

    open_page(browser, Path(render_steps(example_run("batchnorm"), tmp_path / "viewer")))

    def scale() -> float:
        return float(re.search(r"scale\(([\d.]+)\)", browser.execute_script(TRANSFORM)).group(1))

    start = scale()
    viewport = browser.find_element(By.ID, "viewport")
    browser.execute_script(
        "arguments[0].dispatchEvent(new WheelEvent('wheel', {deltaY: -100, clientX: 400,"
        " clientY: 400, bubbles: true, cancelable: true}))", viewport
    )
    assert scale() == pytest.approx(start * 1.15)
    before = browser.execute_script(TRANSFORM)
    drag = ActionChains(browser).move_to_element_with_offset(viewport, 0, 0).click_and_hold()
    drag.move_by_offset(120, 80).release().perform()
    after = browser.execute_script(TRANSFORM)
    assert after != before and scale() == pytest.approx(start * 1.15)
    browser.find_element(By.ID, "fit").click()
    inside = browser.execute_script(
        "var s = document.querySelector('#canvas svg').getBoundingClientRect();"
        "var p = document.getElementById('viewport').getBoundingClientRect();"
        "return s.left >= p.left - 1 && s.right <= p.right + 1 && s.top >= p.top - 1"
        " && s.bottom <= p.bottom + 1"
    )
    assert inside
    assert errors(browser) == []


@pytest.mark.dot
def test_a_five_thousand_node_graph_opens_quickly_collapsed(browser: Any, tmp_path: Path) -> None:
    from selenium.webdriver.common.by import By

    g = layered(stages=41, width=80)
    assert len(g) > 5000 > COLLAPSE_THRESHOLD
    run = g.forward(keep_values=True, **{f"x{k}": np.linspace(0.1, 0.5, 3) for k in range(80)})
    run.backward()
    index = Path(render_steps(run, tmp_path / "viewer"))
    browser.get("about:blank")
    browser.get(index.as_uri())  # returns once the page has loaded
    loaded = browser.execute_script(
        "var t = performance.timing; return t.loadEventEnd - t.navigationStart"
    )
    # the bound, measured by the browser itself (here it takes about 1 s)
    assert 0 < loaded < 5000
    boxes = list(stage_graph(g).members)
    stages = [
        e.get_attribute("data-stage")
        for e in browser.find_elements(By.CSS_SELECTOR, "[data-stage]")
    ]
    assert sorted(stages) == sorted(boxes)
    assert browser.find_elements(By.CSS_SELECTOR, "#canvas [data-node]") == []
    assert browser.execute_script(SMALLEST_TEXT) >= 9
    # clicking a stage opens it: its nodes, each with its name, in its own layout
    browser.find_element(By.CSS_SELECTOR, '[data-stage="layer 7"]').click()
    members = {s.name for s in g.nodes if s.stage == "layer 7"}
    found = {e.get_attribute("data-node") for e in browser.find_elements(
        By.CSS_SELECTOR, "#canvas [data-node]:not([data-outside])")}
    assert found == members
    assert browser.execute_script(SMALLEST_TEXT) >= 9
    browser.find_element(By.ID, "overview").click()
    assert len(browser.find_elements(By.CSS_SELECTOR, "[data-stage]")) == len(boxes)
    assert errors(browser) == []


@pytest.mark.dot
@pytest.mark.parametrize("name", ["groupnorm", "mlp"])
def test_every_kind_of_run_plays_to_its_end(browser: Any, tmp_path: Path, name: str) -> None:
    """A forward-only run, and runs with shape-only operands and constants, step from
    the first step to the last without an error, every node found by name."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    g = bg.library.get(name)
    forward_only = g.forward(keep_values=True, **bg.library.example(name))
    full = g.forward(keep_values=True, **bg.library.example(name))
    full.backward()
    for run in (forward_only, full):
        open_page(browser, Path(render_steps(run, tmp_path / str(id(run)))))
        assert set(browser.execute_script(BOXES)) == set(g.names)
        last = len(timeline(run).steps) - 1
        browser.find_element(By.TAG_NAME, "body").send_keys(Keys.END)
        assert state(browser)[0] == f"step {last} of {last}"
        assert browser.execute_script(SMALLEST_TEXT) >= 9
        assert errors(browser) == []


@pytest.mark.dot
def test_a_stage_too_large_to_lay_out_says_how_to_draw_it(browser: Any, tmp_path: Path) -> None:
    from selenium.webdriver.common.by import By

    from bngraph.testing.graphs import chain

    run = chain(nodes=450, stages=2).forward(keep_values=True, x=np.zeros(2))
    run.backward()
    open_page(browser, Path(render_steps(run, tmp_path)))
    browser.find_element(By.CSS_SELECTOR, '[data-stage="stage 0"]').click()
    assert browser.find_elements(By.CSS_SELECTOR, "#canvas [data-node]") == []
    where = browser.find_element(By.ID, "where").text
    assert where == (
        "stage 0: 225 nodes, too many to lay out here; draw it with to_graphviz(graph, stage=...)"
    )
    assert errors(browser) == []
