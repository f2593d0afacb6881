// Progressive enhancement of the deliberation pages (the pages work without it):
// - the amendment form previews the motion as it would read, as you type, with
//   the same rules as the server (words found once in the text; words added
//   after a word get a space);
// - a turn of speech with a time limit counts down (the live part itself is
//   refreshed by boards.js, so the countdown looks for its element each second).
(function () {
  "use strict";

  function texts() {
    var box = document.getElementById("textes");
    if (!box) { return null; }
    var c = null;
    if (box.hasAttribute("data-op")) {
      c = {op: box.getAttribute("data-op"), start: +box.getAttribute("data-start"),
           end: +box.getAttribute("data-end")};
    }
    return {main: box.getAttribute("data-main") || "",
            amendment: box.getAttribute("data-amendment") || "", change: c};
  }

  function spaced(base, at, text) {
    if (text && at > 0 && !/\s/.test(base.charAt(at - 1)) && !/^[\s,.;:)]/.test(text)) {
      return " " + text;
    }
    return text;
  }

  // {op, start, end, text} from the form, or a string saying what is wrong
  function change(op, words, text, base) {
    if (op === "full") { return {op: "full", start: 0, end: 0, text: text}; }
    if (op === "insert" && !words) {
      return {op: "insert", start: base.length, end: base.length,
              text: spaced(base, base.length, text)};
    }
    var first = words ? base.indexOf(words) : -1;
    if (first < 0) { return "missing"; }
    if (base.indexOf(words, first + 1) >= 0) { return "twice"; }
    var end = first + words.length;
    if (op === "insert") { return {op: "insert", start: end, end: end, text: spaced(base, end, text)}; }
    if (op === "delete") { return {op: "delete", start: first, end: end, text: ""}; }
    return {op: "replace", start: first, end: end, text: text};
  }

  function apply(c, base) {
    if (c.op === "full") { return c.text; }
    if (c.op === "insert") { return base.slice(0, c.start) + c.text + base.slice(c.start); }
    if (c.op === "delete") { return base.slice(0, c.start) + base.slice(c.end); }
    return base.slice(0, c.start) + c.text + base.slice(c.end);
  }

  function segments(c, base) {
    if (c.op === "full") { return ["", "", c.text, ""]; }
    var end = c.op === "insert" ? c.start : c.end;
    return [base.slice(0, c.start), base.slice(c.start, end),
            c.op === "delete" ? "" : c.text, base.slice(end)];
  }

  function preview(form) {
    var out = form.querySelector("#apercu");
    var data = texts();
    if (!out || !data) { return; }
    var level = (form.querySelector("input[name=niveau]:checked") || {}).value;
    var op = (form.querySelector("input[name=op]:checked") || {}).value;
    var words = form.querySelector("[name=mots]").value.trim();
    var text = form.querySelector("[name=texte]").value.trim();
    var sub = level === "sous-amendement";
    var base = sub ? data.amendment : data.main;
    var label = out.querySelector(".label");
    var box = document.createElement("div");
    var hide = (!text && op !== "delete") || (sub && !data.change);
    var c = hide ? null : change(op, words, text, base);
    if (typeof c === "string") {
      var p = document.createElement("p");
      p.className = "notice error";
      p.textContent = form.getAttribute(c === "missing" ? "data-missing" : "data-twice") || "";
      box.appendChild(p);
    } else if (c) {
      if (sub) { c = {op: data.change.op, start: data.change.start, end: data.change.end, text: apply(c, base)}; }
      var parts = segments(c, data.main);
      var quote = document.createElement("blockquote");
      quote.className = "motion-text";
      quote.appendChild(document.createTextNode(parts[0]));
      if (parts[1]) { var d = document.createElement("del"); d.textContent = parts[1]; quote.appendChild(d); }
      if (parts[2]) { var i = document.createElement("ins"); i.textContent = parts[2]; quote.appendChild(i); }
      quote.appendChild(document.createTextNode(parts[3]));
      box.appendChild(quote);
    }
    // the same preview is left alone: rebuilding it would move the buttons
    // under a finger or a pointer on its way to them
    var html = (label ? label.outerHTML : "") + box.innerHTML;
    if (out.innerHTML.trim() !== html) { out.innerHTML = html; }
    out.hidden = hide;
  }

  function countdown() {
    document.querySelectorAll("[data-ends-at]").forEach(function (el) {
      var ends = Date.parse(el.getAttribute("data-ends-at"));
      if (isNaN(ends)) { return; }
      var left = Math.round((ends - Date.now()) / 1000);
      var sign = left < 0 ? "−" : "";
      var n = Math.abs(left);
      el.textContent = sign + Math.floor(n / 60) + ":" + ("0" + (n % 60)).slice(-2);
      el.classList.toggle("over", left < 0);
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var form = document.getElementById("amender");
    if (form) {
      form.addEventListener("input", function () { preview(form); });
      preview(form);
    }
    countdown();
    window.setInterval(countdown, 1000);
  });
})();
