/* madoguchi — question pages, a little faster with JavaScript. Everything here also works
   without it: the server does the same on a round trip, and decides everything that counts.

   - When a page comes back with problems, focus moves to their summary.
   - A long text shows how many characters are left as you type.
   - "Find address" asks the postal-code API and fills the address without reloading the page;
     when that fails, the button's own round trip to the server takes over. */
(function () {
  "use strict";

  function characterCounts() {
    document.querySelectorAll("[data-character-count]").forEach(function (field) {
      var box = field.querySelector("textarea");
      var count = field.querySelector(".character-count");
      if (!box || !count) return;
      var most = parseInt(box.getAttribute("maxlength"), 10);
      if (!most) return;
      // Let people paste a little over the limit and see by how much, rather than cut it off.
      box.removeAttribute("maxlength");
      count.setAttribute("aria-live", "polite");
      function update() {
        var left = most - Array.from(box.value).length;
        var template = left >= 0 ? count.dataset.left : count.dataset.over;
        count.textContent = template.replace("{n}", String(Math.abs(left)));
        count.classList.toggle("character-count-over", left < 0);
      }
      box.addEventListener("input", update);
      update();
    });
  }

  function postalLookups() {
    document.querySelectorAll("[data-postal-lookup]").forEach(function (lookup) {
      var button = lookup.querySelector("[data-find-address]");
      if (!button) return;
      button.addEventListener("click", function (event) {
        var name = button.value.replace(/^find-address:/, "");
        var code = fieldOf(name, "postal_code");
        var digits = toHalfWidth(code ? code.value : "").replace(/[^0-9]/g, "");
        if (digits.length !== 7 || !window.fetch) return; // the server explains what is wrong
        event.preventDefault();
        fetch("/api/v1/postal-codes/" + digits, { headers: { Accept: "application/json" } })
          .then(function (response) {
            if (!response.ok) throw new Error("not found");
            return response.json();
          })
          .then(function (found) {
            fill(name, found);
            announce(lookup, lookup.dataset.found);
            var street = fieldOf(name, "street");
            if (street) street.focus();
          })
          .catch(function () {
            submitWith(button); // the round trip shows the server's message
          });
      });
    });
  }

  function fieldOf(name, part) {
    return document.getElementById(name + "." + part);
  }

  function fill(name, found) {
    var first = found.towns[0];
    var towns = Array.from(new Set(found.towns.map(function (t) { return t.town; }).filter(Boolean)));
    var code = found.postal_code;
    set(name, "postal_code", code.slice(0, 3) + "-" + code.slice(3));
    set(name, "prefecture", first.prefecture.name);
    set(name, "municipality", first.municipality.name + (first.ward ? first.ward.name : ""));
    var town = fieldOf(name, "town");
    if (town && (towns.length === 1 || towns.indexOf(town.value) < 0)) {
      town.value = towns.length === 1 ? towns[0] : "";
    }
  }

  function set(name, part, value) {
    var box = fieldOf(name, part);
    if (box) box.value = value;
  }

  function announce(lookup, message) {
    var status = lookup.querySelector("[data-lookup-status]");
    if (status && message) status.textContent = message;
  }

  function submitWith(button) {
    var form = button.form;
    if (form && form.requestSubmit) {
      form.requestSubmit(button);
    } else if (form) {
      var action = document.createElement("input");
      action.type = "hidden";
      action.name = button.name;
      action.value = button.value;
      form.appendChild(action);
      form.submit();
    }
  }

  function toHalfWidth(text) {
    return text.replace(/[０-９]/g, function (digit) {
      return String.fromCharCode(digit.charCodeAt(0) - 0xfee0);
    });
  }

  function focusErrorSummary() {
    var summary = document.querySelector(".error-summary");
    if (!summary) return;
    summary.setAttribute("tabindex", "-1");
    summary.focus();
  }

  focusErrorSummary();
  characterCounts();
  postalLookups();
})();
