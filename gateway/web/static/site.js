// Progressive enhancement only: every page works without this file.
// The budget basket shows what remains while projects are ticked; the server
// computes the same on "Recalculate" and checks it again when the ballot is cast.
(function () {
  "use strict";
  function money(text) { var n = Number(text); return isFinite(n) ? n : 0; }
  function basket(form) {
    var box = form.querySelector("#basket");
    if (!box) { return; }
    var budget = money(box.getAttribute("data-budget"));
    var update = function () {
      var spent = 0;
      form.querySelectorAll('input[name="project"]:checked').forEach(function (input) {
        spent += money(input.getAttribute("data-cost"));
      });
      box.querySelector("[data-spent]").textContent = String(spent);
      box.querySelector("[data-remaining]").textContent = String(budget - spent);
      box.querySelector("[data-over]").hidden = spent <= budget;
    };
    form.addEventListener("change", update);
  }
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("form.ballot[data-kind='budget']").forEach(basket);
  });
})();
