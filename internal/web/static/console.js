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

// Upload progress: send the list with XMLHttpRequest to show how much has gone, then follow
// the server's answer (the import's report) as the plain form would. Without script, or if
// anything here fails, the form submits as usual.
(function () {
  var form = document.querySelector("form[data-upload]");
  if (!form || !window.XMLHttpRequest || !window.FormData) return;
  form.addEventListener("submit", function (ev) {
    var box = document.getElementById("upload-progress");
    var bar = box.querySelector("progress"), label = box.querySelector("span");
    var xhr = new XMLHttpRequest();
    ev.preventDefault();
    box.hidden = false;
    form.querySelector("button").disabled = true;
    xhr.upload.onprogress = function (e) {
      if (!e.lengthComputable) return;
      bar.value = Math.floor(100 * e.loaded / e.total);
      label.textContent = bar.value + "% sent";
    };
    xhr.upload.onload = function () { bar.removeAttribute("value"); label.textContent = "Sent; importing and checking every row…"; };
    xhr.onload = function () {
      // The report page after a redirect, or the page that explains what went wrong.
      if (xhr.responseURL && xhr.responseURL !== location.href && xhr.status < 400) { location.assign(xhr.responseURL); return; }
      document.open(); document.write(xhr.responseText); document.close();
    };
    xhr.onerror = function () { form.submit(); };
    xhr.open("POST", form.action);
    xhr.send(new FormData(form));
  });
})();
