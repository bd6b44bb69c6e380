// Progressive enhancement only: every form works without this file.
"use strict";

// Search as you type: refresh the contacts table from the server's own page.
document.querySelectorAll("input[data-live-search]").forEach((input) => {
  const target = document.getElementById(input.dataset.liveSearch);
  const form = input.form;
  if (!target || !form) return;
  let timer = null;
  let seq = 0;
  input.addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(async () => {
      const mine = ++seq;
      const url = new URL(form.action, location.href);
      url.searchParams.set("q", input.value);
      url.searchParams.set("partial", "1");
      try {
        const r = await fetch(url, { credentials: "same-origin" });
        if (r.ok && mine === seq) {
          target.innerHTML = await r.text(); // server-rendered and escaped
          history.replaceState(null, "", "?q=" + encodeURIComponent(input.value));
        }
      } catch (_) { /* the Search button still works */ }
    }, 200);
  });
});

// Upload progress for imports; the server's result page replaces this one.
document.querySelectorAll("form[data-upload-progress]").forEach((form) => {
  const bar = form.querySelector("progress");
  form.addEventListener("submit", (ev) => {
    if (!window.XMLHttpRequest || !bar) return;
    ev.preventDefault();
    const xhr = new XMLHttpRequest();
    xhr.open("POST", form.action);
    bar.hidden = false;
    xhr.upload.addEventListener("progress", (e) => {
      if (e.lengthComputable) bar.value = Math.round((e.loaded / e.total) * 100);
    });
    xhr.addEventListener("load", () => {
      document.open();
      document.write(xhr.responseText);
      document.close();
    });
    xhr.addEventListener("error", () => form.submit());
    xhr.send(new FormData(form));
  });
});
