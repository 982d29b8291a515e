// Lianxin console: a second click never submits twice (the form's Idempotency-Key makes the server agree),
// and a slow answer shows a notice after 300 ms. Pages work without this script.
(function () {
  "use strict";
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (form.dataset.sent === "1") { event.preventDefault(); return; }
    form.dataset.sent = "1";
    var buttons = form.querySelectorAll("button[type=submit]");
    for (var i = 0; i < buttons.length; i++) { buttons[i].disabled = true; }
    var busy = document.getElementById("busy");
    if (busy) { setTimeout(function () { busy.hidden = false; }, 300); }
  });
  window.addEventListener("pageshow", function (event) {
    if (!event.persisted) { return; }
    var forms = document.querySelectorAll("form");
    for (var i = 0; i < forms.length; i++) {
      forms[i].dataset.sent = "";
      var buttons = forms[i].querySelectorAll("button[type=submit]");
      for (var j = 0; j < buttons.length; j++) { buttons[j].disabled = false; }
    }
    var busy = document.getElementById("busy");
    if (busy) { busy.hidden = true; }
  });
  // The projector page: reloaded each minute so that the attendance code it shows follows its rotation.
  var reload = document.querySelector("main[data-reload]");
  if (reload) { setTimeout(function () { window.location.reload(); }, Number(reload.dataset.reload) * 1000); }
}());
