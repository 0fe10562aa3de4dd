// Telegram's login sends its signed result back in the address's fragment
// (#tgAuthResult=...), which browsers never send to a server. This reads it, clears it
// from the address bar and posts it to this site, which checks Telegram's signature before
// believing anything in it. With the result in the query instead (a bot's login button),
// the page's form already holds it and is posted as it is.
(function () {
  "use strict";
  var form = document.getElementById("tg-login");
  if (!form) { return; }
  var found = /(?:^#|&)tgAuthResult=([^&]*)/.exec(window.location.hash);
  if (found) {
    form.elements.namedItem("tg_auth_result").value = found[1];
    window.history.replaceState(null, "", window.location.pathname);
    form.submit();
  } else if (form.getAttribute("data-ready") === "1") {
    form.submit();
  }
})();
