/* My appointment: when, the check-in window, the ticket once checked in, and cancelling. */
(function () {
  "use strict";
  var H = window.Hall, data = H.data, t = H.t;
  var a = data.appointment;

  function render() {
    var pill = document.getElementById("a-status");
    pill.dataset.status = a.status;
    pill.textContent = t("statuses." + a.status);
    document.getElementById("appointment").dataset.status = a.status;
    document.getElementById("a-slot").textContent = a.date + " " + H.clock(a.start) + "–" + H.clock(a.end);
    document.getElementById("a-window").textContent = H.clock(a.check_in_opens) + "–" + H.clock(a.check_in_closes);
    document.getElementById("a-cancel-until").textContent = H.clock(a.cancel_until, true);
    var cancellable = a.status === "booked" && Date.now() <= new Date(a.cancel_until).getTime();
    H.show(document.getElementById("a-cancel"), cancellable);
    H.show(document.getElementById("a-cancel-row"), a.status === "booked");
    H.show(document.getElementById("a-note"), a.status === "booked");
    var link = document.getElementById("a-ticket");
    H.show(link, Boolean(a.ticket_id));
    if (a.ticket_id) link.href = data.ticket_page.replace("TICKET_ID", a.ticket_id);
  }

  var box = document.getElementById("cancel-confirm");
  document.getElementById("a-cancel").addEventListener("click", function () { H.openOverlay(box); });
  box.addEventListener("click", function (event) {
    var button = event.target.closest("[data-action]");
    if (!button) return;
    if (button.dataset.action === "keep") H.closeOverlay(box);
    if (button.dataset.action === "confirm-cancel") {
      button.disabled = true;
      H.api("DELETE", data.appointment_url).then(function (fresh) {
        a = Object.assign(a, fresh);
        H.closeOverlay(box); render(); H.toast(t("cancel_ok"), "success");
      }, function (error) { H.closeOverlay(box); H.apiError(error); })
        .then(function () { button.disabled = false; });
    }
  });
  render();
})();
