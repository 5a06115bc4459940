"""The step-by-step player: its frames, its files, and its page in a real headless Chromium."""

from __future__ import annotations

import json
import re
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest

import bngraph as bg
from bngraph.viz import VizError, render_steps
from bngraph.viz.player import frames

CHROMEDRIVER = "/usr/bin/chromedriver"


def kept_run() -> bg.Run:
    g = bg.library.get("batchnorm")
    run = g.forward(keep_values=True, **bg.library.example("batchnorm"))
    run.backward(run.outputs["out"])
    return run


def test_frames_follow_the_schedule_forward_then_backward() -> None:
    run = kept_run()
    g = run.graph
    moments = frames(run)
    forward = [f.current for f in moments if f.phase == "forward"]
    backward = [f.current for f in moments if f.phase == "backward"]
    assert forward == [n for n in g.order if n not in g.inputs]
    assert backward == sorted(
        (n for n in g.names if run.step(n)[1] is not None), key=lambda n: run.step(n)[1]
    )
    assert len(moments) == 1 + len(forward) + len(backward)
    # what is known grows by one node per step
    assert [len(f.values) for f in moments[: 1 + len(forward)]] == list(
        range(len(g.inputs), len(g.names) + 1)
    )
    last = moments[-1]
    assert last.grads == frozenset(g.names)
    # xmu's gradient is known only once both of its consumers have sent theirs
    step_of = {f.current: k for k, f in enumerate(moments) if f.phase == "backward"}
    assert "xmu" not in moments[step_of["xhat"]].grads
    assert ("sq", 0) in moments[step_of["sq"]].edges
    assert "xmu" in moments[step_of["xmu"]].grads


def test_a_forward_only_run_has_only_forward_frames() -> None:
    run = bg.library.get("batchnorm").forward(**bg.library.example("batchnorm"))
    assert {f.phase for f in frames(run)} == {"start", "forward"}


@pytest.mark.dot
def test_render_steps_writes_one_svg_per_step_and_a_self_contained_page(tmp_path: Path) -> None:
    run = kept_run()
    index = Path(render_steps(run, tmp_path / "player"))
    svgs = sorted(index.parent.glob("step-*.svg"))
    assert len(svgs) == len(frames(run)) == 21
    for svg in svgs:
        ET.parse(svg)
    page = index.read_text("utf-8")
    # self-contained: no file, script or style is fetched from anywhere
    assert not re.search(r"""(src|href)\s*=\s*["'](?!#)""", page)
    assert page.count('<div class="frame"') == 21
    steps = json.loads(
        re.search(r'<script type="application/json" id="steps">(.*?)</script>', page, re.S).group(1)
    )
    assert steps[1] == {
        "file": "step-001.svg",
        "formula": "mu = mean(x, axis=0)",
        "node": "mu",
        "phase": "forward",
    }
    assert steps[11]["phase"] == "backward" and steps[11]["node"] == "out"
    # the current node is highlighted in its picture
    second = svgs[2].read_text("utf-8")
    assert "#ffb347" in second


def test_too_many_steps_is_refused_with_the_way_out(tmp_path: Path) -> None:
    with pytest.raises(VizError, match="draw it with render"):
        render_steps(kept_run(), tmp_path, max_frames=5)


@pytest.mark.dot
def test_hostile_names_cannot_break_out_of_the_page(tmp_path: Path) -> None:
    g = bg.Graph("</script><script>alert(1)</script>")
    a = g.input("</script><b>")
    g.output((a * 2).named("<img src=x onerror=alert(1)>"))
    run = g.forward(keep_values=True, **{"</script><b>": np.ones(2)})
    run.backward()
    page = Path(render_steps(run, tmp_path)).read_text("utf-8")
    assert page.count("<script") == 2 and page.count("</script>") == 2
    assert "<img" not in page and "<b>" not in page


def chrome():
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
    ):
        options.add_argument(flag)
    return options, Service(executable_path=CHROMEDRIVER), webdriver


@pytest.mark.dot
def test_the_player_plays_in_headless_chromium(tmp_path: Path) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    index = Path(render_steps(kept_run(), tmp_path / "player"))
    options, service, webdriver = chrome()
    options.add_argument(f"--user-data-dir={tmp_path / 'profile'}")
    driver = webdriver.Chrome(options=options, service=service)
    try:
        driver.get(index.as_uri())

        def state() -> tuple[str, str, str, str, list[str]]:
            visible = [
                f.get_attribute("data-step")
                for f in driver.find_elements(By.CSS_SELECTOR, ".frame")
                if f.is_displayed()
            ]
            return (
                driver.find_element(By.ID, "counter").text,
                driver.find_element(By.ID, "node").text,
                driver.find_element(By.ID, "formula").text,
                driver.find_element(By.ID, "slider").get_attribute("value"),
                visible,
            )

        counter, node, formula, slider, visible = state()
        assert (counter, node, slider, visible) == ("step 0 of 20", "", "0", ["0"])
        assert formula == "inputs given: x, gamma, beta, eps"
        assert driver.find_element(By.ID, "prev").get_attribute("disabled") == "true"
        picture = driver.find_element(By.CSS_SELECTOR, '.frame[data-step="0"] svg')
        assert picture.size["width"] > 100

        driver.find_element(By.ID, "next").click()
        assert state() == ("step 1 of 20", "mu", "mu = mean(x, axis=0)", "1", ["1"])
        driver.find_element(By.ID, "next").click()
        assert state() == ("step 2 of 20", "xmu", "xmu = x − mu", "2", ["2"])
        # the picture changed: the highlighted node is the new one
        shown = driver.find_element(By.CSS_SELECTOR, '.frame[data-step="2"]')
        highlighted = [
            g.find_element(By.TAG_NAME, "title").get_attribute("textContent")
            for g in shown.find_elements(By.CSS_SELECTOR, "g.node")
            if g.find_elements(By.CSS_SELECTOR, 'path[fill="#ffb347"], polygon[fill="#ffb347"]')
        ]
        assert highlighted == ["xmu"]
        driver.find_element(By.ID, "prev").click()
        assert state()[1] == "mu"
        # the slider jumps, and the arrow keys step
        driver.execute_script(
            "var s = document.getElementById('slider'); s.value = '20';"
            "s.dispatchEvent(new Event('input'));"
        )
        counter, node, formula, _, visible = state()
        assert (counter, node, visible) == ("step 20 of 20", "mu", ["20"])
        assert formula == "backward through mu = mean(x, axis=0); gradients sent to x"
        assert driver.find_element(By.ID, "next").get_attribute("disabled") == "true"
        driver.find_element(By.TAG_NAME, "body").send_keys(Keys.ARROW_LEFT)
        assert state()[0] == "step 19 of 20"
    finally:
        driver.quit()
