// Live tracking: while a campaign sends, swap in a fresh copy of the parts marked data-live
// every few seconds (the page's <noscript> meta refresh does the same without script).
(function () {
  var live = document.querySelector("[data-live]");
  if (!live || !live.hasAttribute("data-live-on")) return;
  var url = live.getAttribute("data-live");
  var timer = setInterval(function () {
    fetch(url, { credentials: "same-origin", headers: { "Accept": "text/html" } })
      .then(function (r) { return r.ok ? r.text() : Promise.reject(r.status); })
      .then(function (html) {
        var next = new DOMParser().parseFromString(html, "text/html").querySelector("[data-live]");
        if (!next) return;
        live.replaceWith(next);
        live = next;
        // Finished: reload once, so that the state and the actions above show it too.
        if (!next.hasAttribute("data-live-on")) { clearInterval(timer); location.replace(location.pathname); }
      })
      .catch(function () { /* keep the last numbers; the next tick tries again */ });
  }, 2000);
})();
