/* The survey page's only script (a static file: the Content-Security-Policy allows
   no inline script). The page works without it.

   1. A one-click answer from the email (/s/<token>?fcr=no) arrives chosen but not
      saved (a GET records nothing: mail scanners follow links). This sends the form
      as it stands, the same CSRF-protected POST as the Send button but asking for
      JSON, and the notice then says "Saved". Sending again updates the same answer.
   2. The progress bar counts the questions answered so far. */
(function () {
  "use strict";
  var form = document.getElementById("survey-form");
  if (!form) {
    return;
  }

  function answered(question) {
    var inputs = question.querySelectorAll("input, textarea");
    for (var i = 0; i < inputs.length; i += 1) {
      var input = inputs[i];
      var choosable = input.type === "radio" || input.type === "checkbox";
      if (choosable ? input.checked : input.value.trim() !== "") {
        return true;
      }
    }
    return false;
  }

  var bar = document.getElementById("progress-bar");
  var barText = document.getElementById("progress-text");
  function showProgress() {
    var questions = form.querySelectorAll("[data-countable]");
    var count = 0;
    for (var i = 0; i < questions.length; i += 1) {
      if (answered(questions[i])) {
        count += 1;
      }
    }
    if (bar && barText) {
      bar.value = count;
      barText.textContent = barText.getAttribute("data-template").replace("{n}", String(count));
    }
  }
  form.addEventListener("input", showProgress);
  form.addEventListener("change", showProgress);

  var notice = document.getElementById("one-click");
  if (!notice || !window.fetch) {
    return;
  }
  var message = document.getElementById("one-click-message");
  var button = document.getElementById("one-click-save");
  function say(state) {
    message.textContent = notice.getAttribute("data-" + state);
  }
  say("saving");
  fetch(form.action, {
    method: "POST",
    body: new URLSearchParams(new FormData(form)),
    headers: { Accept: "application/json" },
    credentials: "same-origin"
  })
    .then(function (response) {
      return response.ok ? response.json() : { saved: false };
    })
    .then(function (result) {
      if (!result || result.saved !== true) {
        say("unsaved");
        return;
      }
      say("saved");
      notice.classList.add("saved");
      button.hidden = true;
      // A reload shows the saved answers instead of sending the link's answer again.
      if (window.history && window.history.replaceState) {
        window.history.replaceState(null, "", window.location.pathname);
      }
    })
    .catch(function () {
      say("unsaved");
    });
})();
