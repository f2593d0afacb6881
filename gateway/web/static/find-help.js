// Find help, progressive enhancement only: the page works without this file.
// "Use my position" fills the hidden latitude/longitude fields (the browser
// asks the person first) and submits the search; the map of the results is
// drawn with Leaflet (served by the node) when the node has map tiles, from the
// public points the server put in data-points (never a confidential place).
(function () {
  "use strict";
  function locate(form) {
    var box = form.querySelector(".locate");
    var button = form.querySelector("[data-locate]");
    if (!box || !button || !("geolocation" in navigator)) { return; }
    var status = form.querySelector("[data-locate-status]");
    box.hidden = false;
    button.addEventListener("click", function () {
      status.textContent = button.getAttribute("data-locating");
      navigator.geolocation.getCurrentPosition(function (where) {
        var lat = form.querySelector("[data-near='latitude']");
        var lon = form.querySelector("[data-near='longitude']");
        lat.value = String(where.coords.latitude.toFixed(5));
        lon.value = String(where.coords.longitude.toFixed(5));
        lat.disabled = false;
        lon.disabled = false;
        var named = form.querySelector("#f-near");
        if (named) { named.value = ""; }
        form.submit();
      }, function () {
        status.textContent = button.getAttribute("data-refused");
      }, {timeout: 10000, maximumAge: 600000});
    });
  }
  function draw(box) {
    if (typeof window.L === "undefined") { return; }
    var points = [];
    try { points = JSON.parse(box.getAttribute("data-points") || "[]"); } catch (e) { points = []; }
    if (!points.length) { box.parentNode.hidden = true; return; }
    var map = window.L.map(box, {scrollWheelZoom: false});
    window.L.tileLayer(box.getAttribute("data-tiles"), {
      attribution: box.getAttribute("data-attribution") || "",
      maxZoom: 18
    }).addTo(map);
    var bounds = [];
    points.forEach(function (p) {
      var link = document.createElement("a");
      link.href = p.url;
      link.textContent = p.name;
      window.L.marker([p.lat, p.lon], {title: p.name, alt: p.name, keyboard: true})
        .bindPopup(link).addTo(map);
      bounds.push([p.lat, p.lon]);
    });
    map.fitBounds(bounds, {maxZoom: 13, padding: [24, 24]});
    box.setAttribute("data-drawn", String(points.length));
  }
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("form.search").forEach(locate);
    var box = document.getElementById("results-map");
    if (box) { draw(box); }
  });
})();
