/* Admin pages: the hall picker in the top bar opens the chosen hall's page. */
(function () {
  "use strict";
  var picker = document.getElementById("hall-picker");
  if (picker) {
    picker.addEventListener("change", function () { window.location.href = picker.value; });
  }
})();
