// The campaign page while a send runs on the worker: follow the job's progress, then
// reload the page to show the new figures. Without script, the page says to reload.
// Every word comes from the page (data- attributes rendered in the user's language):
// data-running, data-done, data-failed, and data-count with {done} and {total}.
(function () {
  "use strict";
  var box = document.getElementById("job-progress");
  if (!box) return;
  var bar = box.querySelector("progress");
  var label = box.querySelector(".job-label");
  var count = box.querySelector(".job-count");
  var words = box.dataset;
  function show(state) {
    if (state.state === "running") label.textContent = words.running;
    if (state.total > 0) {
      bar.max = state.total;
      bar.value = Math.min(state.done, state.total);
      count.textContent = words.count
        .replace("{done}", String(state.done))
        .replace("{total}", String(state.total));
    }
  }
  function poll() {
    fetch(box.dataset.url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) { return response.json(); })
      .then(function (state) {
        show(state);
        if (state.over) {
          label.textContent =
            state.state === "finished" ? words.done : words.failed + (state.message ? ": " + state.message : "");
          var url = new URL(window.location.href);
          url.searchParams.delete("job");
          if (state.state === "finished") window.location.replace(url.toString());
          return;
        }
        window.setTimeout(poll, 1000);
      })
      .catch(function () { window.setTimeout(poll, 3000); });
  }
  poll();
})();
