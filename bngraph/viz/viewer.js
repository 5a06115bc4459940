// The step-by-step viewer of a bngraph run: one layout, steps that only change
// what is highlighted, shown or greyed, pan and zoom, stages opened by a click.
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("bn-data").textContent);
  var steps = data.steps;
  var last = steps.length - 1;
  var index = {};  // node name -> position in data.nodes
  data.nodes.forEach(function (name, k) { index[name] = k; });

  var viewport = document.getElementById("viewport");
  var canvas = document.getElementById("canvas");
  var slider = document.getElementById("slider");
  var details = document.getElementById("details");
  var current = 0;
  var shown = null;  // the picture on the canvas: {svg, smallest, box}
  var view = {x: 0, y: 0, scale: 1};

  // ------------------------------------------------------------ pictures

  function show(picture, box) {
    canvas.innerHTML = document.getElementById("bn-picture-" + picture.id).textContent;
    shown = {svg: canvas.querySelector("svg")};
    shown.smallest = smallestText();
    document.getElementById("overview").hidden = (box === null);
    document.getElementById("where").textContent = box === null
      ? (data.boxes.length ? "all stages: click one to open it" : "")
      : "stage " + data.boxes[box];
    paint();
    home();
  }

  function openBox(box) {
    var picture = data.pictures[box];
    if (picture) {
      show(picture, box);
    } else {
      document.getElementById("where").textContent = data.boxes[box] + ": " +
        data.boxSizes[box] + " nodes, too many to lay out here; draw it with " +
        "to_graphviz(graph, stage=...)";
    }
  }

  // ------------------------------------------------------------ zoom and pan

  // The height in pixels of the picture's smallest text at scale 1.
  function smallestText() {
    var least = Infinity;
    shown.svg.querySelectorAll("text").forEach(function (text) {
      var size = parseFloat(text.getAttribute("font-size")) * text.getScreenCTM().a;
      least = Math.min(least, size);
    });
    return least === Infinity ? 12 : least / view.scale;
  }

  function apply() {
    canvas.style.transform =
      "translate(" + view.x + "px," + view.y + "px) scale(" + view.scale + ")";
  }

  function size() {
    return {w: shown.svg.width.baseVal.value, h: shown.svg.height.baseVal.value};
  }

  function fit() {
    var s = size();
    view.scale = Math.min(viewport.clientWidth / s.w, viewport.clientHeight / s.h, 1);
    view.x = (viewport.clientWidth - s.w * view.scale) / 2;
    view.y = Math.max(0, (viewport.clientHeight - s.h * view.scale) / 2);
    apply();
  }

  // The default: fit, unless that makes text smaller than data.minText pixels; then
  // as small as the text allows, centred on the current step's node.
  function home() {
    fit();
    var least = data.minText / shown.smallest * 1.001;  // a hair above: rounding
    if (view.scale < least) {
      view.scale = Math.min(1, least);
      view.x = 0;
      view.y = 0;
      apply();
      var name = steps[current].node;
      var first = shown.svg.querySelector("[data-node]:not([data-outside])");
      if (name !== null && nodeElement(name)) {
        follow(true);
      } else if (first) {
        centre(first, true);
      }
    }
  }

  // Centre `element` in the window (or, with `top`, near the top of it).
  function centre(element, top) {
    var box = element.getBoundingClientRect();
    var port = viewport.getBoundingClientRect();
    view.x += port.left + port.width / 2 - (box.left + box.width / 2);
    view.y += top ? port.top + 40 - box.top : port.top + port.height / 2 - (box.top + box.height / 2);
    apply();
  }

  function zoomAt(factor, cx, cy) {
    var scale = Math.max(0.05, Math.min(8, view.scale * factor));
    view.x = cx - (cx - view.x) * scale / view.scale;
    view.y = cy - (cy - view.y) * scale / view.scale;
    view.scale = scale;
    apply();
  }

  // Bring the current node into the window (centre it when `always`).
  function follow(always) {
    var name = steps[current].node;
    var element = name === null ? null : nodeElement(name);
    if (!element) { return; }
    var box = element.getBoundingClientRect();
    var port = viewport.getBoundingClientRect();
    var inside = box.left >= port.left && box.right <= port.right &&
      box.top >= port.top && box.bottom <= port.bottom;
    if (inside && !always) { return; }
    centre(element);
  }

  viewport.addEventListener("wheel", function (event) {
    event.preventDefault();
    var port = viewport.getBoundingClientRect();
    zoomAt(event.deltaY < 0 ? 1.15 : 1 / 1.15, event.clientX - port.left, event.clientY - port.top);
  }, {passive: false});

  var drag = null;
  viewport.addEventListener("pointerdown", function (event) {
    drag = {x: event.clientX, y: event.clientY, vx: view.x, vy: view.y, moved: false};
  });
  window.addEventListener("pointermove", function (event) {
    if (!drag) { return; }
    var dx = event.clientX - drag.x, dy = event.clientY - drag.y;
    if (Math.abs(dx) + Math.abs(dy) > 3) { drag.moved = true; }
    view.x = drag.vx + dx;
    view.y = drag.vy + dy;
    apply();
  });
  window.addEventListener("pointerup", function () {
    if (drag && drag.moved) { viewport.classList.add("bn-dragged"); }
    drag = null;
  });
  viewport.addEventListener("click", function (event) {
    if (viewport.classList.contains("bn-dragged")) {
      viewport.classList.remove("bn-dragged");
      return;
    }
    var stage = event.target.closest("[data-stage]");
    if (stage) { openBox(data.boxes.indexOf(stage.getAttribute("data-stage"))); }
  });

  // ------------------------------------------------------------ steps

  function nodeElement(name) {
    var inside = shown.svg.querySelectorAll("[data-node]");
    for (var k = 0; k < inside.length; k++) {
      if (inside[k].getAttribute("data-node") === name) { return inside[k]; }
    }
    if (data.boxOf) {
      var box = data.boxes[data.boxOf[index[name]]];
      var boxes = shown.svg.querySelectorAll("[data-stage]");
      for (var j = 0; j < boxes.length; j++) {
        if (boxes[j].getAttribute("data-stage") === box) { return boxes[j]; }
      }
    }
    return null;
  }

  function toggle(element, name, on) {
    if (on) { element.classList.add(name); } else { element.classList.remove(name); }
  }

  function known(at) { return at !== null && at !== undefined && current >= at; }

  function paint() {
    var step = steps[current];
    var svg = shown.svg;
    svg.querySelectorAll("[data-node]").forEach(function (element) {
      var k = index[element.getAttribute("data-node")];
      toggle(element, "bn-current", step.node === data.nodes[k]);
      toggle(element, "bn-pending", !known(data.valueAt[k]));
      element.querySelectorAll(".bn-value").forEach(function (row) {
        toggle(row, "bn-hidden", !known(data.valueAt[k]));
      });
      element.querySelectorAll(".bn-grad").forEach(function (row) {
        toggle(row, "bn-hidden", !known(data.gradAt[k]));
      });
    });
    svg.querySelectorAll("[data-edge]").forEach(function (element) {
      var kind = element.getAttribute("data-edge");
      var at;
      if (kind === "forward") {
        at = data.valueAt[index[element.getAttribute("data-consumer")]];
        toggle(element, "bn-pending", !known(at));
        return;
      }
      if (kind === "backward") {
        at = data.edgeAt[index[element.getAttribute("data-consumer")] + "_" +
          element.getAttribute("data-position")];
      } else if (kind === "sum") {
        at = data.gradAt[index[element.getAttribute("data-of")]];
      } else {
        at = data.firstBackward;
      }
      toggle(element, "bn-hidden", !known(at));
      toggle(element, "bn-fresh", at === current);
    });
    svg.querySelectorAll("[data-sum]").forEach(function (element) {
      toggle(element, "bn-hidden", !known(data.sumAt[index[element.getAttribute("data-sum")]]));
    });
    svg.querySelectorAll("[data-seed]").forEach(function (element) {
      toggle(element, "bn-hidden", !known(data.firstBackward));
    });
    svg.querySelectorAll("[data-stage]").forEach(function (element) {
      var box = data.boxes.indexOf(element.getAttribute("data-stage"));
      var here = step.node !== null && data.boxes[data.boxOf[index[step.node]]] === data.boxes[box];
      toggle(element, "bn-current", here);
      toggle(element, "bn-pending", current < data.boxStart[box]);
    });
  }

  function go(k) {
    current = Math.max(0, Math.min(last, k));
    var step = steps[current];
    slider.value = String(current);
    document.getElementById("counter").textContent = "step " + current + " of " + last;
    document.getElementById("phase").textContent = step.phase;
    document.getElementById("node").textContent = step.node === null ? "" : step.node;
    document.getElementById("caption").textContent = step.caption;
    document.getElementById("prev").disabled = current === 0;
    document.getElementById("next").disabled = current === last;
    paint();
    follow(false);
  }

  document.getElementById("prev").addEventListener("click", function () { go(current - 1); });
  document.getElementById("next").addEventListener("click", function () { go(current + 1); });
  document.getElementById("fit").addEventListener("click", fit);
  document.getElementById("overview").addEventListener("click", function () {
    show(data.main, null);
  });
  slider.addEventListener("input", function () { go(parseInt(slider.value, 10)); });
  document.addEventListener("keydown", function (event) {
    var keys = {ArrowLeft: current - 1, ArrowRight: current + 1, Home: 0, End: last};
    if (event.key in keys) {
      event.preventDefault();
      go(keys[event.key]);
    }
  });

  // ------------------------------------------------------------ hovering

  viewport.addEventListener("mouseover", function (event) {
    var node = event.target.closest("[data-node]");
    var stage = event.target.closest("[data-stage]");
    if (node) {
      details.textContent = data.details[index[node.getAttribute("data-node")]];
    } else if (stage) {
      details.textContent = data.boxDetails[data.boxes.indexOf(stage.getAttribute("data-stage"))];
    } else {
      return;
    }
    details.hidden = false;
  });

  // index.html#step=12 opens at step 12
  var asked = /^#step=(\d+)$/.exec(window.location.hash);
  show(data.main, null);
  go(asked ? parseInt(asked[1], 10) : 0);
  if (asked) { home(); }
})();
