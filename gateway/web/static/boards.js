// Progressive enhancement only: a meeting page works with reloads alone.
// The live part (quorum, motions, tallies, results) is fetched as JSON every
// two seconds and swapped in when its version changes; the focus stays put
// when it was outside the part, and returns to the same control inside it.
(function () {
  "use strict";
  function follow(box) {
    var url = box.getAttribute("data-live");
    var busy = false;
    function tick() {
      if (busy || document.hidden) { return; }
      busy = true;
      fetch(url, {credentials: "same-origin", headers: {"Accept": "application/json"}})
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (state) {
          busy = false;
          if (!state || state.version === box.getAttribute("data-version")) { return; }
          var active = document.activeElement;
          var key = active && box.contains(active) && active.getAttribute("value");
          box.innerHTML = state.html;
          box.setAttribute("data-version", state.version);
          if (key) {
            var again = box.querySelector('button[value="' + key + '"]');
            if (again) { again.focus(); }
          }
        })
        .catch(function () { busy = false; });
    }
    window.setInterval(tick, 2000);
  }
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-live]").forEach(follow);
  });
})();
