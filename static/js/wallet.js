// The card page's live clock: a screenshot shows a frozen time, the real page a ticking one.
(function () {
  "use strict";
  function pad(n) { return (n < 10 ? "0" : "") + n; }
  function tick() {
    var now = new Date(Date.now() + 8 * 3600 * 1000); // China time, whatever the phone's zone
    var text = now.getUTCFullYear() + "-" + pad(now.getUTCMonth() + 1) + "-" + pad(now.getUTCDate()) +
      " " + pad(now.getUTCHours()) + ":" + pad(now.getUTCMinutes()) + ":" + pad(now.getUTCSeconds());
    var clocks = document.querySelectorAll("[data-live-clock]");
    for (var i = 0; i < clocks.length; i++) { clocks[i].textContent = text; }
  }
  document.addEventListener("DOMContentLoaded", function () { tick(); setInterval(tick, 1000); });
})();
